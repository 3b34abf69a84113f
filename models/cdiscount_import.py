import time
from datetime import timedelta

from psycopg2 import errors as pg_errors

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools.translate import LazyTranslate

from octopia import wire
from octopia.errors import NotFoundError, OctopiaError

from .. import compat
from .cdiscount_selections import STATE_BY_STATUS
from .cdiscount_sender import CRON_RUN_SECONDS

SYNC_MIN_INTERVAL = 60  # seconds between two reads of one import by the scheduler
# Reads answered 404 in a row before an import is given up as unknown to Cdiscount.
NOT_FOUND_LIMIT = 5

IMPORT_STATES = [
    ("running", "Processing"),
    ("success", "Accepted"),
    ("partial", "Partly accepted"),
    ("failure", "Refused"),
    ("other", "Other"),
    ("gone", "Unknown to Cdiscount"),
]

_lt = LazyTranslate(__name__)


@compat.sql_constraints(
    name_account_uniq=("unique(account_id, name)", "This import is already recorded.")
)
class CdiscountImport(models.Model):
    _name = "cdiscount.import"
    _inherit = ["cdiscount.history.mixin"]
    _cdiscount_write_refusal = _lt(
        "Cdiscount imports are recorded by Cdiscount Invoice Upload only: use “Check Now” to "
        "read them again."
    )
    _cdiscount_delete_refusal = _lt("Only a settings administrator may delete Cdiscount imports.")
    _description = "Cdiscount Invoice Import"
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(string="Import ID", required=True, readonly=True, index=True)
    account_id = fields.Many2one(
        "cdiscount.account",
        required=True,
        readonly=True,
        index=True,
        ondelete="restrict",
        check_company=True,
    )
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    kind = fields.Selection(
        [("single", "One order"), ("bulk", "Bulk (ZIP)")], required=True, readonly=True
    )
    status = fields.Char(readonly=True, help="The status exactly as Cdiscount wrote it.")
    state = fields.Selection(
        IMPORT_STATES,
        compute="_compute_state",
        store=True,
        index=True,
        help="Other: Cdiscount answered a status this app does not know yet; it is kept and "
        "polled again.",
    )
    upload_ids = fields.One2many("cdiscount.upload", "import_id", string="Files", readonly=True)
    file_count = fields.Integer(compute="_compute_counts", store=True)
    failed_count = fields.Integer(compute="_compute_counts", store=True)
    user_id = fields.Many2one("res.users", readonly=True, default=lambda self: self.env.user)
    report_json = fields.Text(string="Last Report", readonly=True)
    last_sync_date = fields.Datetime(readonly=True)
    late_alerted = fields.Boolean(readonly=True, copy=False)
    sync_error = fields.Text(readonly=True)
    not_found_count = fields.Integer(
        readonly=True, help="Reads in a row that Cdiscount answered with “not found”."
    )

    @api.depends("status", "not_found_count")
    def _compute_state(self):
        for record in self:
            gone = record.not_found_count >= NOT_FOUND_LIMIT
            record.state = "gone" if gone else STATE_BY_STATUS.get(record.status, "other")

    @api.depends("upload_ids.state")
    def _compute_counts(self):
        for record in self:
            record.file_count = len(record.upload_ids)
            record.failed_count = len(record.upload_ids.filtered(lambda u: u.state == "failure"))

    @api.model
    def _cdiscount_create_from_report(self, account, report, kind):
        return (
            self.sudo()
            .create(
                {
                    "name": report.import_id,
                    "account_id": account.id,
                    "kind": kind,
                    "status": report.status or wire.STATUS_RUNNING,
                    "report_json": report.raw_json,
                }
            )
            .sudo(False)
        )

    # --- status sync --------------------------------------------------------------
    @api.model
    def _cron_sync_imports(self, batch_size=50, run_seconds=CRON_RUN_SECONDS):
        """Read running imports by id and write the file results on the invoices, for about
        `run_seconds` (at most `batch_size` imports), oldest read first.

        Under the scheduler, an import read less than a minute ago is not due yet: the job
        re-runs at once only while due imports remain, then comes back in a minute while
        imports still run, and stops when they are all final."""
        self.env["cdiscount.upload"]._cdiscount_reconcile_unknown()
        domain = [("state", "in", ("running", "other"))]
        if self.env.context.get("ir_cron_progress_id"):
            due_before = fields.Datetime.now() - timedelta(seconds=SYNC_MIN_INTERVAL)
            domain += ["|", ("last_sync_date", "=", False), ("last_sync_date", "<", due_before)]
        todo = self.search(domain, order="last_sync_date asc, id")
        done = todo[:batch_size]._cdiscount_sync(deadline=time.monotonic() + run_seconds)
        compat.cron_progress(self.env, done=done, remaining=len(todo) - done)
        if len(todo) == done and self.search_count([("state", "in", ("running", "other"))]):
            self.env.ref("cdiscount_invoice_upload.ir_cron_cdiscount_sync_imports")._trigger(
                at=fields.Datetime.now() + timedelta(seconds=SYNC_MIN_INTERVAL)
            )

    def _cdiscount_sync(self, deadline=None):
        """Refresh these imports from Cdiscount (one request each, one client per account);
        an error is stored on the import and never stops the others. Stops once `deadline`
        (time.monotonic()) has passed; returns how many were read."""
        done = 0
        for account, imports in self.grouped("account_id").items():
            try:
                client = account._cdiscount_client()
            except UserError as exc:
                imports._cdiscount_sync_failed(exc.args[0])
                done += len(imports)
                continue
            for record in imports:
                if deadline is not None and time.monotonic() > deadline:
                    return done
                record._cdiscount_sync_one(client)
                done += 1
        return done

    def _cdiscount_sync_one(self, client):
        if not self._cdiscount_try_lock():
            return
        try:
            report = client.get_import(self.name)
        except NotFoundError as exc:
            self._cdiscount_not_found(exc)
        except OctopiaError as exc:
            self._cdiscount_sync_failed(self.account_id._cdiscount_describe_error(exc))
        else:
            self._cdiscount_apply_report(report)
        self.env["cdiscount.sender"]._commit()

    def action_sync(self):
        """Read these imports from Cdiscount now."""
        self.env["account.move"]._cdiscount_check_sender_right()
        self._cdiscount_sync()
        return True

    def _cdiscount_sync_failed(self, message):
        self.sudo().write({"sync_error": message, "last_sync_date": fields.Datetime.now()})

    def _cdiscount_not_found(self, error):
        """Cdiscount says it does not know this import: after a few reads in a row, give it
        up, say so on its invoices, and stop polling it."""
        self._cdiscount_sync_failed(self.account_id._cdiscount_describe_error(error))
        self.sudo().not_found_count += 1
        if self.state != "gone":
            return
        uploads = self.upload_ids.filtered(lambda u: u.state in ("running", "unknown"))
        reason = _(
            "Cdiscount no longer knows import %(import_id)s: check the order on the Cdiscount "
            "seller portal and send the invoice again if it is missing.",
            import_id=self.name,
        )
        uploads._cdiscount_not_sent(reason)
        for move in uploads.move_id:
            move._cdiscount_open_activity(reason)

    def _cdiscount_try_lock(self):
        """Lock this import for this transaction, unless another worker has it (or just
        finished it): then it is skipped."""
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    "SELECT id FROM cdiscount_import WHERE id = %s FOR UPDATE SKIP LOCKED",
                    [self.id],
                    log_exceptions=False,
                )
                locked = bool(self.env.cr.fetchone())
        except pg_errors.SerializationFailure:
            return False
        self.invalidate_recordset(["status", "state"])
        return locked and self.state in ("running", "other")

    def _cdiscount_apply_report(self, report):
        self.ensure_one()
        values = {
            "status": report.status,
            "last_sync_date": fields.Datetime.now(),
            "sync_error": False,
            "not_found_count": 0,
        }
        if report.raw_json != self.report_json:  # tens of KB for a large ZIP: once is enough
            values["report_json"] = report.raw_json
        self.sudo().write(values)
        uploads = {u.order_ref: u for u in self.upload_ids}
        results = {uploads[r.order_id]: r for r in report.files if r.order_id in uploads}
        self.upload_ids._cdiscount_apply_file_results(results)
        if report.is_final:
            answered = {f.order_id for f in report.files}
            silent = self.upload_ids.filtered(
                lambda u: u.order_ref not in answered and u.state == "running"
            )
            silent._cdiscount_without_file_result(report.status)
        if not report.is_final:
            self._cdiscount_alert_if_late()

    def _cdiscount_alert_if_late(self):
        """Still processing after the account's alert delay: tell the accountant, once."""
        hours = self.account_id.running_alert_hours
        if self.late_alerted or not hours:
            return
        if self.create_date > fields.Datetime.now() - timedelta(hours=hours):
            return
        self.sudo().late_alerted = True
        note = _(
            "Cdiscount is still processing import %(import_id)s after %(hours)s hours. "
            "It is still checked regularly; contact Cdiscount if it stays so.",
            import_id=self.name,
            hours=hours,
        )
        for move in self.upload_ids.filtered(lambda u: u.state == "running").move_id:
            move._cdiscount_open_activity(note)

    def action_resend_failed(self):
        """Open the bulk send on the invoices of this import whose file failed."""
        self.env["account.move"]._cdiscount_check_sender_right()
        failed = self.upload_ids.filtered(lambda u: u.state in ("failure", "error")).move_id
        if not failed:
            raise UserError(_("No file of this import failed."))
        return failed.action_cdiscount_send_wizard()
