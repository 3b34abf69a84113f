from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from .common import CdiscountCommon


@tagged("post_install", "-at_install")
class TestEligibility(CdiscountCommon):
    """Every refusal names the invoice and the fix, and nothing reaches Cdiscount."""

    def assertRefused(self, invoice, pattern, refused_by_cdiscount=0):
        """Refused with `pattern`; no upload reached Cdiscount unless it answered the refusal."""
        posts = self.sandbox.request_count(method="POST", path_prefix="/seller/")
        with self.assertRaisesRegex(UserError, pattern):
            invoice.action_cdiscount_send()
        sent = self.sandbox.request_count(method="POST", path_prefix="/seller/") - posts
        self.assertEqual(sent, refused_by_cdiscount)
        self.assertFalse(invoice.cdiscount_upload_ids)
        self.assertFalse(self.sandbox.imports_of("SELLER-1"))

    def test_draft_invoice(self):
        invoice = self._invoice(post=False)
        self.assertEqual(invoice.cdiscount_state, "not_applicable")
        self.assertRefused(invoice, "is not posted: confirm it")

    def test_cancelled_invoice(self):
        invoice = self._invoice()
        invoice.button_draft()
        invoice.button_cancel()
        self.assertRefused(invoice, "is not posted")

    def test_vendor_bill(self):
        bill = self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": self.buyer.id,
                "invoice_date": "2026-11-02",
                "invoice_line_ids": [
                    Command.create(
                        {"name": "Stock", "quantity": 1, "price_unit": 10.0, "tax_ids": []}
                    )
                ],
            }
        )
        bill.action_post()
        self.assertRefused(bill, "is not a customer invoice")

    def test_invoice_without_order(self):
        invoice = self.init_invoice(
            "out_invoice", partner=self.buyer, products=self.product, post=True
        )
        self.assertEqual(invoice.cdiscount_state, "not_applicable")
        self.assertRefused(invoice, f"{invoice.name} is not linked to a Cdiscount order")

    def test_invoice_of_an_order_without_cdiscount_id(self):
        invoice = self._invoice(order=self._order(ref=False))
        self.assertRefused(invoice, "is not linked to a Cdiscount order")

    def test_invoice_mixing_two_cdiscount_orders(self):
        first, second = self._order(), self._order()
        invoice = (first | second)._create_invoices()
        invoice.action_post()
        self.assertEqual(invoice.cdiscount_order_count, 2)
        self.assertFalse(invoice.cdiscount_order_id)
        self.assertRefused(invoice, f"mixes several Cdiscount orders.*{first.cdiscount_order_ref}")

    def test_order_id_with_spaces_or_slashes(self):
        for ref in ("CD 2001", "CD/2001", "../etc", "CD.2001"):
            with self.subTest(ref=ref):
                invoice = self._invoice(order=self._order(ref=ref))
                self.assertRefused(invoice, "cannot be used as a file name")

    def test_company_without_cdiscount_account(self):
        invoice = self._invoice()
        self.account.active = False
        invoice.invalidate_recordset(["cdiscount_account_id"])
        self.assertRefused(invoice, "is archived: restore it")
        invoice.cdiscount_order_id.cdiscount_account_id = False
        self.assertRefused(invoice, "No Cdiscount account is set up for")

    def test_credit_note_refused_unless_enabled(self):
        invoice = self._invoice()
        refund = invoice._reverse_moves()
        refund.action_post()
        self.assertEqual(refund.cdiscount_order_id, invoice.cdiscount_order_id)
        self.assertRefused(refund, "is a credit note, and uploading credit notes is off")
        self.account.upload_credit_notes = True
        refund.action_cdiscount_send()
        self.assertEqual(refund.cdiscount_state, "running")

    def test_missing_secret(self):
        self.account.client_secret = False
        self.assertRefused(self._invoice(), "is incomplete: enter its seller id")

    def test_wrong_secret(self):
        self.account.client_secret = "not-the-secret"
        self.assertRefused(self._invoice(), "refused the client id or secret")

    def test_wrong_seller_id(self):
        self.account.seller_id = "SELLER-OF-SOMEONE-ELSE"
        self.assertRefused(
            self._invoice(), "may not upload invoices for seller", refused_by_cdiscount=1
        )

    def test_sandbox_down(self):
        self.account.sandbox_api_url = "http://127.0.0.1:9/seller/v2"
        self.account.sandbox_auth_url = "http://127.0.0.1:9/token"
        self.assertRefused(self._invoice(), "could not be reached; nothing was sent")

    def test_not_json_answer(self):
        self.sandbox.inject(
            "raw",
            path="/invoice-documents",
            method="POST",
            status=400,
            body=b"<html>bad gateway</html>",
            content_type="text/html",
        )
        self.assertRefused(self._invoice(), "HTTP 400", refused_by_cdiscount=1)

    def test_file_over_the_size_limit(self):
        self.account.max_file_bytes = 200
        self.assertRefused(self._invoice(), "cannot be sent: .*(large|limit|bytes)")

    def test_user_without_the_right(self):
        invoice = self._invoice()
        user = new_test_user(self.env, login="readonly-cd", groups="account.group_account_readonly")
        with self.assertRaisesRegex(Exception, "not allowed to send invoices to Cdiscount"):
            invoice.with_user(user).action_cdiscount_send()

    def test_duplicate_order_id_in_company(self):
        order = self._order()
        with self.assertRaisesRegex(Exception, "already used by"):
            self._order(ref=order.cdiscount_order_ref)
