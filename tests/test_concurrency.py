"""Cron workers and users on the same Cdiscount invoices at the same time, on a real PostgreSQL.

Not a TransactionCase: there the data is never committed and every `registry.cursor()` is a
proxy on the one test transaction, so two "workers" would share it and could never lock, skip
or block each other. This BaseCase commits its data, runs each worker in a thread with its own
connection (REPEATABLE READ, like Odoo's workers), and deletes what it committed at the end.

Inside tests the addon does not commit mid-run: each worker holds its locks to the end of its
transaction. `live=True` lifts that guard during a race, so the addon commits after each ZIP as
in production (a commit releases every lock of the transaction). A worker that dies of a
serialization failure is rolled back and its work left to the next run, as Odoo's cron does;
a user goes through `retrying()` and is rolled back on a UserError, as Odoo's RPC layer does.
"""

import itertools
import threading
import time
import uuid
from collections import Counter
from functools import partial
from unittest.mock import patch

from odoo import SUPERUSER_ID, Command, api
from odoo.exceptions import UserError
from odoo.modules import module as odoo_module
from odoo.modules.registry import DummyRLock, Registry
from odoo.service.model import retrying
from odoo.tests.common import BaseCase, get_db_name, tagged
from odoo.tools import config, mute_logger

from octopia import auth, wire
from octopia.sandbox import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_SELLER_ID, SandboxServer

from .common import SandboxRequests

BULK = wire.PATH_IMPORTS
USER_REFUSALS = ("someone else", "already queued", "already being processed")


