import logging
from collections import defaultdict
from datetime import timedelta

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools.translate import LazyTranslate

from octopia import wire
from octopia.errors import OctopiaError

from .. import compat
from . import refusal_codes
from .cdiscount_selections import DOCUMENT_FORMATS, STATE_BY_STATUS

_logger = logging.getLogger(__name__)

UPLOAD_STATES = [
    ("running", "Processing"),
    ("unknown", "Outcome unknown"),
    ("success", "Accepted"),
    ("failure", "Refused"),
    ("error", "Not sent"),
]

_lt = LazyTranslate(__name__)


class CdiscountUpload(models.Model):
    """One upload of one invoice: the history line, and the file result of its import."""

    _name = "cdiscount.upload"
    _inherit = ["cdiscount.history.mixin"]
    _description = "Cdiscount Invoice Upload"
    _order = "id desc"
    _rec_name = "file_name"
    _cdiscount_write_refusal = _lt(
        "The Cdiscount upload history is written by Cdiscount Invoice Upload only: send, "
        "replace or check the invoice instead."
    )
    _cdiscount_delete_refusal = _lt(
        "Only a settings administrator may delete the Cdiscount upload history."
    )

    move_id = fields.Many2one(
        "account.move",
        string="Invoice",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
    )
    order_id = fields.Many2one("sale.order", readonly=True, index=True)
    order_ref = fields.Char(string="Cdiscount Order ID", readonly=True, index=True)
    account_id = fields.Many2one("cdiscount.account", readonly=True, ondelete="restrict")
    company_id = fields.Many2one(related="move_id.company_id", store=True, index=True)
    import_id = fields.Many2one("cdiscount.import", readonly=True, index=True, ondelete="set null")
    file_name = fields.Char(readonly=True)
    document_format = fields.Selection(DOCUMENT_FORMATS, string="Format", readonly=True)
    queue_id = fields.Many2one(
        "cdiscount.queue", readonly=True, index="btree_not_null", ondelete="set null"
    )
    attachment_id = fields.Many2one(
        "ir.attachment", string="Sent File", readonly=True, index="btree_not_null"
    )
    checksum = fields.Char(string="SHA-256", readonly=True)
    user_id = fields.Many2one("res.users", readonly=True, default=lambda self: self.env.user)
    state = fields.Selection(UPLOAD_STATES, required=True, readonly=True, index=True)
    file_status = fields.Char(readonly=True, help="The file status as Cdiscount wrote it.")
    integration_status = fields.Char(
        string="Step Reached",
        readonly=True,
        help="How far Cdiscount got: order check, file check, then integration.",
    )
    error_message = fields.Text(string="Error", readonly=True)
    error_code = fields.Char(readonly=True, help="Cdiscount's code for the refusal, as sent.")
    error_explanation = fields.Char(
        string="What To Do", compute="_compute_error_explanation", compute_sudo=True
    )
    message_id = fields.Many2one(
        "mail.message",
        string="Chatter Note",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        copy=False,
        help="The note of the invoice's chatter that says this file was sent; Cdiscount's "
        "answer is added to it.",
    )

    @api.depends("error_code", "state")
    def _compute_error_explanation(self):
        for upload in self:
            refused = upload.state == "failure"
            upload.error_explanation = refused and refusal_codes.explain(
                self.env, upload.error_code
            )

    # --- write-ahead: recorded and committed before the request leaves ----------------
    @api.model
    def _cdiscount_record_pending(self, account, moves_files):
        """History lines (and sent files) written, committed and locked BEFORE the upload:
        whatever happens to this transaction once the request has left, the invoices show
        "Outcome unknown" and are reconciled, never uploaded a second time."""
        description = _("Sent to Cdiscount")
        attachments = self.env["ir.attachment"].create(
            [
                {
                    "name": file.file_name,
                    "raw": file.read(),
                    "mimetype": file.mime,
                    "res_model": "account.move",
                    "res_id": move.id,
                    "description": description,
                }
                for move, file in moves_files
            ]
        )
        pending = _("Being sent to Cdiscount.")
        return (
            self.sudo()
            .create(
                [
                    {
                        "move_id": move.id,
                        "order_id": move.cdiscount_order_id.id,
                        "order_ref": file.order_id,
                        "account_id": account.id,
                        "file_name": file.file_name,
                        "document_format": "pdf" if file.kind == "pdf" else "ubl",
                        "attachment_id": attachment.id,
                        "checksum": file.sha256,
                        "state": "unknown",
                        "error_message": pending,
                    }
                    for (move, file), attachment in zip(moves_files, attachments, strict=True)
                ]
            )
            .sudo(False)
        )

    def _cdiscount_hold(self):
        """Lock these lines while their request is in flight (the reconciliation skips them)."""
        self.env.cr.execute(
            "SELECT id FROM cdiscount_upload WHERE id IN %s FOR UPDATE", [tuple(self.ids)]
        )

    def _cdiscount_accepted(self, import_record):
        self.sudo().write(
            {"import_id": import_record.id, "state": "running", "error_message": False}
        )
        self._cdiscount_post_sent_message()

    def _cdiscount_lost(self, reason):
        self.sudo().write({"error_message": reason})
        self._cdiscount_post_sent_message()

    def _cdiscount_not_sent(self, reason):
        """Cdiscount certainly did not take these files: kept in the history as "Not sent"."""
        self.sudo().write({"state": "error", "error_message": reason})
        note = _("Not sent to Cdiscount: %(reason)s", reason=reason)
        log_notes(self.move_id, dict.fromkeys(self.move_id.ids, note))

    def _cdiscount_discard(self, requeue=False):
        """Cdiscount certainly did not take these files, and the caller reports it itself.
        `requeue`: their queue entries wait again, as they were queued."""
        attachments = self.sudo().attachment_id
        self.sudo().with_context(cdiscount_requeue=requeue).unlink()
        attachments.unlink()

    def unlink(self):
        # An upload deleted with the history was sent: its queue entry goes too, so that the
        # invoice never waits in the queue again by itself. Only a requeued discard frees it.
        entries = self.queue_id if not self.env.context.get("cdiscount_requeue") else None
        result = super().unlink()
        if entries:
            entries.filtered(lambda entry: not entry.upload_ids).sudo().unlink()
        return result

    @api.model
    def _cdiscount_record_error(self, move, account, message):
        """An upload that did not reach Cdiscount: kept in the history, the invoice can be
        sent again once corrected."""
        upload = (
            self.sudo()
            .create(
                {
                    "move_id": move.id,
                    "order_id": move.cdiscount_order_id.id,
                    "order_ref": move.cdiscount_order_ref,
                    "account_id": account.id,
                    "state": "error",
                    "error_message": message,
                }
            )
            .sudo(False)
        )
        log_note(move, _("Not sent to Cdiscount: %(reason)s", reason=message))
        return upload

    @api.model_create_multi
    def create(self, vals_list):
        # EXTENDS cdiscount.history.mixin (which refuses it without sudo)
        # A queued invoice is no longer waiting once its upload exists: the upload points to
        # its queue entry (discarded, the upload frees the entry: it waits again).
        moves = self.env["account.move"].browse({vals["move_id"] for vals in vals_list})
        entry_of = {entry.move_id.id: entry.id for entry in moves._cdiscount_waiting()}
        for vals in vals_list:
            vals.setdefault("queue_id", entry_of.get(vals["move_id"], False))
        return super().create(vals_list)

    def _cdiscount_post_sent_message(self):
        """One note per upload on its invoice, and the same on its order: two batches. The
        invoice's note is the upload's: Cdiscount's answer is added to it."""
        bodies = {upload: upload._cdiscount_sent_text() for upload in self}
        notes = self._cdiscount_log(bodies, attach=len(self) == 1)
        note_of = {note.res_id: note for note in notes}
        for upload in self:
            if upload.move_id.id in note_of:
                upload.sudo().message_id = note_of[upload.move_id.id]

    def _cdiscount_sent_text(self):
        if self.state == "unknown":
            return _(
                "Upload to Cdiscount of %(file)s: the answer was lost. The next status "
                "sync checks whether Cdiscount received it before any new upload.",
                file=self.file_name,
            )
        if self._cdiscount_replaces():
            return _(
                "New version sent to Cdiscount for order %(ref)s (%(file)s, import "
                "%(import_id)s): it replaces the invoice Cdiscount had accepted.",
                ref=self.order_ref,
                file=self.file_name,
                import_id=self.import_id.name,
            )
        return _(
            "Invoice sent to Cdiscount for order %(ref)s (%(file)s, import %(import_id)s).",
            ref=self.order_ref,
            file=self.file_name,
            import_id=self.import_id.name,
        )

    def _cdiscount_log(self, bodies, attach=False):
        """Log {upload: body} on the uploads' invoices and orders, one batch per model; returns
        the invoices' notes. The sent file goes with the note of an upload sent alone (Odoo
        logs a batch of notes without attachments); in a batch the note names it, and it is
        on the invoice."""
        attachments = self.attachment_id if attach else None
        notes = log_notes(
            self.move_id, {u.move_id.id: body for u, body in bodies.items()}, attachments
        )
        self._cdiscount_log_on_orders(bodies)
        return notes

    def _cdiscount_log_on_orders(self, bodies):
        with_order = {u: body for u, body in bodies.items() if u.order_id}
        log_notes(self.order_id, {u.order_id.id: body for u, body in with_order.items()})

    def _cdiscount_replaces(self):
        """True when an earlier upload of this invoice was accepted: this one replaces it."""
        earlier = self.move_id.cdiscount_upload_ids.filtered(lambda u: u.id < self.id)
        return "success" in earlier.mapped("state")

    def _cdiscount_post_result_message(self):
        """Say in the invoice's chatter what Cdiscount decided: added to the note that said the
        file was sent (one note per upload, which reads as sent, then accepted or refused),
        else a note of its own (where the company's audit trail forbids editing an invoice's
        notes, or the note is gone). A refusal also goes to the order's chatter: someone has
        to act; the order shows an accepted invoice in its Cdiscount status."""
        decided = self.filtered(lambda u: u.state in ("success", "failure"))
        texts = {upload: upload._cdiscount_result_text() for upload in decided}
        editable = compat.notes_editable(decided.move_id)
        noted = decided.filtered(lambda u: u.move_id in editable and u._cdiscount_note_is_ours())
        add_to_notes({upload.message_id: texts[upload] for upload in noted})
        alone = decided - noted
        log_notes(alone.move_id, {u.move_id.id: texts[u] for u in alone})
        refused = decided.filtered(lambda u: u.state == "failure")
        refused._cdiscount_log_on_orders({u: texts[u] for u in refused})

    def _cdiscount_note_is_ours(self):
        note = self.message_id.sudo()
        return note.model == "account.move" and note.res_id == self.move_id.id

    def _cdiscount_result_text(self):
        if self.state == "success":
            return _(
                "Cdiscount accepted the invoice for order %(ref)s (import %(import_id)s).",
                ref=self.order_ref,
                import_id=self.import_id.name,
            )
        return _(
            "Cdiscount refused the invoice for order %(ref)s: %(reason)s",
            ref=self.order_ref,
            reason=self._cdiscount_refusal_text(),
        )

    def _cdiscount_refusal_text(self):
        """Our explanation when the code is known, with Cdiscount's own words beside it."""
        raw = self.error_message or _("no reason given")
        if self.error_explanation:
            return _(
                "%(explanation)s (Cdiscount: %(raw)s)", explanation=self.error_explanation, raw=raw
            )
        return raw

    def _cdiscount_notification(self, failures=()):
        """What went (and, in `failures`, what did not) as a notification."""
        running = self.filtered(lambda u: u.state == "running")
        unknown = self - running
        lines = [
            _(
                "%(count)s invoice(s) sent to Cdiscount. Their status will be updated "
                "automatically.",
                count=len(running),
            )
        ]
        if unknown:
            lines.append(
                _(
                    "%(count)s upload(s) got no answer from Cdiscount. They will be checked "
                    "by the next status sync; do not send them again.",
                    count=len(unknown),
                )
            )
        if failures:
            lines.append(_("Not sent:\n%(reasons)s", reasons="\n".join(failures)))
        kind = "warning" if unknown or failures else "success"
        message = "\n".join(lines if running else lines[1:])
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": kind,
                "title": _("Cdiscount"),
                "message": message,
                "sticky": kind == "warning",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    # --- results ------------------------------------------------------------------
    def _cdiscount_apply_file_results(self, results):
        """Write the file results of an import report ({upload: FileResult}; unknown values
        kept as text): one write per distinct result, none where nothing changed. Then what
        Cdiscount decided is said, in batches."""
        previous = {upload: upload.state for upload in results}
        groups = defaultdict(list)
        for upload, result in results.items():
            values = {
                "state": self._cdiscount_state_of(result.status) or upload.state,
                "file_status": result.status or False,
                "integration_status": result.integration_status or False,
                "error_message": result.error_text or False,
                "error_code": result.errors[0].code if result.errors else False,
            }
            if any(upload[name] != value for name, value in values.items()):
                groups[tuple(values.items())].append(upload.id)
        for values, ids in groups.items():
            self.browse(ids).sudo().write(dict(values))
        decided = self.browse([u.id for u in results]).filtered(
            lambda u: u.state != previous[u] and u.state in ("failure", "success")
        )
        decided._cdiscount_on_result()

    @api.model
    def _cdiscount_state_of(self, status):
        """Our state for Cdiscount's status of a file, or None when it is not one of ours."""
        state = STATE_BY_STATUS.get(status)
        return state if state in dict(UPLOAD_STATES) else None

    def _cdiscount_without_file_result(self, import_status):
        """A final import that says nothing of these files: its own status tells when it is
        all-or-nothing; a partial one leaves them unknown, said plainly."""
        if import_status in (wire.STATUS_SUCCESS, wire.STATUS_FAILURE):
            state = self._cdiscount_state_of(import_status)
            self.sudo().write({"state": state, "file_status": import_status})
        else:
            self.sudo().write(
                {
                    "state": "error",
                    "error_message": _(
                        "Cdiscount finished the import without saying whether this file was "
                        "accepted: check the order on the Cdiscount seller portal and send the "
                        "invoice again if it is missing."
                    ),
                }
            )
        self._cdiscount_on_result()

    # --- results for the accountant -------------------------------------------------
    def _cdiscount_on_result(self):
        """Cdiscount decided: say it in the chatter; a refused file opens an activity, a
        later accepted upload closes it."""
        self._cdiscount_post_result_message()
        accepted = self.filtered(lambda u: u.state == "success")
        accepted.move_id._cdiscount_close_activities()
        for upload in self - accepted:
            move = upload.move_id
            if upload == move.cdiscount_last_upload_id:
                move._cdiscount_open_activity(
                    _(
                        "Cdiscount refused the invoice: %(reason)s",
                        reason=upload._cdiscount_refusal_text(),
                    )
                )

    @api.model
    def _cdiscount_reconcile_unknown(self):
        """Uploads whose answer was lost: adopt the import Cdiscount created for them, or
        mark them "not sent" so they can be sent again."""
        self.search([("state", "=", "unknown")], order="id")._cdiscount_reconcile_each()

    def _cdiscount_reconcile_each(self, interactive=False):
        """Look up these lost uploads, one client per account. An incomplete account is
        stored on its uploads, or raised when a user asked (`interactive`)."""
        for account, uploads in self.grouped("account_id").items():
            try:
                client = account._cdiscount_client()
            except UserError as exc:
                if interactive:
                    raise
                uploads.sudo().error_message = exc.args[0]
                continue
            for upload in uploads.filtered(lambda u: u.state == "unknown"):
                upload._cdiscount_reconcile(client)

    def _cdiscount_reconcile(self, client):
        if self.state != "unknown":  # adopted with a sibling of its ZIP
            return
        self.env.cr.execute(
            "SELECT id FROM cdiscount_upload WHERE id = %s FOR UPDATE SKIP LOCKED", [self.id]
        )
        if not self.env.cr.fetchone():  # its request is still in flight
            return
        try:
            search = client.find_lost_upload(
                self.order_ref, since=self.create_date - wire.LOST_UPLOAD_MARGIN
            )
        except OctopiaError as exc:
            self.sudo().error_message = self.account_id._cdiscount_describe_error(exc)
            return
        self._cdiscount_adopt(search)

    def _cdiscount_adopt(self, search):
        """Link this upload to the import Cdiscount made of it: the newest one holding its
        order, not older than the upload (the search stops there), and not already the result
        of another upload. "Never received" only when the search read the whole list down to
        the upload's time: otherwise it stays unknown and is looked up again."""
        self.ensure_one()
        Import = self.env["cdiscount.import"]
        taken = set(
            self.search(
                [
                    ("order_ref", "=", self.order_ref),
                    ("id", "!=", self.id),
                    ("import_id", "!=", False),
                ]
            ).import_id.mapped("name")
        )
        fresh = [r for r in search.reports if r.import_id not in taken]
        if not fresh and not search.complete:
            self.sudo().error_message = _(
                "The answer to this upload was lost, and Cdiscount's import list could not yet "
                "be read far enough back to find it: it is looked up again at the next sync."
            )
            return
        if not fresh:
            self.sudo().write(
                {
                    "state": "error",
                    "error_message": _(
                        "Cdiscount never received this upload: it can be sent again."
                    ),
                }
            )
            return
        report = fresh[0]
        imp = Import.search(
            [("account_id", "=", self.account_id.id), ("name", "=", report.import_id)], limit=1
        )
        if not imp:
            kind = "bulk" if len(report.files) > 1 else "single"
            imp = Import._cdiscount_create_from_report(self.account_id, report, kind=kind)
        siblings = self._cdiscount_lost_siblings(report)
        (self | siblings).sudo().write(
            {"import_id": imp.id, "state": "running", "error_message": False}
        )
        imp._cdiscount_apply_report(report)

    def _cdiscount_lost_siblings(self, report):
        """Other lost uploads of the same ZIP: adopted with it, without one look-up each."""
        return self.search(
            [
                ("id", "!=", self.id),
                ("state", "=", "unknown"),
                ("account_id", "=", self.account_id.id),
                ("order_ref", "in", [f.order_id for f in report.files]),
                ("create_date", ">=", self.create_date - timedelta(minutes=1)),
                ("create_date", "<=", self.create_date + timedelta(minutes=1)),
            ]
        )


