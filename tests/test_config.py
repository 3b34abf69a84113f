from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.modules.neutralize import get_neutralization_queries
from odoo.tests import new_test_user, tagged

from .common import CdiscountCommon


@tagged("post_install", "-at_install")
class TestConfiguration(CdiscountCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.invoicing_user = new_test_user(
            cls.env,
            login="cd-invoicing",
            groups="account.group_account_invoice",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.accountant = new_test_user(
            cls.env,
            login="cd-manager",
            groups="account.group_account_manager",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.employee = new_test_user(
            cls.env,
            login="cd-employee",
            groups="base.group_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )

    def test_groups_follow_accounting_rights(self):
        self.assertTrue(
            self.invoicing_user.has_group("cdiscount_invoice_upload.group_cdiscount_user")
        )
        self.assertFalse(
            self.invoicing_user.has_group("cdiscount_invoice_upload.group_cdiscount_manager")
        )
        self.assertTrue(
            self.accountant.has_group("cdiscount_invoice_upload.group_cdiscount_manager")
        )
        self.assertFalse(self.employee.has_group("cdiscount_invoice_upload.group_cdiscount_user"))

    def test_secret_is_for_settings_administrators_only(self):
        for user in (self.invoicing_user, self.accountant, self.employee):
            account = self.account.with_user(user)
            with self.subTest(user=user.login):
                with self.assertRaises(AccessError):
                    account.read(["client_secret"])
                with self.assertRaises(AccessError):
                    account.search_read([], ["client_secret"])
                self.assertNotIn("client_secret", account.fields_get())
                exported = account.sudo(False)._export_rows([["name"], ["seller_id"]])
                self.assertNotIn(self.account.sudo().client_secret, str(exported))
        self.assertTrue(self.account.with_user(self.accountant).has_client_secret)
        self.assertEqual(
            self.account.read(["client_secret"])[0]["client_secret"],
            self.account.sudo().client_secret,
        )

    def test_manager_configures_but_cannot_set_the_secret(self):
        account = self.account.with_user(self.accountant)
        account.document_format = "pdf"
        with self.assertRaises(AccessError):
            account.write({"client_secret": "x"})
        with self.assertRaises(AccessError):
            self.account.with_user(self.invoicing_user).write({"document_format": "ubl"})

    def test_everybody_reads_statuses(self):
        invoice = self._invoice()
        invoice.action_cdiscount_send()
        upload = invoice.cdiscount_last_upload_id.with_user(self.employee)
        self.assertEqual(upload.state, "running")
        self.assertTrue(upload.import_id.name)

    def test_invoicing_user_sends(self):
        invoice = self._invoice()
        invoice.with_user(self.invoicing_user).action_cdiscount_send()
        self.assertEqual(invoice.cdiscount_state, "running")
        self.assertEqual(invoice.cdiscount_last_upload_id.user_id, self.invoicing_user)

    def test_test_connection_in_plain_words(self):
        action = self.account.action_test_connection()
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn("SELLER-1", self.account.last_check_message)
        self.account.client_secret = "wrong"
        with self.assertRaisesRegex(UserError, "refused the client id or secret"):
            self.account.action_test_connection()

    def test_secret_never_in_messages_or_errors(self):
        secret = self.account.sudo().client_secret
        invoice = self._invoice()
        self.sandbox.inject("status", path="/invoice-documents", status=403)
        with self.assertRaises(UserError) as caught:
            invoice.action_cdiscount_send()
        self.assertNotIn(secret, str(caught.exception))
        invoice.action_cdiscount_send()
        bodies = " ".join(
            invoice.message_ids.mapped("body")
            + invoice.cdiscount_order_id.message_ids.mapped("body")
        )
        self.assertNotIn(secret, bodies)

    def test_neutralize_switches_to_sandbox_and_clears_secrets(self):
        self.account.environment = "production"
        self.env.flush_all()
        queries = get_neutralization_queries(["cdiscount_invoice_upload"])
        for query in queries:
            self.env.cr.execute(query)
        self.account.invalidate_recordset()
        self.assertEqual(self.account.environment, "sandbox")
        self.assertFalse(self.account.client_secret)


@tagged("post_install", "-at_install")
class TestMultiCompany(CdiscountCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.setup_other_company(name="Shop B")["company"]
        # Company B keeps the fiscal country of its generic chart of accounts (its taxes').
        cls.company_b.write(
            {
                k: v
                for k, v in cls._french_company_vals().items()
                if k != "account_fiscal_country_id"
            }
        )
        cls.account_b = cls._cdiscount_account(
            cls.company_b,
            name="Cdiscount B",
            seller_id="SELLER-B",
            client_id="client-b",
            client_secret="secret-b",
        )
        cls.sandbox.add_client("client-b", "secret-b", ["SELLER-B"])
        cls.user_a = new_test_user(
            cls.env,
            login="cd-user-a",
            groups="account.group_account_invoice",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )

    def test_user_of_company_a_sees_nothing_of_company_b(self):
        Account = self.env["cdiscount.account"].with_user(self.user_a)
        self.assertEqual(Account.search([]), self.account)
        with self.assertRaises(AccessError):
            self.account_b.with_user(self.user_a).read(["name"])

    def test_each_company_uploads_with_its_own_account(self):
        self.sandbox.add_orders("SELLER-B", ["CD-B-1"])
        product_b = self.product.with_company(self.company_b)
        order_b = self._order(
            ref="CD-B-1", company=self.company_b, lines=[(product_b, 1, 10.0, 0.0)]
        )
        invoice_b = self._invoice(order_b)
        self.assertEqual(invoice_b.cdiscount_account_id, self.account_b)
        invoice_b.action_cdiscount_send()
        self.assertEqual(len(self.sandbox.imports_of("SELLER-B")), 1)
        self.assertFalse(self.sandbox.imports_of("SELLER-1"))
        imports = self.env["cdiscount.import"].with_user(self.user_a).search([])
        self.assertFalse(imports, "company B's import is invisible to company A")

    def test_same_order_id_allowed_in_two_companies(self):
        self._order(ref="CD-SHARED")
        product_b = self.product.with_company(self.company_b)
        self._order(ref="CD-SHARED", company=self.company_b, lines=[(product_b, 1, 10.0, 0.0)])


@tagged("post_install", "-at_install")
class TestOrderReference(CdiscountCommon):
    def test_order_id_read_from_the_customer_reference_when_configured(self):
        team = self.env["crm.team"].create({"name": "Cdiscount"})
        self.company.write(
            {"cdiscount_order_ref_source": "client_order_ref", "cdiscount_team_id": team.id}
        )
        order = self._order(ref=False, client_order_ref=" CD-3001 ", team_id=team.id)
        self.assertEqual(order.cdiscount_order_ref, "CD-3001")
        other_team = self.env["crm.team"].create({"name": "Shop"})
        order_b = self._order(ref=False, client_order_ref="PO-77", team_id=other_team.id)
        self.assertFalse(order_b.cdiscount_order_ref, "orders of other teams are not Cdiscount's")

    def test_dedicated_field_by_default(self):
        order = self._order(ref="CD-3002", client_order_ref="PO-1")
        self.assertEqual(order.cdiscount_order_ref, "CD-3002")
        self.assertEqual(order.cdiscount_account_id, self.account)