@tagged("post_install", "-at_install")
class TestConcurrency(SandboxRequests, BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = Registry(get_db_name())
        cls.sandbox = SandboxServer(running_polls=1).start()
        cls.addClassCleanup(cls.sandbox.stop)
        cls.sandbox.seed_demo()
        cls.refs = (f"CD-CONC-{n}" for n in itertools.count(1))
        cls.company_id = None
        cls.addClassCleanup(cls._purge, everything=True)
        with cls.registry.cursor() as cr:
            cls._create_shop(api.Environment(cr, SUPERUSER_ID, {}))

    @classmethod
    def _create_shop(cls, env):
        """A French company with its own chart, a 20% tax, a product, a buyer, an account."""
        fr = env.ref("base.fr")
        company = env["res.company"].create(
            {"name": f"Cdiscount Concurrency {uuid.uuid4().hex[:8]}", "country_id": fr.id,
             "vat": "FR23334175221", "street": "1 place du Marché", "zip": "75001",
             "city": "Paris"}
        )  # fmt: skip
        cls.company_id = company.id
        Chart = env["account.chart.template"]
        Chart.try_loading("generic_coa", company=company, install_demo=False)
        company.account_fiscal_country_id = fr
        env = env(context={"allowed_company_ids": company.ids})
        group = env["account.tax.group"].create({"name": "TVA 20%", "country_id": fr.id})
        tax = env["account.tax"].create(
            {"name": "TVA 20% (concurrency)", "amount": 20.0, "type_tax_use": "sale",
             "tax_group_id": group.id, "country_id": fr.id}
        )  # fmt: skip
        cls.product_id = env["product.product"].create(
            {"name": "Cafetière", "lst_price": 49.99, "invoice_policy": "order",
             "taxes_id": [Command.set(tax.ids)], "company_id": company.id}
        ).id  # fmt: skip
        buyer = {"name": "Camille Martin", "country_id": fr.id, "company_id": company.id}
        cls.buyer_id = env["res.partner"].create(buyer).id
        env["cdiscount.account"].create(
            {"name": "Cdiscount (concurrency)", "company_id": company.id,
             "seller_id": DEMO_SELLER_ID, "client_id": DEMO_CLIENT_ID,
             "client_secret": DEMO_CLIENT_SECRET, "environment": "sandbox",
             "sandbox_api_url": cls.sandbox.api_url, "sandbox_auth_url": cls.sandbox.auth_url}
        )  # fmt: skip

    @classmethod
    def _purge(cls, everything=False):
        """Delete the committed documents (at the end also the account, product and buyer).
        The company and its chart stay: no other test reads them, and the db is dropped."""
        if not cls.company_id:
            return
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"allowed_company_ids": [cls.company_id]})
            of_company = [("company_id", "=", cls.company_id)]
            env["cdiscount.upload"].search(of_company).unlink()
            env["cdiscount.import"].search(of_company).unlink()
            moves = env["account.move"].search(of_company)
            moves.filtered(lambda m: m.state == "posted").button_draft()
            moves.with_context(force_delete=True).unlink()
            orders = env["sale.order"].search(of_company)
            orders._action_cancel()
            orders.unlink()
            crons = env.ref("cdiscount_invoice_upload.ir_cron_cdiscount_send_queue")
            crons |= env.ref("cdiscount_invoice_upload.ir_cron_cdiscount_sync_imports")
            env["ir.cron.trigger"].search([("cron_id", "in", crons.ids)]).unlink()
            if everything:
                env["cdiscount.account"].search(of_company).unlink()
                env["product.product"].browse(cls.product_id).product_tmpl_id.unlink()
                env["res.partner"].browse(cls.buyer_id).unlink()

    def setUp(self):
        super().setUp()
        self.addCleanup(self._purge)
        auth.clear_token_cache()
        self.sandbox.reset()

    # --- helpers ------------------------------------------------------------------------
    def _posted_invoices(self, count, max_files_per_zip=wire.MAX_FILES_PER_ZIP):
        """`count` posted invoices of new Cdiscount orders, committed. Returns their ids."""
        refs = [next(self.refs) for _i in range(count)]
        self.sandbox.add_orders(DEMO_SELLER_ID, refs)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"allowed_company_ids": [self.company_id]})
            account = env["cdiscount.account"].search([("company_id", "=", self.company_id)])
            account.max_files_per_zip = max_files_per_zip
            orders = env["sale.order"].create(
                [
                    {"partner_id": self.buyer_id, "cdiscount_order_ref": ref,
                     "order_line": [Command.create({"product_id": self.product_id})]}
                    for ref in refs
                ]
            )  # fmt: skip
            orders.action_confirm()
            moves = env["account.move"].concat(*(order._create_invoices() for order in orders))
            moves.action_post()
            return moves.ids

    def _run(self, job):
        """job(env) in a new transaction of the main thread, committed at its end."""
        with self.registry.cursor() as cr:
            return job(api.Environment(cr, SUPERUSER_ID, {}))

    def _race(self, jobs, live=False):
        """Release all jobs at once: each job(env) runs in its own thread and transaction
        (committed at its end) once its start has come (seconds, or a condition polled).
        Returns {name: what the job returned, or the exception that ended it}."""
        barrier = threading.Barrier(len(jobs))
        outcomes = {}

        def worker(name, job, start):
            threading.current_thread().dbname = self.registry.db_name
            barrier.wait(timeout=30)
            deadline = time.monotonic() + (start if isinstance(start, float) else 30)
            while time.monotonic() < deadline and not (callable(start) and start()):
                time.sleep(0.02)
            try:
                with self.registry.cursor() as cr:
                    outcomes[name] = job(api.Environment(cr, SUPERUSER_ID, {}))
            except Exception as exc:  # a worker that died: the caller judges
                outcomes[name] = exc

        threads = [
            threading.Thread(target=worker, args=(name, *spec), name=f"conc-{name}")
            for name, spec in jobs.items()
        ]
        # The test runner holds Registry._lock for the whole run: a thread asking for the
        # registry would wait forever (Odoo's HttpCase swaps it out the same way). A lost lock
        # race is logged by odoo.sql_db as a "bad query" error: expected here.
        with (
            patch.object(Registry, "_lock", DummyRLock()),
            patch.object(odoo_module, "current_test", odoo_module.current_test and not live),
            patch.dict(config.options, {"test_enable": config["test_enable"] and not live}),
            mute_logger("odoo.sql_db"),
        ):
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
        self.assertFalse([t.name for t in threads if t.is_alive()], "a worker is stuck")
        return outcomes

    def _bulk_posts(self, count):
        """A start condition: the sandbox has received `count` ZIP uploads."""
        return lambda: self.sandbox.request_count(method="POST", path_prefix=BULK) >= count

    @staticmethod
    def _send_cron(env):
        env["cdiscount.sender"]._cron_send_queue()
        return "done"

    @staticmethod
    def _click(move_ids, env):
        """The user's "Send to Cdiscount", through the retry loop of Odoo's RPC layer."""
        try:
            return retrying(env["account.move"].browse(move_ids).action_cdiscount_send, env)
        except UserError as exc:
            env.cr.rollback()
            return exc

    # --- sending --------------------------------------------------------------------------
    def test_two_send_crons_and_a_click_locks_held(self):
        self._check_send_race(live=False)

    def test_two_send_crons_and_a_click_live_commits(self):
        self._check_send_race(live=True)

    def _check_send_race(self, live):
        """Cron 1 sends 6 queued invoices as 3 ZIPs (a second each), the user clicks "Send"
        on them meanwhile, and cron 2 starts while cron 1 uploads its second ZIP."""
        move_ids = self._posted_invoices(6, max_files_per_zip=2)
        self._run(lambda env: env["account.move"].browse(move_ids)._cdiscount_queue())
        self.sandbox.inject("slow", path=BULK, method="POST", delay=1.0, times=None)
        outcomes = self._race(
            {
                "cron-1": (self._send_cron, 0.0),
                "user": (partial(self._click, move_ids), 0.3),
                "cron-2": (self._send_cron, self._bulk_posts(2)),
            },
            live=live,
        )
        user = outcomes.pop("user")
        self.assertIsInstance(user, UserError, "queued invoices are not the user's to send")
        self.assertTrue(any(r in user.args[0] for r in USER_REFUSALS), user.args[0])
        for _round in range(2):  # what a failed or skipping run left, as the next runs would
            self._run(self._send_cron)
        # A run that died after its upload left "Outcome unknown": the status sync adopts it.
        self._run(lambda env: env["cdiscount.upload"]._cdiscount_reconcile_unknown())
        self._assert_sent_once(move_ids, outcomes)

    def test_bulk_send_and_a_click_between_two_zips_live_commits(self):
        """The same as it happens in production: a user sends 6 invoices with the wizard
        (3 ZIPs); another one clicks "Send" on the last invoice during the second ZIP."""
        move_ids = self._posted_invoices(6, max_files_per_zip=2)
        self.sandbox.inject("slow", path=BULK, method="POST", delay=1.0, times=None)

        def wizard(env):
            context = {"active_model": "account.move", "active_ids": move_ids}
            env["account.move.cdiscount.send"].with_context(**context).create({}).action_send()
            return "done"

        outcomes = self._race(
            {
                "wizard": (wizard, 0.0),
                "click": (partial(self._click, move_ids[-1:]), self._bulk_posts(2)),
            },
            live=True,
        )
        self._assert_sent_once(move_ids, outcomes)

    def _assert_sent_once(self, move_ids, outcomes):
        reports = self.sandbox.imports_of(DEMO_SELLER_ID)
        sent = Counter(f[wire.FILE_ORDER_ID] for r in reports for f in r[wire.REPORT_FILES])
        with self.registry.cursor() as cr:
            moves = api.Environment(cr, SUPERUSER_ID, {})["account.move"].browse(move_ids)
            expected = Counter(moves.mapped("cdiscount_order_ref"))
            self.assertEqual(sent, expected, f"each order uploaded once; workers: {outcomes}")
            self.assertFalse(moves.filtered("cdiscount_queued"), "nothing left queued")
            for move in moves:
                self.assertEqual(len(move.cdiscount_upload_ids), 1, f"{move.name}: uploads")
                self.assertEqual(move.cdiscount_state, "running")
            self.assertEqual(len(moves.cdiscount_upload_ids.import_id), len(reports))
        posts = sum(self.sandbox.request_count("POST", path) for path in (BULK, "/orders/"))
        self.assertEqual(posts, len(reports), "no upload POST without its import")

    # --- status sync ---------------------------------------------------------------------
    def test_two_sync_crons(self):
        """6 imports, each Running at its first read and Success at the second: two sync
        crons at once, three times; each import is read by only one of them per round."""
        move_ids = self._posted_invoices(6)
        self._run(lambda env: env["account.move"].browse(move_ids).action_cdiscount_send())
        self.sandbox.inject("slow", path=BULK, method="GET", delay=0.2, times=None)

        def sync(env):
            env["cdiscount.import"]._cron_sync_imports()
            return "done"

        for _round in range(3):
            before = self._reads()
            outcomes = self._race({"sync-1": (sync, 0.0), "sync-2": (sync, 0.0)})
            twice = {i: n for i, n in (self._reads() - before).items() if n > 1}
            self.assertFalse(twice, f"imports read twice in one round; workers: {outcomes}")
        with self.registry.cursor() as cr:
            moves = api.Environment(cr, SUPERUSER_ID, {})["account.move"].browse(move_ids)
            self.assertEqual(set(moves.cdiscount_import_id.mapped("state")), {"success"})
            self.assertEqual(set(moves.mapped("cdiscount_state")), {"success"})
        self.assertEqual(sum(self._reads().values()), 2 * len(move_ids), "two reads each")

    def _reads(self):
        """GETs of each import by id, from the sandbox's request log."""
        return Counter(
            path.rsplit("/", 1)[1]
            for method, path, _status in list(self.sandbox.requests)
            if method == "GET" and f"{BULK}/" in path
        )
