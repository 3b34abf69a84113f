from odoo import api, models


class AccountEdiXmlUblCdiscount(models.AbstractModel):
    """UBL 2.1 / EN 16931 invoices for Cdiscount orders: Odoo's BIS 3 builder, with only what
    differs for a marketplace sale overridden."""

    _name = "account.edi.xml.ubl_cdiscount"
    _inherit = "account.edi.xml.ubl_bis3"
    _description = "UBL 2.1 invoice for Cdiscount"

    @api.model
    def _export_invoice_vals(self, invoice):
        # EXTENDS account_edi_ubl_cii: Cdiscount matches the document with its own order id.
        vals = super()._export_invoice_vals(invoice)
        if invoice.cdiscount_order_ref:
            vals["vals"]["order_reference"] = invoice.cdiscount_order_ref
        return vals