def log_note(record, body):
    """A note in one record's chatter that can never undo what it reports (see log_notes)."""
    log_notes(record, {record.id: body})


def log_notes(records, bodies, attachments=None):
    """Notes in records' chatter ({record id: body}), in one batch, that can never undo what
    they report.

    Logged, not posted: no e-mail, so a sender without an address is no error. Written in a
    savepoint, so that a failing chatter (a mail override, a full disk) leaves the upload's
    recorded outcome intact; the failure is logged instead. What is pending before the notes
    (the outcome itself) is written first, outside that savepoint: its errors, such as a
    serialization failure, stay the caller's to handle."""
    notes = records.env["mail.message"]
    if not records:
        return notes
    records.env.flush_all()
    try:
        with records.env.cr.savepoint():
            notes = records._message_log_batch(
                {record_id: Markup("%s") % body for record_id, body in bodies.items()},
                attachment_ids=attachments.ids if attachments else False,
            )
    except Exception:
        _logger.warning("Could not log on %s: %s", records, bodies, exc_info=True)
        notes = records.env["mail.message"]
    return notes


def add_to_notes(additions):
    """A line added to chatter notes ({mail.message: text}), and like log_notes, never at the
    cost of what it reports. Written in place: Odoo's message edit marks a note edited by a
    person, and these notes stay Cdiscount Invoice Upload's own."""
    if not additions:
        return
    env = next(iter(additions)).env
    env.flush_all()
    try:
        with env.cr.savepoint():
            write_note_lines(additions)
    except Exception:
        _logger.warning("Could not add to the notes %s", list(additions.items()), exc_info=True)


def write_note_lines(additions):
    for note, text in additions.items():
        note.sudo().body = (note.body or Markup()) + Markup("<br/>") + text
