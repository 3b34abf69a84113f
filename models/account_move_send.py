from odoo import _, api, models

from octopia import bundle
from octopia.errors import BundleError

from .cdiscount_sender import SendResult

METHOD = "cdiscount"


class AccountMoveSend(models.AbstractModel):
    _inherit = "account.move.send"

    @api.model
    def _get_default_sending_method(self, move):
        # EXTENDS account (Odoo 18.0; 19.0 calls _get_default_sending_methods)
        if self._cdiscount_preselect(move):
            return METHOD
        return super()._get_default_sending_method(move)

    @api.model
    def _get_default_sending_methods(self, move):
        # EXTENDS account (Odoo 19.0 and later)
        if self._cdiscount_preselect(move):
            return {METHOD}
        return super()._get_default_sending_methods(move)

    @api.model
    def _cdiscount_preselect(self, move):
        """Marketplace buyers are throw-away partners, so the order decides; an invoice that
        Cdiscount holds or is processing is replaced only when the user ticks the method."""
        return (
            bool(move.cdiscount_order_id)
            and move.cdiscount_state not in move._CDISCOUNT_HELD_STATES
            and self._is_applicable_to_move(METHOD, move)
        )

    @api.model
    def _get_default_invoice_edi_format(self, move, **kwargs):
        # EXTENDS account: the document goes to Cdiscount, not to the throw-away buyer partner.
        if move.cdiscount_order_count:
            return False
        return super()._get_default_invoice_edi_format(move, **kwargs)

    @api.model
    def _is_applicable_to_company(self, method, company):
        # EXTENDS account
        if method == METHOD:
            return bool(company._cdiscount_default_account())
        return super()._is_applicable_to_company(method, company)

    @api.model
    def _is_applicable_to_move(self, method, move, **move_data):
        # EXTENDS account (19.0 passes the sending settings as move_data)
        if method == METHOD:
            return bool(move.cdiscount_order_id) and not move._cdiscount_get_eligibility_error(
                replace=True
            )
        return super()._is_applicable_to_move(method, move, **move_data)

    @api.model
    def _get_alerts(self, moves, moves_data):
        # EXTENDS account
        alerts = super()._get_alerts(moves, moves_data)
        chosen = moves.filtered(lambda m: METHOD in moves_data[m]["sending_methods"])
        problems = [m._cdiscount_get_eligibility_error(replace=True) for m in chosen]
        problems = [p for p in problems if p]
        if problems:
            alerts["cdiscount_not_eligible"] = {
                "level": "danger" if len(moves) == 1 else "warning",
                "message": _(
                    "Cannot be sent to Cdiscount:\n%(reasons)s", reasons="\n".join(problems)
                ),
            }
        replaced = chosen.filtered(lambda m: m.cdiscount_state == "success")
        if replaced:
            alerts["cdiscount_replaces"] = {
                "level": "warning",
                "message": _(
                    "Cdiscount already accepted %(invoices)s: sending by Cdiscount uploads this "
                    "version in its place.",
                    invoices=", ".join(replaced.mapped("name")),
                ),
            }
        return alerts

    @api.model
    def _call_web_service_after_invoice_pdf_render(self, invoices_data):
        # EXTENDS account: the PDF exists by now (new or reused), so both formats can go.
        # One invoice uses the single-order endpoint; a batch (the Send & Print cron sends
        # chunks) becomes ZIP imports.
        super()._call_web_service_after_invoice_pdf_render(invoices_data)
        chosen = {
            invoice: data
            for invoice, data in invoices_data.items()
            if METHOD in data["sending_methods"] and not data.get("error")
        }
        if chosen:
            self._cdiscount_send(chosen, invoices_data)
        return None  # noqa: PLR1711 (pylint-odoo: an EXTENDS returns what super returns)

    @api.model
    def _cdiscount_send(self, chosen, invoices_data):
        sender = self.env["cdiscount.sender"]
        result = SendResult(self.env["cdiscount.upload"])
        invoices = self.env["account.move"].concat(*chosen)
        files = self._cdiscount_prepare_files(sender._lock(invoices, result), chosen, result)
        if files:
            sender._send_prepared(files, result, single=len(chosen) == 1)
        for upload in result.uploads.filtered(lambda u: u.state == "error"):
            self._cdiscount_set_error(invoices_data[upload.move_id], upload.error_message)
        for refusal_by_move in result.skipped.values():
            for invoice, refusal in refusal_by_move.items():
                self._cdiscount_set_error(invoices_data[invoice], refusal.message)

    @api.model
    def _cdiscount_prepare_files(self, invoices, invoices_data, result):
        """{invoice: InvoiceFile} for the locked invoices that can go; the others refused."""
        files = {}
        for invoice in invoices:
            refusal = invoice._cdiscount_refusal(replace=True)
            if refusal:
                result.skip(invoice, refusal)
                continue
            account = invoice.cdiscount_account_id
            file, error = self._cdiscount_file_from_render(invoice, invoices_data[invoice], account)
            if error:
                self._cdiscount_set_error(invoices_data[invoice], error)
            else:
                files[invoice] = file
        return files

    @api.model
    def _cdiscount_set_error(self, invoice_data, error):
        invoice_data["error"] = {"error_title": _("Not sent to Cdiscount:"), "errors": [error]}

    @api.model
    def _cdiscount_file_from_render(self, invoice, invoice_data, account):
        pdf = invoice_data.get("pdf_attachment_values", {}).get("raw")
        if account.document_format != "pdf" or not pdf:
            return invoice._cdiscount_prepare_file(account)
        try:
            return bundle.make_file(
                invoice.cdiscount_order_ref,
                data=pdf,
                kind="pdf",
                max_file_bytes=account.max_file_bytes,
            ), ""
        except BundleError as exc:
            return None, _(
                "The document of %(invoice)s cannot be sent: %(reason)s",
                invoice=invoice.name,
                reason=str(exc),
            )
