from stdnum.fr import siren, tva

from odoo import _, api, models

# UNCL 4461 "Online payment service": the buyer paid Cdiscount at checkout. Unlike credit transfer
# (30/58), it needs no payee account (EN 16931 BR-61).
PAYMENT_MEANS_ONLINE = 68
# Plain EN 16931: without a buyer Peppol endpoint (private buyers) the document is not Peppol BIS.
CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017"
SIREN_SCHEME = "0002"  # ISO 6523 ICD of the French SIREN register


class AccountEdiXmlUblCdiscount(models.AbstractModel):
    """UBL 2.1 / EN 16931 invoices for Cdiscount orders: Odoo's BIS 3 builder, with only what
    differs for a marketplace sale to a private buyer overridden."""

    _name = "account.edi.xml.ubl_cdiscount"
    _inherit = "account.edi.xml.ubl_bis3"
    _description = "UBL 2.1 invoice for Cdiscount"

    # --- values ---------------------------------------------------------------------
    @api.model
    def _export_invoice_vals(self, invoice):
        # EXTENDS account_edi_ubl_cii: Cdiscount matches the document with its own order id.
        vals = super()._export_invoice_vals(invoice)
        vals["vals"]["customization_id"] = CUSTOMIZATION_ID
        if invoice.cdiscount_order_ref:
            vals["vals"]["order_reference"] = invoice.cdiscount_order_ref
        origin = self._cdiscount_get_origin_invoice(invoice)
        if origin:
            vals["vals"]["billing_reference_vals"] = {
                "id": origin.name,
                "issue_date": origin.invoice_date,
            }
        return vals

    @api.model
    def _cdiscount_get_origin_invoice(self, invoice):
        """The invoice a credit note cancels: the reversed one, else (a credit note made from the
        sale order after a return) the order's last posted invoice."""
        if invoice.move_type != "out_refund":
            return invoice.browse()
        if invoice.reversed_entry_id:
            return invoice.reversed_entry_id
        return invoice.cdiscount_order_id.invoice_ids.filtered(
            lambda m: m.move_type == "out_invoice" and m.state == "posted"
        ).sorted("id")[-1:]

    def _get_invoice_payment_means_vals_list(self, invoice):
        # EXTENDS account_edi_ubl_cii: the order was paid through the marketplace, not by transfer.
        vals_list = super()._get_invoice_payment_means_vals_list(invoice)
        for vals in vals_list:
            vals["payment_means_code"] = PAYMENT_MEANS_ONLINE
            vals["payment_means_code_attrs"] = {"name": "Online payment service"}
            vals.pop("payee_financial_account_vals", None)
        return vals_list

    def _get_partner_party_vals(self, partner, role):
        # EXTENDS account_edi_ubl_cii
        vals = super()._get_partner_party_vals(partner, role)
        if role == "supplier":
            self._cdiscount_set_siren(vals, partner.commercial_partner_id)
        elif not partner.country_id:
            # An invoice contact without an address of its own: BR-10/BR-11 want the buyer's.
            vals["postal_address_vals"] = self._get_partner_address_vals(
                partner.commercial_partner_id
            )
        return vals

    def _cdiscount_set_siren(self, party_vals, partner):
        siren_number = self._cdiscount_get_siren(partner)
        if not siren_number:
            return
        for legal_vals in party_vals["party_legal_entity_vals"]:
            legal_vals["company_id"] = siren_number
            legal_vals["company_id_attrs"] = {"schemeID": SIREN_SCHEME}

    @api.model
    def _cdiscount_get_siren(self, partner):
        """The SIREN of a French company: the start of its registry number (SIREN or SIRET),
        else read from its French VAT number (FR + 2-digit key + SIREN); "" when unknown."""
        if partner.country_code != "FR":
            return ""
        registry = "".join(c for c in partner.company_registry or "" if c.isdigit())[:9]
        if siren.is_valid(registry):
            return registry
        vat = (partner.vat or "").replace(" ", "").upper()
        if vat.startswith("FR") and tva.is_valid(vat):
            return vat[4:]
        return ""

    def _get_partner_party_tax_scheme_vals_list(self, partner, role):
        # EXTENDS account_edi_ubl_cii: BIS 3 puts the Peppol endpoint in place of a missing VAT
        # number, which gives private buyers an empty or bogus tax scheme.
        if not partner.vat:
            return []
        return super()._get_partner_party_tax_scheme_vals_list(partner, role)

    # --- constraints ----------------------------------------------------------------
    def _export_invoice_constraints(self, invoice, vals):
        # EXTENDS account_edi_ubl_cii
        constraints = super()._export_invoice_constraints(invoice, vals)
        constraints.update(self._cdiscount_constraints(invoice, vals))
        return constraints

    def _invoice_constraints_peppol_en16931_ubl(self, invoice, vals):
        # OVERRIDE account_edi_ubl_cii: Peppol network and national (NL, NO) rules about endpoints
        # and registries; the document goes to Cdiscount, not over Peppol.
        return {}

    def _invoice_constraints_cen_en16931_ubl(self, invoice, vals):
        # EXTENDS account_edi_ubl_cii: Odoo checks BR-CO-09 only for a hard-coded list of models.
        constraints = super()._invoice_constraints_cen_en16931_ubl(invoice, vals)
        for role in ("supplier", "customer"):
            party_vals = vals["vals"][f"accounting_{role}_party_vals"]["party_vals"]
            for scheme_vals in party_vals["party_tax_scheme_vals"]:
                vat = scheme_vals["company_id"] or ""
                if scheme_vals["tax_scheme_vals"].get("id") == "VAT" and not vat[:2].isalpha():
                    constraints[f"cen_en16931_{role}_vat_country_code"] = _(
                        "The VAT number %(vat)s of %(partner)s should start with its country "
                        "code (for example FR).",
                        vat=vat,
                        partner=party_vals["partner"].commercial_partner_id.display_name,
                    )
        return constraints

    def _cdiscount_constraints(self, invoice, vals):
        supplier = vals["supplier"]
        constraints = {
            # BR-S-02 and its siblings for every VAT category Odoo can produce.
            "cdiscount_supplier_vat": _(
                "%(company)s has no VAT number: an invoice charging VAT must show the seller's. "
                "Set it on the company.",
                company=supplier.display_name,
            )
            if not supplier.vat
            else None,
            "cdiscount_supplier_siren": _(
                "%(company)s has no valid SIREN: set the company registry (SIREN or SIRET) or a "
                "French VAT number on the company.",
                company=supplier.display_name,
            )
            if supplier.country_code == "FR" and not self._cdiscount_get_siren(supplier)
            else None,
        }
        if invoice.move_type == "out_refund" and not self._cdiscount_get_origin_invoice(invoice):
            constraints["cdiscount_credit_note_origin"] = _(
                "Credit note %(credit_note)s does not say which invoice it cancels: create it by "
                "reversing the invoice of the order.",
                credit_note=invoice.name,
            )
        return constraints
