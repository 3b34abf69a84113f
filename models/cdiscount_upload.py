from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..octopia import wire
from ..octopia.errors import OctopiaError

UPLOAD_STATES = [
    ("running", "Processing"),
    ("unknown", "Outcome unknown"),
    ("success", "Accepted"),
    ("failure", "Refused"),
    ("error", "Not sent"),
]


class CdiscountUpload(models.Model):
    """One upload of one invoice: the history line, and the file result of its import."""

    _name = "cdiscount.upload"
    _description = "Cdiscount Invoice Upload"
    _order = "id desc"
    _rec_name = "file_name"

    move_id = fields.Many2one(
        "account.move",
        string="Invoice",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
    )
    order_id = fields.Many2one("sale.order", string="Order", readonly=True, index=True)
    order_ref = fields.Char(string="Cdiscount Order ID", readonly=True, index=True)
    account_id = fields.Many2one("cdiscount.account", readonly=True, ondelete="restrict")
    company_id = fields.Many2one(related="move_id.company_id", store=True, index=True)
    import_id = fields.Many2one(
        "cdiscount.import", string="Import", readonly=True, index=True, ondelete="set null"
    )
    file_name = fields.Char(readonly=True)
    document_format = fields.Selection(
        [("ubl", "UBL 2.1"), ("pdf", "PDF")], string="Format", readonly=True
    )
    attachment_id = fields.Many2one("ir.attachment", string="Sent File", readonly=True)
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

    @api.model
    def _cdiscount_record(self, move, account, file, *, state, import_record=None, error=""):
        """Store the sent file on the invoice and write the history line."""
        kind = "pdf" if file.kind == "pdf" else "ubl"
        attachment = self.env["ir.attachment"].create(
            {
                "name": file.file_name,
                "raw": file.read(),
                "mimetype": file.mime,
                "res_model": "account.move",
                "res_id": move.id,
                "description": _("Sent to Cdiscount"),
            }
        )
        upload = self.create(
            {
                "move_id": move.id,
                "order_id": move.cdiscount_order_id.id,
                "order_ref": file.order_id,
                "account_id": account.id,
                "import_id": import_record.id if import_record else False,
                "file_name": file.file_name,
                "document_format": kind,
                "attachment_id": attachment.id,
                "checksum": file.sha256,
                "state": state,
                "error_message": error or False,
            }
        )
        upload._cdiscount_post_sent_message()
        return upload

    def _cdiscount_post_sent_message(self):
        for upload in self:
            if upload.state == "unknown":
                body = _(
                    "Upload to Cdiscount of %(file)s: the answer was lost. The next status "
                    "sync checks whether Cdiscount received it before any new upload.",
                    file=upload.file_name,
                )
            else:
                body = _(
                    "Invoice sent to Cdiscount for order %(ref)s (import %(import_id)s).",
                    ref=upload.order_ref,
                    import_id=upload.import_id.name,
                )
            upload.move_id.with_context(no_new_invoice=True).message_post(
                body=body, attachment_ids=upload.attachment_id.ids
            )
            if upload.order_id:
                upload.order_id.message_post(body=body)

    def _cdiscount_notification(self):
        running = self.filtered(lambda u: u.state == "running")
        unknown = self - running
        if unknown:
            message = _(
                "%(count)s upload(s) got no answer from Cdiscount. They will be checked "
                "by the next status sync; do not send them again.",
                count=len(unknown),
            )
            kind = "warning"
        else:
            message = _(
                "%(count)s invoice(s) sent to Cdiscount. Their status will be updated "
                "automatically.",
                count=len(running),
            )
            kind = "success"
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": kind,
                "title": _("Cdiscount"),
                "message": message,
                "sticky": bool(unknown),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    # --- results ------------------------------------------------------------------
    def _cdiscount_apply_file_result(self, result):
        """Write one file result of an import report (unknown values kept as text)."""
        self.ensure_one()
        state = FILE_STATE.get(result.status, self.state)
        self.write(
            {
                "state": state,
                "file_status": result.status,
                "integration_status": result.integration_status,
                "error_message": result.error_text or False,
            }
        )

    @api.model
    def _cdiscount_reconcile_unknown(self):
        """Uploads whose answer was lost: adopt the import Cdiscount created for them, or
        mark them "not sent" so they can be sent again."""
        for upload in self.search([("state", "=", "unknown")]):
            try:
                found = upload.account_id._cdiscount_client().find_imports_for_order(
                    upload.order_ref
                )
            except (OctopiaError, UserError) as exc:
                upload.error_message = str(exc)
                continue
            upload._cdiscount_adopt(found)

    def _cdiscount_adopt(self, reports):
        self.ensure_one()
        since = fields.Datetime.to_string(self.create_date - timedelta(minutes=5))
        known = set(
            self.env["cdiscount.import"]
            .search([("account_id", "=", self.account_id.id)])
            .mapped("name")
        )
        fresh = [
            r
            for r in reports
            if r.import_id not in known
            and (not r.created_at or r.created_at.replace("T", " ")[:19] >= since)
        ]
        if not fresh:
            self.write(
                {
                    "state": "error",
                    "error_message": _(
                        "Cdiscount never received this upload: it can be sent again."
                    ),
                }
            )
            return
        report = fresh[0]
        imp = self.env["cdiscount.import"]._cdiscount_create_from_report(
            self.account_id, report, kind="single"
        )
        self.write({"import_id": imp.id, "state": "running", "error_message": False})
        imp._cdiscount_apply_report(report)


FILE_STATE = {
    wire.STATUS_RUNNING: "running",
    wire.STATUS_SUCCESS: "success",
    wire.STATUS_FAILURE: "failure",
}
