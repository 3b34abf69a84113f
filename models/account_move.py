import logging
import re

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from octopia import bundle, wire
from octopia.errors import BundleError

from .. import compat
from . import send_refusal
from .cdiscount_selections import DOCUMENT_FORMATS
from .cdiscount_upload import log_note
from .send_refusal import Refusal

_logger = logging.getLogger(__name__)

CDISCOUNT_STATES = [
    ("not_applicable", "Not applicable"),
    ("to_send", "To send"),
    ("queued", "Queued"),
    ("running", "Processing"),
    ("unknown", "Outcome unknown"),
    ("success", "Accepted"),
    ("failure", "Refused"),
    ("error", "Not sent"),
]
SENDABLE_TYPES = ("out_invoice", "out_refund")
CDISCOUNT_MANAGER = "cdiscount_invoice_upload.group_cdiscount_manager"
# Status, history and queue: written by the addon's own code only (under sudo).
PROTECTED_FIELDS = frozenset(
    {
        "cdiscount_order_id",
        "cdiscount_order_count",
        "cdiscount_upload_ids",
        "cdiscount_last_upload_id",
        "cdiscount_state",
        "cdiscount_queue_ids",
        "cdiscount_queued",
        "cdiscount_queue_format",
        "cdiscount_queue_replace",
        "cdiscount_queue_user_id",
    }
)


