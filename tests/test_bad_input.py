"""What users get wrong, and what they are told: each case asserts the message they see and
that nothing reached Cdiscount. Completes tests/test_eligibility.py (draft, cancelled, vendor
bill, no order, two orders, spaces and slashes, no account, credit note, missing or wrong
secret, wrong seller, network down, non-JSON answer, file too large, user without the right,
order id used twice) without repeating it."""

from lxml import etree

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from octopia import bundle
from octopia.sandbox import DEMO_CLIENT_SECRET

from .common import CdiscountCommon
from .test_reliability import BULK, SEND_CRON, FaultTools

UBL_REFUSED = "The UBL invoice of %s cannot be built. Fix the following and send it again:"


@tagged("post_install", "-at_install")
class TestBadInput(FaultTools, CdiscountCommon):
    @classmethod
    def setup_independent_company(cls, **kwargs):
        # A French seller keeps its books in euros; USD is the foreign currency here.
        euro = cls._enable_currency("EUR")
        return super().setup_independent_company(currency_id=euro.id, **kwargs)

    def setUp(self):
        super().setUp()
        self._tune_client()

    def assertRefused(self, call, pattern, exception=UserError):
        """`call()` raises `exception` matching `pattern`, and no upload reached Cdiscount."""
        posts = self._api_posts()
        with self.assertRaisesRegex(exception, pattern):
            call()
        self.assertEqual(self._api_posts(), posts, "something was sent")

    def _wizard(self, moves, model="account.move", user=None):
        Wizard = self.env["account.move.cdiscount.send"]
        if user:
            Wizard = Wizard.with_user(user)
        return Wizard.with_context(active_model=model, active_ids=moves.ids).create({})

    def _ubl_of(self, invoice):
        upload = invoice.cdiscount_last_upload_id
        return etree.fromstring(upload.attachment_id.raw)

    # --- order ids ----------------------------------------------------------------------
    def test_order_id_too_long(self):
        invoice = self._invoice(order=self._order(ref="C" * 65))
        self.assertRefused(invoice.action_cdiscount_send, "cannot be used as a file name")
        self.assertFalse(
            self._invoice(order=self._order(ref="C" * 64))._cdiscount_get_eligibility_error()
        )

    def test_non_ascii_order_id(self):
        invoice = self._invoice(order=self._order(ref="CDé-1"))
        self.assertRefused(invoice.action_cdiscount_send, "“CDé-1” .* cannot be used as a file")

    def test_order_id_with_stray_whitespace(self):
        for ref in (" CD-2051", "CD-2052 ", "CD-2053\n", "CD\t2054"):
            with self.subTest(ref=repr(ref)):
                invoice = self._invoice(order=self._order(ref=ref))
                self.assertRefused(invoice.action_cdiscount_send, "cannot be used as a file name")
                self.assertFalse(invoice.cdiscount_upload_ids)

    def test_two_invoices_of_one_order_in_one_wizard_selection(self):
        self.account.upload_credit_notes = True
        invoice = self._invoice()
        refund = invoice._reverse_moves()
        refund.action_post()
        wizard = self._wizard(invoice | refund)
        wizard.action_send()
        self.assertIn(
            f"another invoice of order {invoice.cdiscount_order_ref} is in the same selection",
            wizard.result_summary,
        )
        self.assertEqual(self._count("POST", BULK), 1)
        self.assertEqual(invoice.cdiscount_import_id.file_count, 1)
        self.assertFalse(refund.cdiscount_upload_ids, "the second one was not sent")

    # --- the seller's company (EN 16931 through Odoo's builder) -------------------------
    def test_company_without_vat(self):
        invoice = self._invoice()
        self.company.vat = False
        self.assertRefused(
            invoice.action_cdiscount_send,
            f"{UBL_REFUSED % invoice.name}\n- {self.company.name} has no VAT number: an invoice "
            "charging VAT must show the seller's.",
        )
        self.assertFalse(invoice.cdiscount_upload_ids)

    def test_company_without_siren(self):
        invoice = self._invoice()
        self.company.write({"company_registry": "33417522", "vat": False})  # a digit short
        self.assertRefused(
            invoice.action_cdiscount_send,
            f"\n- {self.company.name} has no valid SIREN: set the company registry \\(SIREN or "
            "SIRET\\) or a French VAT number on the company.",
        )

    def test_company_without_address(self):
        invoice = self._invoice()
        self.company.partner_id.write(
            {"street": False, "zip": False, "city": False, "country_id": False}
        )
        self.assertRefused(
            invoice.action_cdiscount_send, "The country is required for the supplier."
        )

    def test_buyer_without_address_nor_country(self):
        nowhere = self.env["res.partner"].create({"name": "Dominique Sans Adresse"})
        invoice = self._invoice(partner=nowhere)
        self.assertRefused(
            invoice.action_cdiscount_send,
            f"{UBL_REFUSED % invoice.name}\n- The country is required for the customer.",
        )

    def test_buyer_with_a_country_only_is_sent(self):
        """EN 16931 wants the buyer's country code (BR-11), not the street (BT-50 optional)."""
        partner = self.env["res.partner"].create(
            {"name": "Alex Sans Rue", "country_id": self.env.ref("base.fr").id}
        )
        invoice = self._invoice(partner=partner)
        invoice.action_cdiscount_send()
        self._finish_via_cron()
        self.assertEqual(invoice.cdiscount_state, "success")

    def test_line_without_tax(self):
        invoice = self._invoice(post=False)
        invoice.invoice_line_ids.tax_ids = False
        invoice.action_post()
        self.assertRefused(
            invoice.action_cdiscount_send, "Each invoice line shall have one and only one tax."
        )

    # --- amounts and currencies ---------------------------------------------------------
    def test_zero_amount_invoice_is_sent(self):
        """Allowed: EN 16931 has no rule against a zero total (BR-CO-25 only asks for a due date
        or terms when the amount due is positive) and Odoo posts it; a free order still gets
        its invoice on Cdiscount."""
        invoice = self._invoice(lines=[(self.product, 1, 49.99, 100.0)])
        self.assertTrue(invoice.currency_id.is_zero(invoice.amount_total))
        invoice.action_cdiscount_send()
        self._finish_via_cron()
        self.assertEqual(invoice.cdiscount_state, "success")
        tree = self._ubl_of(invoice)
        payable = tree.findtext(".//{*}LegalMonetaryTotal/{*}PayableAmount")
        self.assertEqual(float(payable), 0.0)

    def test_foreign_currency_is_sent(self):
        usd = self.setup_other_currency("USD")
        pricelist = self.env["product.pricelist"].create({"name": "USD", "currency_id": usd.id})
        invoice = self._invoice(pricelist_id=pricelist.id)
        self.assertNotEqual(invoice.currency_id, self.company.currency_id)
        invoice.action_cdiscount_send()
        self._finish_via_cron()
        self.assertEqual(invoice.cdiscount_state, "success")
        self.assertEqual(self._ubl_of(invoice).findtext("{*}DocumentCurrencyCode"), "USD")

    # --- sizes --------------------------------------------------------------------------
    def _small_and_big(self):
        small = self._invoice()
        big = self._invoice(lines=[(self.product, n + 1, 10.0 + n, 0.0) for n in range(12)])
        files = [m._cdiscount_prepare_file(self.account)[0] for m in (small, big)]
        self.assertLess(files[0].size, files[1].size)
        return small, big, files

    def test_file_over_the_size_limit_in_bulk(self):
        small, big, (small_file, big_file) = self._small_and_big()
        self.account.max_file_bytes = small_file.size + 1
        wizard = self._wizard(small | big)
        wizard.action_send()
        self.assertEqual(big.cdiscount_state, "error")
        size = bundle.size_text(big_file.size)
        self.assertIn(f"the file is too large ({size}; the limit is", big.cdiscount_error)
        self.assertIn(f"{big.name} not sent", wizard.result_summary)
        self.assertEqual(self._count("POST", BULK), 1)
        self.assertEqual(small.cdiscount_import_id.file_count, 1)

    def test_one_file_over_the_request_limit_in_bulk(self):
        small, big, (small_file, _big_file) = self._small_and_big()
        self.account.max_request_bytes = bundle.ZIP_END_RECORD + bundle.entry_cost(small_file) + 1
        wizard = self._wizard(small | big)
        wizard.action_send()
        self.assertIn("cannot fit in one upload of at most", wizard.result_summary)
        self.assertIn(big.name, wizard.result_summary)
        self.assertFalse(big.cdiscount_upload_ids)
        self.assertEqual(big.cdiscount_state, "to_send")
        self.assertEqual(self._count("POST", BULK), 1)
        self.assertEqual(small.cdiscount_state, "running")

    # --- selections and rights ------------------------------------------------------------
    def test_empty_selection_in_the_wizard(self):
        order_without_invoice = self._order()
        wizard = self._wizard(order_without_invoice, model="sale.order")
        self.assertFalse(wizard.move_ids)
        self.assertRefused(wizard.action_send, "None of the selected invoices can be sent")

    def test_send_on_nothing(self):
        self.assertRefused(
            self.env["account.move"].action_cdiscount_send,
            "Select at least one posted invoice of a Cdiscount order.",
        )

    def test_wizard_for_a_user_without_the_right(self):
        invoice = self._invoice()
        user = new_test_user(self.env, login="cd-ro-w", groups="account.group_account_readonly")
        self.assertRefused(lambda: self._wizard(invoice, user=user), "not allowed", AccessError)

    def test_already_queued(self):
        invoice = self._invoice()
        invoice._cdiscount_queue()
        self.assertRefused(invoice.action_cdiscount_send, "is already queued for Cdiscount")

    # --- account settings -----------------------------------------------------------------
    def test_missing_sandbox_url(self):
        self.account.sandbox_api_url = False
        self.assertRefused(self._invoice().action_cdiscount_send, "is incomplete")

    def test_secret_pasted_with_a_trailing_space(self):
        self.account.client_secret = DEMO_CLIENT_SECRET + " "
        self.assertRefused(self._invoice().action_cdiscount_send, "refused the client id or secret")

    def assertSellerIdHandled(self, value):
        """A seller id that cannot be an HTTP header value is refused where it is typed, or
        cleaned, or refused at send time naming the seller id: never sent, never "outcome
        unknown", never a crash (interactive or in the send cron)."""
        try:
            with self.env.cr.savepoint():
                self.account.seller_id = value
                self.env.flush_all()
        except ValidationError as exc:
            self.assertRegex(str(exc), "(?i)seller id")
            return
        invoice, queued = self._invoice(), self._invoice()
        if self.account.seller_id != value:  # cleaned when saved
            invoice.action_cdiscount_send()
            self.assertEqual(invoice.cdiscount_state, "running")
            return
        self.assertRefused(invoice.action_cdiscount_send, "(?i)seller id")
        self.assertFalse(invoice.cdiscount_upload_ids)
        queued._cdiscount_queue()
        self._run_cron(SEND_CRON)  # must not raise
        self.assertEqual(queued.cdiscount_state, "error")
        self.assertRegex(queued.cdiscount_error, "(?i)seller id")
        self.assertEqual(self._api_posts(), 0)

    def test_seller_id_pasted_with_a_leading_space(self):
        self.assertSellerIdHandled(" SELLER-1")

    def test_seller_id_with_a_non_latin1_character(self):
        self.assertSellerIdHandled("SELLER\u20111")  # a non-breaking hyphen, from a web page

    def test_zero_files_per_zip(self):
        invoices = self._invoice() | self._invoice()
        try:
            with self.env.cr.savepoint():
                self.account.max_files_per_zip = 0
                self.env.flush_all()
        except ValidationError:
            return  # refused where it is typed: fine
        invoices._cdiscount_queue()
        self._run_cron(SEND_CRON)  # must not raise
        self.assertEqual(self._count("POST", BULK), 0)
        self.assertEqual(set(invoices.mapped("cdiscount_state")), {"error"})

    def test_order_account_archived_with_another_account_in_the_company(self):
        other = self._cdiscount_account(self.company, name="Other seller", seller_id="SELLER-2")
        order = self._order()
        self.assertEqual(order.cdiscount_account_id, self.account)
        invoice = self._invoice(order)
        other.sequence = 1  # the company's first account now
        self.account.active = False
        invoice.invalidate_recordset(["cdiscount_account_id"])
        self.assertRefused(invoice.action_cdiscount_send, "(?i)archived")
        self.assertFalse(self.sandbox.imports_of("SELLER-2"))
