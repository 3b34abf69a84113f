from contextlib import contextmanager
from functools import partial

from stdnum.fr import siren, tva

from odoo import _, api, models

# UNCL 4461 "Online payment service": the buyer paid Cdiscount at checkout. Unlike credit transfer
# (30/58), it needs no payee account (EN 16931 BR-61).
PAYMENT_MEANS_ONLINE = 68
PAYMENT_MEANS_ONLINE_NAME = "Online payment service"
# Plain EN 16931: without a buyer Peppol endpoint (private buyers) the document is not Peppol BIS.
CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017"
SIREN_SCHEME = "0002"  # ISO 6523 ICD of the French SIREN register
MEMO = "cdiscount_ubl_memo"  # the cursor cache key of the answers kept while one invoice builds


class AccountEdiXmlUblCdiscount(models.AbstractModel):
    """UBL 2.1 / EN 16931 invoices for Cdiscount orders: Odoo's BIS 3 builder, with only what
    differs for a marketplace sale to a private buyer overridden.

    Odoo 18.0 builds the document from value dicts (`_export_invoice_vals`, `_get_*_vals`),
    19.0 from nodes (`_get_invoice_node`, `_add_*_nodes`, `_get_*_node`). Each version calls
    only its own hooks, so both sets sit side by side, each marked with the version it serves;
    the Cdiscount decisions they apply are the `_cdiscount_*` helpers, shared."""

    _name = "account.edi.xml.ubl_cdiscount"
    _inherit = "account.edi.xml.ubl_bis3"
    _description = "UBL 2.1 invoice for Cdiscount"

    # --- one invoice's repeated questions, answered once -----------------------------
    def _export_invoice(self, invoice, *args, **kwargs):
        """EXTENDS account_edi_ubl_cii: while one invoice builds, the answers that Odoo's
        builder asks for again and again (a tax category per line and per total, each a
        query of base.europe; a unit's external id per line) are kept for that invoice, or
        for the batch it is built in (_cdiscount_memo_kept)."""
        with self._cdiscount_memo_kept():
            return super()._export_invoice(invoice, *args, **kwargs)

    @contextmanager
    def _cdiscount_memo_kept(self):
        """Keep those answers for every invoice built inside, then forget them: one send
        batch, in which buyers, taxes and units do not change."""
        if self.env.cr.cache.get(MEMO) is not None:
            yield
            return
        self.env.cr.cache[MEMO] = {}
        try:
            yield
        finally:
            self.env.cr.cache.pop(MEMO, None)

    def _cdiscount_memo(self, key, compute):
        memo = self.env.cr.cache.get(MEMO)
        if memo is None:
            return compute()
        if key not in memo:
            memo[key] = compute()
        return memo[key]

    def _get_tax_category_code(self, customer, supplier, tax):  # 19.0
        key = ("tax category", customer.id, supplier.id, tax.id if tax else None)
        compute = partial(super()._get_tax_category_code, customer, supplier, tax)
        return self._cdiscount_memo(key, compute)

    def _get_tax_unece_codes(self, customer, supplier, tax):  # 18.0
        key = ("tax codes", customer.id, supplier.id, tax.id if tax else None)
        compute = partial(super()._get_tax_unece_codes, customer, supplier, tax)
        return dict(self._cdiscount_memo(key, compute))  # the caller's own copy

    def _get_uom_unece_code(self, uom):  # 19.0 (18.0 calls its parent's directly)
        compute = partial(super()._get_uom_unece_code, uom)
        return self._cdiscount_memo(("unit", uom.id), compute)

    # --- Cdiscount decisions (both versions) ---------------------------------------
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

    @api.model
    def _cdiscount_get_address_partner(self, partner):
        """Whose address the buyer party shows: an invoice contact without an address of its own
        takes its company's (BR-10/BR-11 want the buyer's postal address and country)."""
        return partner if partner.country_id else partner.commercial_partner_id

    @api.model
    def _cdiscount_has_tax_scheme(self, commercial_partner):
        """BIS 3 puts the Peppol endpoint in place of a missing VAT number, which gives private
        buyers an empty or bogus tax scheme: a party shows one only with a VAT number."""
        return bool(commercial_partner.vat)

    @api.model
    def _cdiscount_is_vat_scheme(self, scheme_id, partner):
        """Whether a PartyTaxScheme holds a VAT number (BR-CO-09 wants its country prefix).
        19.0 files a number without prefix under NOT_EU_VAT where 18.0 files it under VAT for a
        European party; both are refused alike."""
        if scheme_id == "VAT":
            return True
        europe = self.env.ref("base.europe").country_ids
        return scheme_id == "NOT_EU_VAT" and partner.country_id in europe

    @api.model
    def _cdiscount_get_tax_schemes(self, vals, role):
        """[(scheme id, company id or "")] of the PartyTaxSchemes of the `role` party, read from the
        document being built: its nodes (19.0) or its values (18.0)."""
        if "document_node" in vals:
            party_node = vals["document_node"][f"cac:Accounting{role.title()}Party"]["cac:Party"]
            nodes = party_node["cac:PartyTaxScheme"] or []
            return [
                (node["cac:TaxScheme"]["cbc:ID"]["_text"], node["cbc:CompanyID"]["_text"] or "")
                for node in ([nodes] if isinstance(nodes, dict) else nodes)
            ]
        party_vals = vals["vals"][f"accounting_{role}_party_vals"]["party_vals"]
        return [
            (scheme_vals["tax_scheme_vals"].get("id"), scheme_vals["company_id"] or "")
            for scheme_vals in party_vals["party_tax_scheme_vals"]
        ]

    # --- values (Odoo 18.0) ---------------------------------------------------------
    @api.model
    def _export_invoice_vals(self, invoice):
        # EXTENDS account_edi_ubl_cii (Odoo 18.0): Cdiscount matches the document with its own
        # order id; a credit note names the invoice it cancels.
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

    def _get_invoice_payment_means_vals_list(self, invoice):
        # EXTENDS account_edi_ubl_cii (Odoo 18.0): the order was paid through the marketplace,
        # not by transfer.
        vals_list = super()._get_invoice_payment_means_vals_list(invoice)
        for vals in vals_list:
            vals["payment_means_code"] = PAYMENT_MEANS_ONLINE
            vals["payment_means_code_attrs"] = {"name": PAYMENT_MEANS_ONLINE_NAME}
            vals.pop("payee_financial_account_vals", None)
        return vals_list

    def _get_partner_party_vals(self, partner, role):
        # EXTENDS account_edi_ubl_cii (Odoo 18.0)
        vals = super()._get_partner_party_vals(partner, role)
        if role == "supplier":
            self._cdiscount_set_siren(vals, partner.commercial_partner_id)
            return vals
        address_partner = self._cdiscount_get_address_partner(partner)
        if address_partner != partner:
            vals["postal_address_vals"] = self._get_partner_address_vals(address_partner)
        return vals

    def _cdiscount_set_siren(self, party_vals, partner):
        # Odoo 18.0
        siren_number = self._cdiscount_get_siren(partner)
        if not siren_number:
            return
        for legal_vals in party_vals["party_legal_entity_vals"]:
            legal_vals["company_id"] = siren_number
            legal_vals["company_id_attrs"] = {"schemeID": SIREN_SCHEME}

    def _get_partner_party_tax_scheme_vals_list(self, partner, role):
        # EXTENDS account_edi_ubl_cii (Odoo 18.0)
        if not self._cdiscount_has_tax_scheme(partner):
            return []
        return super()._get_partner_party_tax_scheme_vals_list(partner, role)

    # --- nodes (Odoo 19.0) ----------------------------------------------------------
    def _get_customization_id(self, process_type="billing"):
        # EXTENDS account_edi_ubl_cii (Odoo 19.0)
        if process_type == "billing":
            return CUSTOMIZATION_ID
        return super()._get_customization_id(process_type=process_type)

    def _add_invoice_header_nodes(self, document_node, vals):
        # EXTENDS account_edi_ubl_cii (Odoo 19.0): Cdiscount matches the document with its own
        # order id; a credit note names the invoice it cancels.
        result = super()._add_invoice_header_nodes(document_node, vals)
        invoice = vals["invoice"]
        if invoice.cdiscount_order_ref:
            document_node["cac:OrderReference"]["cbc:ID"] = {"_text": invoice.cdiscount_order_ref}
        origin = self._cdiscount_get_origin_invoice(invoice)
        if origin:
            document_node["cac:BillingReference"] = {
                "cac:InvoiceDocumentReference": {
                    "cbc:ID": {"_text": origin.name},
                    "cbc:IssueDate": {"_text": origin.invoice_date},
                }
            }
        return result

    def _add_invoice_payment_means_nodes(self, document_node, vals):
        # EXTENDS account_edi_ubl_cii (Odoo 19.0): the order was paid through the marketplace,
        # not by transfer.
        result = super()._add_invoice_payment_means_nodes(document_node, vals)
        payment_means = document_node["cac:PaymentMeans"]
        payment_means["cbc:PaymentMeansCode"] = {
            "_text": PAYMENT_MEANS_ONLINE,
            "name": PAYMENT_MEANS_ONLINE_NAME,
        }
        payment_means["cac:PayeeFinancialAccount"] = None
        return result

    def _get_party_node(self, vals):
        # EXTENDS account_edi_ubl_cii (Odoo 19.0)
        party_node = super()._get_party_node(vals)
        partner = vals["partner"]
        if not self._cdiscount_has_tax_scheme(partner.commercial_partner_id):
            party_node["cac:PartyTaxScheme"] = []
        if vals["role"] == "supplier":
            self._cdiscount_set_siren_node(party_node, partner.commercial_partner_id)
            return party_node
        address_partner = self._cdiscount_get_address_partner(partner)
        if address_partner != partner:
            party_node["cac:PostalAddress"] = self._get_address_node(
                {**vals, "partner": address_partner}
            )
        return party_node

    def _cdiscount_set_siren_node(self, party_node, partner):
        # Odoo 19.0
        siren_number = self._cdiscount_get_siren(partner)
        if siren_number:
            party_node["cac:PartyLegalEntity"]["cbc:CompanyID"] = {
                "_text": siren_number,
                "schemeID": SIREN_SCHEME,
            }

    # --- constraints (both versions) ------------------------------------------------
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
            partner = vals[role].commercial_partner_id
            for scheme_id, vat in self._cdiscount_get_tax_schemes(vals, role):
                if self._cdiscount_is_vat_scheme(scheme_id, partner) and not vat[:2].isalpha():
                    constraints[f"cen_en16931_{role}_vat_country_code"] = _(
                        "The VAT number %(vat)s of %(partner)s should start with its country "
                        "code (for example FR).",
                        vat=vat,
                        partner=partner.display_name,
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
