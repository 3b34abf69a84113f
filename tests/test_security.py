"""The addon as an attacker with an ordinary account sees it: over JSON-RPC (/web/dataset/call_kw),
as each kind of user, every public method and every write the views hide."""

import inspect

from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import JsonRpcException

from .common import CdiscountCommon

ADDON_MODULE = "odoo.addons.cdiscount_invoice_upload."
REFUSALS = ("odoo.exceptions.AccessError", "odoo.exceptions.UserError")
# Every model the addon defines or extends, with the record each method is called on.
ADDON_MODELS = (
    "cdiscount.account",
    "cdiscount.import",
    "cdiscount.upload",
    "account.move",
    "sale.order",
    "account.move.cdiscount.send",
    "account.move.send.wizard",
    "res.config.settings",
    "res.company",
    "res.partner",
    "ir.attachment",
)
# The ORM entry points the addon overrides: tried with forged values by the tests below.
ORM_METHODS = {"create", "write", "unlink", "copy", "default_get", "button_draft"}


@tagged("post_install", "-at_install")
class TestRpcSecurity(CdiscountCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.employee = cls._rpc_user("cd-employee", "base.group_user")
        cls.reader = cls._rpc_user("cd-readonly", "account.group_account_readonly")
        cls.invoicing = cls._rpc_user("cd-invoicing", "account.group_account_invoice")
        cls.manager = cls._rpc_user("cd-manager", "account.group_account_manager")
        cls.invoice = cls._invoice()
        cls.invoice.action_cdiscount_send()
        cls.upload = cls.invoice.cdiscount_last_upload_id
        cls.imp = cls.upload.import_id
        cls.foreign_note = cls.env.ref("base.partner_admin").sudo().message_post(body="Not ours")

    @classmethod
    def _rpc_user(cls, login, groups, company=None):
        company = company or cls.company
        return new_test_user(
            cls.env,
            login=login,
            groups=groups,
            company_id=company.id,
            company_ids=[Command.set(company.ids)],
        )

    # --- the attacker's tools ------------------------------------------------------
    def rpc(self, user, model, method, *args, **kwargs):
        self.authenticate(user.login, user.login)
        params = {"model": model, "method": method, "args": list(args), "kwargs": kwargs}
        return self.make_jsonrpc_request("/web/dataset/call_kw", params)

    def assertRefused(self, user, model, method, *args, **kwargs):
        """Refused with Odoo's access or user error, and nothing left for Octopia."""
        before = self.sandbox.request_count()
        with self.assertRaises(JsonRpcException) as info:
            self.rpc(user, model, method, *args, **kwargs)
        self.assertIn(str(info.exception), REFUSALS, f"{model}.{method} as {user.login}")
        self.assertEqual(self.sandbox.request_count(), before, f"{model}.{method} reached Octopia")

    def _addon_public_methods(self, model_name):
        """Public methods that the addon's own classes define on this model."""
        names = set()
        for klass in type(self.env[model_name]).__mro__:
            if klass.__module__.startswith(ADDON_MODULE):
                names.update(
                    name
                    for name, value in vars(klass).items()
                    if not name.startswith("_") and inspect.isfunction(value)
                )
        return names - ORM_METHODS

    def _record_for(self, model_name):
        records = {
            "cdiscount.account": self.account,
            "cdiscount.import": self.imp,
            "cdiscount.upload": self.upload,
            "account.move": self.invoice,
            "sale.order": self.invoice.cdiscount_order_id,
            "ir.attachment": self.upload.attachment_id,
            "res.config.settings": self.env["res.config.settings"].create({}),
            "account.move.cdiscount.send": self.env["account.move.cdiscount.send"]
            .with_context(active_model="account.move", active_ids=self.invoice.ids)
            .create({}),
        }
        return records.get(model_name, self.env[model_name])

    # --- every public method --------------------------------------------------------
    def test_every_public_method_is_refused_without_the_right(self):
        tried = []
        for model_name in ADDON_MODELS:
            record = self._record_for(model_name)
            for method in sorted(self._addon_public_methods(model_name)):
                for user in (self.employee, self.reader):
                    with self.subTest(model=model_name, method=method, user=user.login):
                        self.assertRefused(user, model_name, method, record.ids)
                tried.append(f"{model_name}.{method}")
        self.assertIn("cdiscount.account.action_test_connection", tried)
        self.assertIn("account.move.action_cdiscount_send", tried)
        self.assertIn("cdiscount.import.action_sync", tried)
        self.assertGreaterEqual(len(tried), 12, tried)

    def test_test_connection_is_a_managers_call(self):
        self.assertRefused(
            self.invoicing, "cdiscount.account", "action_test_connection", self.account.ids
        )
        result = self.rpc(
            self.manager, "cdiscount.account", "action_test_connection", self.account.ids
        )
        self.assertEqual(result["params"]["type"], "success")

    def test_sync_checks_the_right_before_calling_out(self):
        self.assertRefused(self.reader, "cdiscount.import", "action_sync", self.imp.ids)
        before = self.sandbox.request_count()
        self.rpc(self.invoicing, "cdiscount.import", "action_sync", self.imp.ids)
        self.assertGreater(self.sandbox.request_count(), before, "the legitimate path works")

    # --- the secret and where it goes ------------------------------------------------
    def test_manager_cannot_redirect_the_secret(self):
        account = self.account.sudo()
        account.write({"environment": "production"})
        ids = account.ids
        self.assertRefused(
            self.manager, "cdiscount.account", "write", ids, {"environment": "sandbox"}
        )
        self.assertRefused(
            self.manager, "cdiscount.account", "write", ids, {"sandbox_api_url": "http://evil.test"}
        )
        self.assertRefused(
            self.manager, "cdiscount.account", "copy", ids, default={"environment": "sandbox"}
        )
        self.assertRefused(
            self.manager,
            "cdiscount.account",
            "create",
            [
                {
                    "name": "Mine",
                    "seller_id": "S-2",
                    "client_id": "c-2",
                    "environment": "sandbox",
                    "sandbox_auth_url": "http://evil.test/token",
                }
            ],
        )
        self.assertEqual(account.environment, "production")
        self.assertEqual(account.sandbox_auth_url, self.sandbox.auth_url)

    def test_manager_still_creates_and_copies_production_accounts(self):
        created = self.rpc(
            self.manager,
            "cdiscount.account",
            "create",
            [{"name": "Second shop", "seller_id": "S-3", "client_id": "c-3"}],
        )
        account = self.env["cdiscount.account"].browse(created)
        self.assertEqual(account.environment, "production")
        copied = self.rpc(
            self.manager, "cdiscount.account", "copy", account.ids, default={"seller_id": "S-4"}
        )
        copy = self.env["cdiscount.account"].browse(copied)
        self.assertEqual(copy.environment, "production")
        self.assertFalse(copy.sudo().client_secret, "the secret is never copied")

    def test_copy_of_a_sandbox_account_does_not_carry_its_urls(self):
        copied = self.rpc(
            self.manager,
            "cdiscount.account",
            "copy",
            self.account.ids,
            default={"seller_id": "S-5"},
        )
        copy = self.env["cdiscount.account"].browse(copied).sudo()
        self.assertEqual(copy.environment, "production")
        self.assertNotEqual(copy.sandbox_api_url, self.sandbox.api_url)

    def test_account_cannot_move_to_another_company(self):
        other = self.setup_other_company(name="Shop C")["company"]
        self.manager.sudo().company_ids = [Command.link(other.id)]
        self.assertRefused(
            self.manager, "cdiscount.account", "write", self.account.ids, {"company_id": other.id}
        )
        self.assertEqual(self.account.company_id, self.company)

    def test_connection_audit_cannot_be_forged(self):
        self.assertRefused(
            self.manager,
            "cdiscount.account",
            "write",
            self.account.ids,
            {"last_check_message": "Connected"},
        )

    def test_other_companys_manager_cannot_touch_this_account(self):
        other = self.setup_other_company(name="Shop D")["company"]
        outsider = self._rpc_user("cd-outsider", "account.group_account_manager", company=other)
        for method, args in (
            ("read", [["name"]]),
            ("action_test_connection", []),
            ("write", [{"name": "Mine now"}]),
        ):
            with self.subTest(method=method):
                self.assertRefused(outsider, "cdiscount.account", method, self.account.ids, *args)

    # --- the audit trail -------------------------------------------------------------
    def test_history_cannot_be_forged_or_deleted(self):
        forgeries = (
            ("cdiscount.upload", "write", self.upload.ids, {"state": "success"}),
            ("cdiscount.upload", "write", self.upload.ids, {"error_message": False}),
            # the sync adds Cdiscount's answer to this note, as the addon
            ("cdiscount.upload", "write", self.upload.ids, {"message_id": self.foreign_note.id}),
            ("cdiscount.import", "write", self.imp.ids, {"status": "Success"}),
            ("cdiscount.import", "write", self.imp.ids, {"not_found_count": 0}),
            (
                "cdiscount.upload",
                "create",
                [{"move_id": self.invoice.id, "state": "success", "order_ref": "CD-X"}],
            ),
            (
                "cdiscount.import",
                "create",
                [{"name": "fake", "account_id": self.account.id, "kind": "single"}],
            ),
            ("cdiscount.upload", "unlink", self.upload.ids),
            ("cdiscount.import", "unlink", self.imp.ids),
            ("ir.attachment", "unlink", self.upload.attachment_id.ids),
        )
        for user in (self.invoicing, self.manager):
            for model, method, *args in forgeries:
                with self.subTest(user=user.login, model=model, method=method, args=args):
                    self.assertRefused(user, model, method, *args)
        self.assertEqual(self.upload.state, "running")
        self.assertNotEqual(self.upload.message_id, self.foreign_note)
        self.assertTrue(self.upload.attachment_id.exists())

    def test_send_queue_cannot_be_forged(self):
        """An entry in the send queue makes the cron upload an invoice: only the addon writes
        them (users may read them, nothing else)."""
        queued = self._invoice()
        queued._cdiscount_queue()
        entry = queued.cdiscount_queue_ids.filtered(lambda q: not q.upload_ids)
        self.assertTrue(entry)
        for user in (self.invoicing, self.manager):
            for method, *args in (
                ("create", [{"move_id": self.invoice.id, "document_format": "pdf"}]),
                ("write", entry.ids, {"document_format": "pdf", "user_id": self.manager.id}),
                ("unlink", entry.ids),
            ):
                with self.subTest(user=user.login, method=method):
                    self.assertRefused(user, "cdiscount.queue", method, *args)
        self.assertTrue(entry.exists())
        self.assertFalse(self.invoice.cdiscount_queued)

    def test_invoice_and_order_status_cannot_be_forged(self):
        order = self.invoice.cdiscount_order_id
        other_upload = self._invoice().cdiscount_upload_ids
        for user in (self.invoicing, self.manager):
            for model, ids, vals in (
                ("account.move", self.invoice.ids, {"cdiscount_state": "success"}),
                ("account.move", self.invoice.ids, {"cdiscount_queued": True}),
                ("account.move", self.invoice.ids, {"cdiscount_queue_user_id": self.manager.id}),
                (
                    "account.move",
                    self.invoice.ids,
                    {"cdiscount_last_upload_id": other_upload.id or False},
                ),
                ("sale.order", order.ids, {"cdiscount_state": "success"}),
                ("sale.order", order.ids, {"cdiscount_move_ids": [(5, 0, 0)]}),
            ):
                with self.subTest(user=user.login, model=model, vals=vals):
                    self.assertRefused(user, model, "write", ids, vals)
        self.assertEqual(self.invoice.cdiscount_state, "running")
        self.assertFalse(self.invoice.cdiscount_queued)
        self.assertEqual(self.invoice.cdiscount_order_id, order)

    def test_processing_invoice_is_not_reset_nor_deleted_silently(self):
        self.assertRefused(self.invoicing, "account.move", "button_draft", self.invoice.ids)
        self.assertRefused(
            self.invoicing,
            "account.move",
            "button_draft",
            self.invoice.ids,
            context={"cdiscount_reset_confirmed": True},  # a decision is not theirs to forge
        )
        self.assertRefused(
            self.invoicing, "account.move", "action_cdiscount_reset_to_draft", self.invoice.ids
        )
        self.assertEqual(self.invoice.state, "posted")
        self.rpc(self.manager, "account.move", "action_cdiscount_reset_to_draft", self.invoice.ids)
        self.assertEqual(self.invoice.state, "draft")
        notes = self.invoice.message_ids.mapped(lambda m: m.body or "")
        self.assertTrue(any("Reset to draft by cd-manager" in note for note in notes), notes)
        self.assertRefused(self.manager, "account.move", "unlink", self.invoice.ids)
        self.assertTrue(self.upload.exists(), "the history stays")

    def test_legitimate_send_over_rpc(self):
        invoice = self._invoice()
        self.rpc(self.invoicing, "account.move", "action_cdiscount_send", invoice.ids)
        self.assertEqual(invoice.cdiscount_state, "running")
        self.assertEqual(invoice.cdiscount_last_upload_id.user_id, self.invoicing)
