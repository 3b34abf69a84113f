from odoo import _, api, models

from ..octopia import bundle
from ..octopia.errors import BundleError, OctopiaError

METHOD = "cdiscount"


class AccountMoveSend(models.AbstractModel):
    _inherit = "account.move.send"

    @api.model
    def _get_default_sending_method(self, move):
        # EXTENDS account: marketplace buyers are throw-away partners, so the order decides.
        if move.cdiscount_order_id and self._is_applicable_to_move(METHOD, move):
            return METHOD
        return super()._get_default_sending_method(move)

    @api.model
    def _get_default_invoice_edi_format(self, move):
        # EXTENDS account: the document goes to Cdiscount, not to the throw-away buyer partner.
        if self._get_default_sending_method(move) == METHOD:
            return False
        return super()._get_default_invoice_edi_format(move)

    @api.model
    def _is_applicable_to_company(self, method, company):
        # EXTENDS account
        if method == METHOD:
            return bool(company._cdiscount_default_account())
        return super()._is_applicable_to_company(method, company)

    @api.model
    def _is_applicable_to_move(self, method, move):
        # EXTENDS account
        if method == METHOD:
            return bool(move.cdiscount_order_id) and not move._cdiscount_get_eligibility_error(
                replace=True
            )
        return super()._is_applicable_to_move(method, move)

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
                "message": _("Not sent to Cdiscount:\n%(reasons)s", reasons="\n".join(problems)),
            }
        return alerts

    @api.model
    def _call_web_service_after_invoice_pdf_render(self, invoices_data):
        # EXTENDS account: the PDF exists by now (new or reused), so both formats can go.
        super()._call_web_service_after_invoice_pdf_render(invoices_data)
        for invoice, invoice_data in invoices_data.items():
            if METHOD in invoice_data["sending_methods"] and not invoice_data.get("error"):
                error = self._cdiscount_send(invoice, invoice_data)
                if error:
                    invoice_data["error"] = {
                        "error_title": _("Not sent to Cdiscount:"),
                        "errors": [error],
                    }
        return None  # noqa: PLR1711 (pylint-odoo: an EXTENDS returns what super returns)

    @api.model
    def _cdiscount_send(self, invoice, invoice_data):
        """Upload one invoice from Send & Print; returns an error message or ""."""
        if not invoice.company_id._with_locked_records(invoice, allow_raising=False):
            return _("%(invoice)s is being sent by another process.", invoice=invoice.name)
        error = invoice._cdiscount_get_eligibility_error(replace=True)
        if error:
            return error
        account = invoice.cdiscount_account_id
        file, error = self._cdiscount_file_from_render(invoice, invoice_data, account)
        if error:
            return error
        try:
            invoice._cdiscount_upload_file(account, file)
        except OctopiaError as exc:
            return account._cdiscount_describe_error(exc, invoice)
        return ""

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
