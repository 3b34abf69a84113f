import contextlib
from unittest.mock import patch
from urllib.parse import urlsplit

from odoo import Command
from odoo.tests import common as odoo_tests_common

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

from octopia import auth
from octopia.sandbox import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_SELLER_ID, SandboxServer


@contextlib.contextmanager
def scheduled(env, cron):
    """The context the scheduler gives one run of `cron` (a progress record, the cron's id).

    Odoo 19.0's `_commit_progress` commits there; a test's cursor must not, so that commit
    does nothing here, unless the test simulates commits itself (then its own runs)."""
    progress = env["ir.cron.progress"].create({"cron_id": cron.id})
    forbidden = getattr(env.cr.commit, "__name__", "") == "forbidden"  # Odoo's test guard
    with patch.object(env.cr, "commit", lambda: None) if forbidden else contextlib.nullcontext():
        yield {"ir_cron_progress_id": progress.id, "cron_id": cron.id}, progress


class SandboxRequests:
    """Test-case mixin: the sandbox on 127.0.0.1 gets each request as the client sent it.

    Odoo 19.0 raises every timeout under 10 s in tests (and compares them as numbers, where
    the client's are (connect, read) pairs); the timeout tests need theirs as they are."""

    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        # EXTENDS odoo.tests
        if urlsplit(r.url).hostname in ("127.0.0.1", "localhost"):
            return odoo_tests_common._super_send(s, r, **kw)
        return super()._request_handler(s, r, **kw)


class CdiscountCommon(SandboxRequests, AccountTestInvoicingCommon):
    """A French company selling on Cdiscount, talking to the sandbox on 127.0.0.1."""

    @classmethod
    def get_default_groups(cls):
        # The test user is a sales administrator too, as 18.0's accounting test user is (the
        # default user's groups); 19.0's has only accounting: no order, team or pricelist.
        return super().get_default_groups() | cls.env.ref("sales_team.group_sale_manager")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sandbox = SandboxServer(running_polls=1).start()
        cls.addClassCleanup(cls.sandbox.stop)
        cls.sandbox.seed_demo()
        cls.sandbox.add_orders(DEMO_SELLER_ID, [f"CD-{n}" for n in range(2000, 2100)])
        cls.company = cls.company_data["company"]
        cls.company.write(cls._french_company_vals())
        cls.tax_20 = cls._sale_tax(20.0)
        cls.tax_10 = cls._sale_tax(10.0)
        cls.tax_5_5 = cls._sale_tax(5.5)
        cls.product = cls._create_product(
            name="Cafetière",
            lst_price=49.99,
            taxes_id=[Command.set(cls.tax_20.ids)],
            invoice_policy="order",
        )
        cls.buyer = cls.env["res.partner"].create(
            {
                "name": "Camille Martin",
                "street": "3 rue des Lilas",
                "zip": "69003",
                "city": "Lyon",
                "country_id": cls.env.ref("base.fr").id,
                "email": "camille@example.com",
            }
        )
        cls.account = cls._cdiscount_account(cls.company)
        cls._seq = 2000

    def setUp(self):
        super().setUp()
        auth.clear_token_cache()
        self.sandbox.reset()  # imports, faults and the request log are per test
        self.sandbox.set_running(polls=1, seconds=0)

    @classmethod
    def _french_company_vals(cls):
        return {
            "country_id": cls.env.ref("base.fr").id,
            "account_fiscal_country_id": cls.env.ref("base.fr").id,
            "vat": "FR23334175221",
            "company_registry": "334175221",
            "street": "1 place du Marché",
            "zip": "75001",
            "city": "Paris",
            "email": "shop@example.com",
            "phone": "+33 1 23 45 67 89",
        }

    @classmethod
    def _sale_tax(cls, amount):
        group = cls.env["account.tax.group"].create(
            {
                "name": f"TVA {amount}%",
                "company_id": cls.company.id,
                "country_id": cls.env.ref("base.fr").id,
            }
        )
        return cls.env["account.tax"].create(
            {
                "tax_group_id": group.id,
                "name": f"TVA {amount}%",
                "amount": amount,
                "amount_type": "percent",
                "type_tax_use": "sale",
                "company_id": cls.company.id,
                "country_id": cls.env.ref("base.fr").id,
            }
        )

    @classmethod
    def _cdiscount_account(cls, company, **values):
        return cls.env["cdiscount.account"].create(
            {
                "name": f"Cdiscount {company.name}",
                "company_id": company.id,
                "seller_id": DEMO_SELLER_ID,
                "client_id": DEMO_CLIENT_ID,
                "client_secret": DEMO_CLIENT_SECRET,
                "environment": "sandbox",
                "sandbox_api_url": cls.sandbox.api_url,
                "sandbox_auth_url": cls.sandbox.auth_url,
                **values,
            }
        )

    @classmethod
    def _next_ref(cls):
        cls._seq += 1
        return f"CD-{cls._seq}"

    @classmethod
    def _order(cls, ref=None, lines=None, partner=None, company=None, **values):
        """A confirmed sale order; `lines`: [(product, qty, price, discount)].
        `ref`: the Cdiscount order id (None: a fresh one; False: let the order compute it)."""
        lines = lines or [(cls.product, 1, 49.99, 0.0)]
        if ref is not False:
            values["cdiscount_order_ref"] = ref if ref is not None else cls._next_ref()
        order = (
            cls.env["sale.order"]
            .with_company(company or cls.company)
            .create(
                {
                    "partner_id": (partner or cls.buyer).id,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "product_uom_qty": qty,
                                "price_unit": price,
                                "discount": discount,
                            }
                        )
                        for product, qty, price, discount in lines
                    ],
                    **values,
                }
            )
        )
        order.action_confirm()
        return order

    @classmethod
    def _invoice(cls, order=None, post=True, **order_values):
        order = order or cls._order(**order_values)
        invoice = order._create_invoices()
        if post:
            invoice.action_post()
        return invoice

    def _finish_imports(self):
        """Run the status sync until the sandbox reports every import final."""
        for _attempt in range(5):
            self.env["cdiscount.import"]._cron_sync_imports()
            if not self.env["cdiscount.import"].search([("state", "=", "running")]):
                return
        self.fail("imports still running after 5 syncs")