class AccountMove(models.Model):
    _inherit = "account.move"

    # Cdiscount holds (or is processing) a file of these; queued ones are about to go.
    _CDISCOUNT_AT_CDISCOUNT = ("running", "unknown", "success")
    _CDISCOUNT_HELD_STATES = ("queued", *_CDISCOUNT_AT_CDISCOUNT)

    cdiscount_order_id = fields.Many2one(
        "sale.order",
        compute="_compute_cdiscount_order_id",
        store=True,
        index="btree_not_null",
        help="The Cdiscount order this invoice belongs to, found from its sale lines.",
    )
    cdiscount_order_count = fields.Integer(compute="_compute_cdiscount_order_id", store=True)
    cdiscount_order_ref = fields.Char(
        string="Cdiscount Order ID",
        related="cdiscount_order_id.cdiscount_order_ref",
        store=True,
        index="btree_not_null",
    )
    cdiscount_account_id = fields.Many2one(
        "cdiscount.account",
        compute="_compute_cdiscount_account_id",
    )
    cdiscount_upload_ids = fields.One2many(
        "cdiscount.upload", "move_id", string="Cdiscount Uploads", readonly=True
    )
    cdiscount_last_upload_id = fields.Many2one(
        "cdiscount.upload",
        string="Last Cdiscount Upload",
        compute="_compute_cdiscount_last_upload_id",
        store=True,
        index="btree_not_null",  # found from its upload each time an upload's state changes
    )
    cdiscount_state = fields.Selection(
        CDISCOUNT_STATES,
        string="Cdiscount Status",
        compute="_compute_cdiscount_state",
        store=True,
        index=True,
        copy=False,
        help="To send: eligible and never uploaded. Processing: Cdiscount accepted the file and "
        "is checking it. Outcome unknown: the answer to the upload was lost; the next status "
        "sync looks it up before any new upload. Accepted / Refused: Cdiscount's result. "
        "Not sent: the upload failed before Cdiscount accepted it.",
    )
    cdiscount_queue_ids = fields.One2many("cdiscount.queue", "move_id", readonly=True)
    cdiscount_queued = fields.Boolean(
        string="Queued for Cdiscount",
        compute="_compute_cdiscount_queued",
        store=True,
        copy=False,
        index=True,
        help="Waiting for the next background send to Cdiscount (bulk ZIP import).",
    )
    cdiscount_queue_format = fields.Selection(
        DOCUMENT_FORMATS, compute="_compute_cdiscount_queue_choice", string="Queued Format"
    )
    cdiscount_queue_replace = fields.Boolean(compute="_compute_cdiscount_queue_choice")
    cdiscount_queue_user_id = fields.Many2one(
        "res.users", compute="_compute_cdiscount_queue_choice", string="Queued By"
    )
    cdiscount_import_id = fields.Many2one(related="cdiscount_last_upload_id.import_id")
    cdiscount_file_status = fields.Char(related="cdiscount_last_upload_id.file_status")
    cdiscount_integration_status = fields.Char(
        related="cdiscount_last_upload_id.integration_status"
    )
    cdiscount_error = fields.Text(
        string="Cdiscount Error", related="cdiscount_last_upload_id.error_message"
    )
    cdiscount_error_explanation = fields.Char(
        string="Cdiscount: What To Do", related="cdiscount_last_upload_id.error_explanation"
    )

    # --- computes -----------------------------------------------------------------
    @api.depends("invoice_line_ids.sale_line_ids.order_id.cdiscount_order_ref")
    def _compute_cdiscount_order_id(self):
        for move in self:
            orders = move.invoice_line_ids.sale_line_ids.order_id.filtered("cdiscount_order_ref")
            move.cdiscount_order_count = len(orders)
            move.cdiscount_order_id = orders if len(orders) == 1 else False

    @api.depends("cdiscount_order_id.cdiscount_account_id", "company_id")
    def _compute_cdiscount_account_id(self):
        for move in self:
            order = move.cdiscount_order_id
            if order:
                # The order's own seller account, even archived (then refused): another
                # account of the company is another seller.
                move.cdiscount_account_id = (
                    order.cdiscount_account_id or move.company_id._cdiscount_default_account()
                )
            else:
                move.cdiscount_account_id = False

    @api.depends("cdiscount_queue_ids.upload_ids")
    def _compute_cdiscount_queued(self):
        self._cdiscount_fetch_queue()
        for move in self:
            move.cdiscount_queued = bool(move._cdiscount_waiting())

    @api.depends("cdiscount_queue_ids.upload_ids")
    def _compute_cdiscount_queue_choice(self):
        self._cdiscount_fetch_queue()
        for move in self:
            waiting = move._cdiscount_waiting()[-1:]
            move.cdiscount_queue_format = waiting.document_format
            move.cdiscount_queue_replace = waiting.replace
            move.cdiscount_queue_user_id = waiting.user_id

    def _cdiscount_fetch_queue(self):
        """Read the queue entries of all these invoices at once: each invoice's own entries
        would otherwise be read one invoice at a time (a slice prefetches only itself)."""
        entries = self.cdiscount_queue_ids._origin  # in a form, new entries are in the cache
        entries.fetch(["document_format", "replace", "user_id", "upload_ids"])

    def _cdiscount_waiting(self):
        """The queue entries of these invoices not sent yet."""
        return self.cdiscount_queue_ids.filtered(lambda q: not q.upload_ids)

    @api.depends("cdiscount_upload_ids")
    def _compute_cdiscount_last_upload_id(self):
        for move in self:
            # _origin: inside a form's onchange the uploads are NewIds, which cannot be sorted.
            move.cdiscount_last_upload_id = move.cdiscount_upload_ids._origin.sorted("id")[-1:]

    @api.depends(
        "state",
        "move_type",
        "cdiscount_order_count",
        "cdiscount_queued",
        "cdiscount_last_upload_id.state",
    )
    def _compute_cdiscount_state(self):
        for move in self:
            if move.cdiscount_queued:
                move.cdiscount_state = "queued"
            elif move.cdiscount_last_upload_id:
                move.cdiscount_state = move.cdiscount_last_upload_id.state
            elif (
                move.cdiscount_order_count
                and move.state == "posted"
                and move.move_type in SENDABLE_TYPES
            ):
                move.cdiscount_state = "to_send"
            else:
                move.cdiscount_state = "not_applicable"

    # --- what only the addon writes, and what cannot be undone silently -------------
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._cdiscount_check_protected(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._cdiscount_check_protected(vals)
        return super().write(vals)

    def _cdiscount_check_protected(self, vals):
        forged = PROTECTED_FIELDS.intersection(vals)
        if forged and not self.env.su:
            raise AccessError(
                _(
                    "%(fields)s: the Cdiscount status of an invoice is written by Cdiscount "
                    "Invoice Upload only.",
                    fields=", ".join(sorted(forged)),
                )
            )

    def button_draft(self):
        # EXTENDS account: Cdiscount holds (or is processing) a file of a posted invoice.
        held = self.filtered(lambda m: m.cdiscount_state in self._CDISCOUNT_AT_CDISCOUNT)
        if held:
            held._cdiscount_check_reset_decision()
        return super().button_draft()

    def _cdiscount_check_reset_decision(self):
        """Only a Cdiscount manager's explicit decision resets these, and it is recorded."""
        decided = self.env.context.get("cdiscount_reset_confirmed")
        if not decided or not self.env.user.has_group(CDISCOUNT_MANAGER):
            raise UserError(
                _(
                    "Cdiscount holds or is processing the invoice of %(invoices)s: reset to draft, "
                    "it would no longer match what the buyer sees. Send a corrected version "
                    "with “Replace on Cdiscount” instead; an accounting manager can still use "
                    "“Reset to Draft Anyway”.",
                    invoices=", ".join(self.mapped("name")),
                )
            )
        states = self._cdiscount_state_labels()
        for move in self:
            log_note(
                move,
                _(
                    "Reset to draft by %(user)s although Cdiscount holds or is processing its "
                    "invoice (status: %(state)s).",
                    user=self.env.user.name,
                    state=states.get(move.cdiscount_state),
                ),
            )

    def action_cdiscount_reset_to_draft(self):
        """Reset to draft although Cdiscount holds the invoice: a logged decision of a
        Cdiscount manager."""
        if not self.env.user.has_group(CDISCOUNT_MANAGER):
            raise AccessError(
                _("Only a Cdiscount manager may reset an invoice that Cdiscount holds.")
            )
        return self.with_context(cdiscount_reset_confirmed=True).button_draft()

    @api.ondelete(at_uninstall=False)
    def _unlink_except_cdiscount_history(self):
        """The upload history goes with the invoice: a settings administrator's decision."""
        if self.env.user.has_group("base.group_system"):
            return
        sent = self.filtered("cdiscount_upload_ids")
        if sent:
            raise UserError(
                _(
                    "%(invoices)s have a Cdiscount upload history: only a settings "
                    "administrator may delete them.",
                    invoices=", ".join(sent.mapped("display_name")),
                )
            )

    def _post(self, soft=True):
        # EXTENDS account: queue invoices of Cdiscount orders when the account sends by itself.
        posted = super()._post(soft=soft)
        auto = posted.filtered(
            lambda m: m.cdiscount_account_id.auto_send and not m._cdiscount_get_eligibility_error()
        )
        if auto:
            auto._cdiscount_queue()
        return posted

    def _cdiscount_queue(self, document_format=False, replace=False):
        """Hand these invoices to the background sender (never upload inside this transaction);
        queued again, the latest choice of format counts."""
        self._cdiscount_unqueue()
        self.env["cdiscount.queue"].sudo().create(
            [
                {
                    "move_id": move.id,
                    "document_format": document_format,
                    "replace": replace,
                    "user_id": self.env.user.id,
                }
                for move in self
            ]
        )
        cron = self.env.ref("cdiscount_invoice_upload.ir_cron_cdiscount_send_queue", False)
        if cron:
            cron._trigger()

    def _cdiscount_needs_render(self):
        """Queued in PDF format without a stored PDF: wkhtmltopdf must render it first."""
        document_format = self.cdiscount_queue_format or self.cdiscount_account_id.document_format
        return document_format == "pdf" and not self.invoice_pdf_report_id

    def _cdiscount_unqueue(self):
        """Take these invoices out of the queue (not sent: their entries go)."""
        self._cdiscount_waiting().sudo().unlink()

    # --- eligibility ----------------------------------------------------------------
    def _cdiscount_get_eligibility_error(self, replace=False):
        """Why this invoice cannot be uploaded now, in plain words naming it, or ""."""
        refusal = self._cdiscount_refusal(replace=replace)
        return refusal.message if refusal else ""

    def _cdiscount_refusal(self, replace=False):
        """Why this invoice cannot be uploaded now (send_refusal.Refusal), or None."""
        self.ensure_one()
        name = self._cdiscount_label()
        if self.move_type not in SENDABLE_TYPES:
            return Refusal(
                send_refusal.NOT_CUSTOMER_INVOICE,
                _(
                    "%(invoice)s is not a customer invoice: only customer invoices are "
                    "uploaded to Cdiscount.",
                    invoice=name,
                ),
            )
        if self.state != "posted":
            return Refusal(
                send_refusal.NOT_POSTED,
                _(
                    "%(invoice)s is not posted: confirm it before sending it to Cdiscount.",
                    invoice=name,
                ),
            )
        return (
            self._cdiscount_order_refusal(name)
            or self._cdiscount_account_refusal(name)
            or (self._cdiscount_state_refusal(replace))
        )

    def _cdiscount_order_refusal(self, name):
        if not self.cdiscount_order_count:
            return Refusal(
                send_refusal.NO_ORDER,
                _(
                    "%(invoice)s is not linked to a Cdiscount order: invoice the order from "
                    "its sale order, and set its Cdiscount order id.",
                    invoice=name,
                ),
            )
        if self.cdiscount_order_count > 1:
            orders = self.invoice_line_ids.sale_line_ids.order_id.filtered("cdiscount_order_ref")
            return Refusal(
                send_refusal.SEVERAL_ORDERS,
                _(
                    "%(invoice)s mixes several Cdiscount orders (%(orders)s): Cdiscount takes "
                    "one invoice per order. Cancel it and invoice each order separately.",
                    invoice=name,
                    orders=", ".join(orders.mapped("cdiscount_order_ref")),
                ),
            )
        ref = self.cdiscount_order_ref
        if not re.fullmatch(wire.ORDER_ID_PATTERN, ref):
            return Refusal(
                send_refusal.BAD_ORDER_ID,
                _(
                    "The Cdiscount order id “%(ref)s” of %(invoice)s cannot be used as a file "
                    "name: correct it on order %(order)s (letters, digits, “-” and “_” only).",
                    ref=ref,
                    invoice=name,
                    order=self.cdiscount_order_id.name,
                ),
            )
        return None

    def _cdiscount_account_refusal(self, name):
        account = self.cdiscount_account_id
        if account and not account.active:
            return Refusal(
                send_refusal.ACCOUNT_ARCHIVED,
                _(
                    "The Cdiscount account %(account)s of order %(order)s is archived: restore "
                    "it, or set the order's account, then send %(invoice)s again.",
                    account=account.name,
                    order=self.cdiscount_order_id.name,
                    invoice=name,
                ),
            )
        if not account:
            return Refusal(
                send_refusal.NO_ACCOUNT,
                _(
                    "No Cdiscount account is set up for %(company)s: add one in Accounting > "
                    "Configuration > Cdiscount Accounts, then send %(invoice)s again.",
                    company=self.company_id.name,
                    invoice=name,
                ),
            )
        if self.move_type == "out_refund" and not account.upload_credit_notes:
            return Refusal(
                send_refusal.CREDIT_NOTES_OFF,
                _(
                    "%(invoice)s is a credit note, and uploading credit notes is off for "
                    "%(account)s: on Cdiscount a credit note replaces the order's invoice. "
                    "Turn the option on in the Cdiscount account if that is what you want.",
                    invoice=name,
                    account=account.name,
                ),
            )
        return None

    def _cdiscount_label(self):
        """How messages name this invoice: its number, or "Draft Invoice (…)" before it has one
        (no name on 19.0, "/" on 18.0)."""
        return self.name if self.name not in (False, "/") else self.display_name

    def _cdiscount_state_refusal(self, replace):
        name = self.name
        if self.cdiscount_state == "queued" and not self.env.context.get("cdiscount_from_queue"):
            return Refusal(
                send_refusal.QUEUED,
                _(
                    "%(invoice)s is already queued for Cdiscount: it will be sent in the next "
                    "background run.",
                    invoice=name,
                ),
            )
        if self.cdiscount_state in ("running", "unknown"):
            return Refusal(
                send_refusal.PROCESSING,
                _(
                    "%(invoice)s is already being processed by Cdiscount: wait for the result "
                    "of its last upload before sending it again.",
                    invoice=name,
                ),
            )
        if self.cdiscount_state == "success" and not replace:
            return Refusal(
                send_refusal.ACCEPTED,
                _(
                    "%(invoice)s was already accepted by Cdiscount: use “Replace on Cdiscount” "
                    "to upload a corrected version.",
                    invoice=name,
                ),
            )
        return None

    # --- documents ----------------------------------------------------------------
    def _cdiscount_prepare_file(self, account, document_format=None):
        """Build the document to upload: (bundle.InvoiceFile, "") or (None, error message)."""
        self.ensure_one()
        try:
            if (document_format or account.document_format) == "pdf":
                data, kind = self._cdiscount_get_pdf(), "pdf"
            else:
                data, kind = self._cdiscount_get_ubl(), "xml"
            return bundle.make_file(
                self.cdiscount_order_ref,
                data=data,
                kind=kind,
                max_file_bytes=account.max_file_bytes,
            ), ""
        except UserError as exc:
            return None, exc.args[0]
        except BundleError as exc:
            return None, _(
                "The document of %(invoice)s cannot be sent: %(reason)s",
                invoice=self.name,
                reason=str(exc),
            )

    def _cdiscount_get_ubl(self):
        xml, errors = self.env["account.edi.xml.ubl_cdiscount"]._export_invoice(self)
        if errors:
            raise UserError(
                _(
                    "The UBL invoice of %(invoice)s cannot be built. Fix the following and send it "
                    "again:\n%(errors)s",
                    invoice=self.name,
                    errors="\n".join(f"- {e}" for e in sorted(errors)),
                )
            )
        return xml

    def _cdiscount_get_pdf(self):
        """The stored invoice PDF; rendered once (and stored) only when it does not exist."""
        if not self.invoice_pdf_report_id:
            # The PDF only (Factur-X embedded): no separate EDI file for a marketplace buyer.
            self.env["account.move.send"]._generate_and_send_invoices(
                self, sending_methods={"manual"}, invoice_edi_format=False
            )
            self.invalidate_recordset(["invoice_pdf_report_id", "invoice_pdf_report_file"])
        return self.invoice_pdf_report_id.raw

    def action_cdiscount_send_wizard(self):
        """The bulk send wizard on these invoices (ZIP imports, reasons for the others)."""
        self._cdiscount_check_sender_right()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "cdiscount_invoice_upload.account_move_cdiscount_send_action"
        )
        action["context"] = {"active_model": "account.move", "active_ids": self.ids}
        return action

    # --- sending one invoice --------------------------------------------------------
    def action_cdiscount_send(self):
        """Upload each selected invoice of a Cdiscount order (single-order endpoint)."""
        return self._cdiscount_send_interactive(replace=False)

    def action_cdiscount_replace(self):
        """Upload a new version of invoices Cdiscount already has: it replaces the old one."""
        return self._cdiscount_send_interactive(replace=True)

    def action_cdiscount_check_status(self):
        """Ask Cdiscount now where these invoices stand (their last import, or the lost answer)."""
        self._cdiscount_check_sender_right()
        uploads = self.cdiscount_last_upload_id
        uploads.filtered(lambda u: u.state == "unknown")._cdiscount_reconcile_each(interactive=True)
        imports = uploads.import_id.filtered(lambda i: i.state in ("running", "other"))
        imports._cdiscount_sync()
        self.invalidate_recordset()
        return self._cdiscount_status_notification()

    def _cdiscount_state_labels(self):
        return dict(self._fields["cdiscount_state"]._description_selection(self.env))

    def _cdiscount_status_notification(self):
        states = self._cdiscount_state_labels()
        lines = [f"{move.name}: {states.get(move.cdiscount_state)}" for move in self]
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "title": _("Cdiscount"),
                "message": "\n".join(lines),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def _cdiscount_check_sender_right(self):
        if not self.env.user.has_group("cdiscount_invoice_upload.group_cdiscount_user"):
            raise AccessError(
                _(
                    "You are not allowed to send invoices to Cdiscount. Ask your "
                    "administrator for the right “Cdiscount: send invoices”."
                )
            )

    def _cdiscount_send_interactive(self, replace):
        self._cdiscount_check_sender_right()
        if not self:
            raise UserError(_("Select at least one posted invoice of a Cdiscount order."))
        sender = self.env["cdiscount.sender"]
        if len(self) == 1:
            return sender._send_one(self, replace=replace)._cdiscount_notification()
        uploads, failures = self.env["cdiscount.upload"], []
        for move in self:  # each upload is committed: say what went and what did not
            try:
                uploads |= sender._send_one(move, replace=replace)
            except UserError as exc:
                failures.append(exc.args[0])
        if not uploads:
            raise UserError("\n".join(failures))
        return uploads._cdiscount_notification(failures)

    # --- activities -----------------------------------------------------------------
    def _cdiscount_responsible(self):
        account = self.cdiscount_account_id
        if account.responsible_user_id:
            return account.responsible_user_id
        if self.invoice_user_id and not self.invoice_user_id.share:
            return self.invoice_user_id
        managers = compat.group_users(self.env.ref("account.group_account_manager"))
        return managers.filtered(lambda u: self.company_id in u.company_ids)[:1] or self.env.user

    def _cdiscount_open_activity(self, note):
        self.ensure_one()
        activity_type = self.env.ref("cdiscount_invoice_upload.mail_activity_type_cdiscount")
        existing = self.activity_ids.filtered(lambda a: a.activity_type_id == activity_type)
        if existing:
            existing.note = note
            return existing
        return self.activity_schedule(
            "cdiscount_invoice_upload.mail_activity_type_cdiscount",
            note=note,
            user_id=self._cdiscount_responsible().id,
        )

    def _cdiscount_close_activities(self):
        activity_type = self.env.ref("cdiscount_invoice_upload.mail_activity_type_cdiscount")
        done = self.activity_ids.filtered(lambda a: a.activity_type_id == activity_type)
        done.action_feedback(feedback=_("Cdiscount accepted a later upload of this invoice."))
