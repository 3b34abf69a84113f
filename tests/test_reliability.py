"""Faults on the way to Octopia: the sandbox's fault injection, real HTTP, a real PostgreSQL.

Every case ends with each invoice uploaded exactly once (its import id recorded), or clearly
marked for a retry ("Not sent", or "Outcome unknown" until the next sync looks it up), and the
crons never raise: their `ir.cron` records are run the way the scheduler runs them, except that
an exception is let through (`_run_cron`).

Backoff waits are recorded instead of slept (`self.slept`) and timeouts can be made small: both
through our own client factory (`cdiscount.account._cdiscount_client`), never a mock of Octopia.
"""

import contextlib
import logging
import socket
import time
import uuid
from unittest.mock import patch

import psycopg2

from odoo import Command, api
from odoo.exceptions import AccessError, UserError
from odoo.modules import module as odoo_module
from odoo.modules.neutralize import get_neutralization_queries
from odoo.tests import new_test_user, tagged
from odoo.tools import config

from octopia import wire
from octopia.client import OctopiaClient
from octopia.sandbox import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_SELLER_ID, SandboxServer

from .common import CdiscountCommon, scheduled

SELLER = DEMO_SELLER_ID
BULK = wire.PATH_IMPORTS  # POST: a ZIP import; GET BULK + "/<id>": one import; GET BULK: the list
SINGLE = "/invoice-documents"  # POST /orders/<id>/invoice-documents
AUTH = "/auth/"
SEND_CRON = "cdiscount_invoice_upload.ir_cron_cdiscount_send_queue"
SYNC_CRON = "cdiscount_invoice_upload.ir_cron_cdiscount_sync_imports"
BACKOFF_CEILING = sum(
    min(wire.BACKOFF_CAP, wire.BACKOFF_BASE * 2**n) for n in range(wire.MAX_RETRIES)
)


def closed_port():
    """A local port nobody listens on (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FaultTools:
    """Helpers shared by the fault and bad-input tests (a mixin, not a test case)."""

    def _tune_client(self):
        """Wrap our client factory for the whole test: backoff waits are recorded in
        `self.slept` (unless `self.real_sleep`), `self.timeout` and `self.max_total_wait`
        replace the defaults when set."""
        self.slept, self.real_sleep = [], False
        self.timeout = self.max_total_wait = None
        Account = self.registry["cdiscount.account"]
        factory = Account._cdiscount_client

        def tuned(account):
            client = factory(account)
            if self.timeout is not None:
                client.timeout = client.auth.timeout = self.timeout
            if self.max_total_wait is not None:
                client.max_total_wait = self.max_total_wait
            if not self.real_sleep:
                client._sleep = self.slept.append
            return client

        self.startPatcher(patch.object(Account, "_cdiscount_client", tuned))

    # --- counting what reached the sandbox
    def _count(self, method, path_prefix):
        return self.sandbox.request_count(method=method, path_prefix=path_prefix)

    def _api_posts(self):
        """Uploads that reached the API, whatever it answered."""
        return self._count("POST", "/seller/")

    def _remote_imports_for(self, invoice):
        ref = invoice.cdiscount_order_ref
        return [
            i["importId"]
            for i in self.sandbox.imports_of(SELLER)
            if any(f["orderId"] == ref for f in i["files"])
        ]

    # --- invoices and crons
    def _invoices(self, count, **order_values):
        return self.env["account.move"].concat(
            *(self._invoice(**order_values) for _i in range(count))
        )

    def _run_cron(self, xmlid):
        """Run a cron as the scheduler does (its user, a superuser environment, a progress
        record) but let any exception through: a cron must never raise."""
        cron = self.env.ref(xmlid)
        with scheduled(self.env, cron) as (context, _progress):
            env = api.Environment(
                self.env.cr, cron.user_id.id, {"lastcall": cron.lastcall, **context}
            )
            cron.with_env(env).ir_actions_server_id.run()
            env.flush_all()

    def _run_sync_cron(self):
        """The sync cron, run a minute after the previous run: under the scheduler an import
        is read at most once a minute, so the clock of the last reads is moved back."""
        Import = self.env["cdiscount.import"]
        Import.flush_model(["last_sync_date"])
        self.env.cr.execute(
            "UPDATE cdiscount_import SET last_sync_date = last_sync_date - interval '2 minutes'"
        )
        Import.invalidate_model(["last_sync_date"])
        self._run_cron(SYNC_CRON)

    def _finish_via_cron(self, runs=5):
        """Run the sync cron until no import is running (or in an unknown status)."""
        Import = self.env["cdiscount.import"]
        for _run in range(runs):
            self._run_sync_cron()
            pending = self.env["cdiscount.upload"].search([("state", "=", "unknown")])
            if not pending and not Import.search([("state", "in", ("running", "other"))]):
                return
        self.fail(f"imports still running after {runs} sync runs")

    # --- the invariants of the issue
    def assertUploadedOnce(self, invoices):
        """Each invoice is in exactly one import on Octopia, and Odoo recorded that import."""
        for invoice in invoices:
            remote = self._remote_imports_for(invoice)
            self.assertEqual(len(remote), 1, f"{invoice.name} is in {len(remote)} imports")
            self.assertEqual(invoice.cdiscount_import_id.name, remote[0])

    def assertMarkedForRetry(self, invoices, pattern):
        """Not on Octopia, "Not sent" with a reason, and it can be sent again."""
        for invoice in invoices:
            self.assertFalse(self._remote_imports_for(invoice))
            self.assertEqual(invoice.cdiscount_state, "error")
            self.assertRegex(invoice.cdiscount_error, pattern)
            self.assertFalse(invoice.cdiscount_queued)
            self.assertFalse(invoice._cdiscount_get_eligibility_error())

    def assertEveryImportRecorded(self):
        remote = {i["importId"] for i in self.sandbox.imports_of(SELLER)}
        local = set(self.env["cdiscount.import"].search([]).mapped("name"))
        self.assertLessEqual(remote, local, "an import Octopia accepted is unknown to Odoo")


@tagged("post_install", "-at_install")
class TestReliability(FaultTools, CdiscountCommon):
    def setUp(self):
        super().setUp()
        self._tune_client()

    def _sent(self, count=1):
        """Invoices uploaded one by one (single endpoint), Running on Octopia."""
        invoices = self._invoices(count)
        for invoice in invoices:
            invoice.action_cdiscount_send()
        self.assertEqual(set(invoices.mapped("cdiscount_state")), {"running"})
        return invoices

    def _queued(self, count=2):
        invoices = self._invoices(count)
        invoices._cdiscount_queue()
        return invoices

    # --- tokens and credentials ------------------------------------------------------
    def test_token_expired_mid_batch(self):
        self.account.max_files_per_zip = 1
        invoices = self._queued(3)
        self.sandbox.inject("slow", method="POST", path=BULK, delay=0)  # 1st ZIP: as it is
        self.sandbox.inject("expire_token", method="POST", path=BULK)  # 2nd ZIP: token expired
        self._run_cron(SEND_CRON)
        self.assertEqual(self._count("POST", BULK), 4, "the 2nd ZIP is sent again, once")
        self.assertEqual(self._count("POST", AUTH), 2, "one new token, not one per ZIP")
        self.assertEqual(len(invoices.cdiscount_import_id), 3)
        self.assertEqual(set(invoices.mapped("cdiscount_state")), {"running"})
        self.assertUploadedOnce(invoices)
        self._finish_via_cron()
        self.assertEqual(set(invoices.mapped("cdiscount_state")), {"success"})

    def test_wrong_secret_in_the_send_cron(self):
        invoices = self._queued(2)
        self.account.client_secret = "not-the-secret"
        self._run_cron(SEND_CRON)
        self.assertEqual(self._api_posts(), 0)
        self.assertMarkedForRetry(invoices, "refused the client id or secret")
        self.account.client_secret = DEMO_CLIENT_SECRET
        invoices._cdiscount_queue()
        self._run_cron(SEND_CRON)
        self._finish_via_cron()
        self.assertEqual(set(invoices.mapped("cdiscount_state")), {"success"})
        self.assertUploadedOnce(invoices)

    def test_401_on_every_status_read(self):
        invoice = self._sent()
        imp = invoice.cdiscount_import_id
        self.sandbox.inject("status", times=None, method="GET", path=imp.name, status=401)
        gets = self._count("GET", BULK + "/")
        self._run_sync_cron()
        self.assertEqual(self._count("GET", BULK + "/") - gets, 2, "one retry, new token")
        self.assertIn("refused the client id or secret", imp.sync_error)
        self.assertEqual((imp.state, invoice.cdiscount_state), ("running", "running"))
        self.sandbox.clear_faults()
        self._finish_via_cron()
        self.assertEqual(invoice.cdiscount_state, "success")
        self.assertFalse(imp.sync_error)

    def test_wrong_secret_while_a_lost_answer_is_looked_up(self):
        invoice = self._invoices(1)
        self.sandbox.inject("drop_after_accept", method="POST", path=SINGLE)
        invoice.action_cdiscount_send()
        upload = invoice.cdiscount_last_upload_id
        self.account.client_secret = "not-the-secret"
        self._run_sync_cron()
        self.assertEqual(upload.state, "unknown", "not given up: Octopia may have it")
        self.assertRegex(upload.error_message, "refused the client id or (the client )?secret")
        self.account.client_secret = DEMO_CLIENT_SECRET
        self._finish_via_cron()
        self.assertEqual(invoice.cdiscount_state, "success")
        self.assertEqual(self._api_posts(), 1)
        self.assertUploadedOnce(invoice)

    def test_403_in_the_send_cron_and_on_status_reads(self):
        invoices = self._queued(2)
        self.sandbox.inject("status", method="POST", path=BULK, status=403)
        self._run_cron(SEND_CRON)
        self.assertMarkedForRetry(invoices, "may not upload invoices for seller SELLER-1")
        sent = self._sent()
        imp = sent.cdiscount_import_id
        self.sandbox.inject("status", method="GET", path=imp.name, status=403)
        self._run_sync_cron()
        self.assertIn("may not upload invoices for seller SELLER-1", imp.sync_error)
        self._finish_via_cron()
        self.assertEqual(sent.cdiscount_state, "success")

    def test_missing_secret_in_the_send_cron(self):
        invoices = self._queued(2)
        self.account.client_secret = False
        self._run_cron(SEND_CRON)  # must not raise: stored on the invoices
        self.assertMarkedForRetry(invoices, "is incomplete")
        self.assertEqual(self._api_posts(), 0)

    def test_missing_secret_in_the_status_sync(self):
        running = self._sent()
        lost = self._invoices(1)
        self.sandbox.inject("drop_after_accept", method="POST", path=SINGLE)
        lost.action_cdiscount_send()
        self.account.client_secret = False
        self._run_sync_cron()
        self.assertIn("is incomplete", running.cdiscount_import_id.sync_error)
        self.assertIn("is incomplete", lost.cdiscount_error)
        self.assertEqual(lost.cdiscount_state, "unknown")

    # --- 429 -------------------------------------------------------------------------
    def test_429_storm_with_retry_after_within_the_budget(self):
        invoices = self._invoices(2)
        self.sandbox.inject(
            "status", times=None, method="POST", path=BULK, status=429, retry_after=20
        )
        self.env["cdiscount.sender"]._send_bulk(invoices)
        self.assertEqual(self.slept, [20.0, 20.0, 20.0], "Retry-After honoured")
        self.assertLessEqual(sum(self.slept), wire.MAX_TOTAL_WAIT)
        self.assertEqual(self._count("POST", BULK), 4)
        self.assertMarkedForRetry(invoices, "asks to slow down; nothing was sent")
        self.sandbox.clear_faults()
        self.env["cdiscount.sender"]._send_bulk(invoices)
        self._finish_via_cron()
        self.assertEqual(set(invoices.mapped("cdiscount_state")), {"success"})
        self.assertUploadedOnce(invoices)

    def test_429_retry_after_beyond_the_budget_gives_up_at_once(self):
        invoice = self._invoices(1)
        self.sandbox.inject(
            "status", times=None, method="POST", path=SINGLE, status=429, retry_after=3600
        )
        with self.assertRaisesRegex(UserError, "asks to slow down; nothing was sent"):
            invoice.action_cdiscount_send()
        self.assertEqual((self.slept, self._api_posts()), ([], 1))
        self.assertEqual(invoice.cdiscount_state, "to_send")
        self.sandbox.clear_faults()
        invoice.action_cdiscount_send()
        self.assertEqual(invoice.cdiscount_state, "running")

    def test_429_storm_without_retry_after_in_the_send_cron(self):
        invoices = self._queued(2)
        self.sandbox.inject("status", times=None, method="POST", path=BULK, status=429)
        self._run_cron(SEND_CRON)
        self.assertEqual(self._count("POST", BULK), 1 + wire.MAX_RETRIES)
        self.assertEqual(len(self.slept), wire.MAX_RETRIES)
        self.assertLessEqual(sum(self.slept), BACKOFF_CEILING, "exponential backoff, capped")
        self.assertMarkedForRetry(invoices, "asks to slow down")
        self.sandbox.clear_faults()
        invoices._cdiscount_queue()  # the later run
        self._run_cron(SEND_CRON)
        self._finish_via_cron()
        self.assertEqual(set(invoices.mapped("cdiscount_state")), {"success"})
        self.assertUploadedOnce(invoices)

    def test_429_real_waiting_is_bounded(self):
        self.real_sleep, self.max_total_wait = True, 2
        invoice = self._invoices(1)
        self.sandbox.inject(
            "status", times=None, method="POST", path=SINGLE, status=429, retry_after=1
        )
        start = time.monotonic()
        with self.assertRaisesRegex(UserError, "slow down"):
            invoice.action_cdiscount_send()
        self.assertLess(time.monotonic() - start, 4)
        self.assertEqual(self._api_posts(), 3, "1 s + 1 s waited, a third would exceed 2 s")

    def test_429_on_status_reads_is_retried_in_the_same_run(self):
        invoice = self._sent()
        imp = invoice.cdiscount_import_id
        self.sandbox.inject(
            "status", times=2, method="GET", path=imp.name, status=429, retry_after=0
        )
        self._run_sync_cron()
        self.assertFalse(imp.sync_error)
        self.assertEqual(self._count("GET", BULK + "/"), 3)
        self._finish_via_cron()
        self.assertEqual(invoice.cdiscount_state, "success")

    # --- 5xx -------------------------------------------------------------------------
    def test_503_once_on_an_upload_is_sent_again(self):
        invoice = self._invoices(1)
        self.sandbox.inject("status", method="POST", path=SINGLE, status=503)
        invoice.action_cdiscount_send()
        self.assertEqual(self._api_posts(), 2, "503: certainly not accepted, safe to resend")
        self.assertEqual(invoice.cdiscount_state, "running")
        self.assertUploadedOnce(invoice)

    def test_503_storm_on_uploads(self):
        invoice = self._invoices(1)
        self.sandbox.inject("status", times=None, method="POST", status=503)
        with self.assertRaisesRegex(UserError, "could not be reached; nothing was sent"):
            invoice.action_cdiscount_send()
        self.assertFalse(invoice.cdiscount_upload_ids)
        queued = self._queued(2)
        self._run_cron(SEND_CRON)
        self.assertMarkedForRetry(queued, r"could not be reached; nothing was sent.*HTTP 503")
        self.assertFalse(self.sandbox.imports_of(SELLER))

    def test_500_on_an_upload_is_an_unknown_outcome_then_offered_again(self):
        invoice = self._invoices(1)
        self.sandbox.inject("status", method="POST", path=SINGLE, status=500)
        action = invoice.action_cdiscount_send()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertEqual(invoice.cdiscount_state, "unknown")
        self.assertEqual(self._api_posts(), 1, "a 500 may hide an accepted upload: not resent")
        self._run_sync_cron()
        self.assertMarkedForRetry(invoice, "never received")
        invoice.action_cdiscount_send()
        self._finish_via_cron()
        self.assertEqual(invoice.cdiscount_state, "success")
        self.assertUploadedOnce(invoice)

    def test_500_on_a_zip_in_the_send_cron(self):
        invoices = self._queued(2)
        self.sandbox.inject("status", method="POST", path=BULK, status=500)
        self._run_cron(SEND_CRON)
        self.assertEqual(set(invoices.mapped("cdiscount_state")), {"unknown"})
        self._run_sync_cron()
        self.assertMarkedForRetry(invoices, "never received")
        self.assertEqual(self._count("POST", BULK), 1)

    def test_500_and_503_on_status_reads(self):
        invoice = self._sent()
        imp = invoice.cdiscount_import_id
        self.sandbox.inject("status", times=None, method="GET", path=imp.name, status=500)
        self._run_sync_cron()
        self.assertEqual(self._count("GET", BULK + "/"), 1 + wire.MAX_RETRIES)
        self.assertIn("HTTP 500", imp.sync_error)
        self.assertEqual(invoice.cdiscount_state, "running")
        self.sandbox.clear_faults()
        self.sandbox.inject("status", method="GET", path=imp.name, status=503)
        self._run_sync_cron()  # one 503, then read in the same run
        self.assertFalse(imp.sync_error)
        self._finish_via_cron()
        self.assertEqual(invoice.cdiscount_state, "success")

    # --- timeouts, lost connections ---------------------------------------------------
    def test_timeout_after_octopia_accepted_an_upload(self):
        self.timeout = 0.5
        invoice = self._invoices(1)
        self.sandbox.inject("slow", method="POST", path=SINGLE, delay=1.5)
        invoice.action_cdiscount_send()
        self.assertEqual(invoice.cdiscount_state, "unknown")
        self.assertEqual(len(self.sandbox.imports_of(SELLER)), 1, "Octopia has it")
        self._finish_via_cron()
        self.assertEqual(invoice.cdiscount_state, "success")
        self.assertEqual(self._api_posts(), 1)
        self.assertUploadedOnce(invoice)

    def test_timeout_after_octopia_accepted_a_zip_in_the_send_cron(self):
        self.timeout = 0.5
        invoices = self._queued(3)
        self.sandbox.inject("slow", method="POST", path=BULK, delay=1.5)
        self._run_cron(SEND_CRON)
        self.assertEqual(set(invoices.mapped("cdiscount_state")), {"unknown"})
        self._finish_via_cron()
        self.assertEqual(set(invoices.mapped("cdiscount_state")), {"success"})
        self.assertEqual(self._count("POST", BULK), 1)
        self.assertUploadedOnce(invoices)
        self.assertEveryImportRecorded()

    def test_timeout_before_anything_was_sent(self):
        self.timeout = 0.5
        invoice = self._invoices(1)
        # a lasting timeout of the token request: retried within the budget, then given up
        self.sandbox.inject("slow", times=20, method="POST", path=AUTH, delay=1.5)
        with self.assertRaisesRegex(UserError, "could not be reached; nothing was sent"):
            invoice.action_cdiscount_send()
        self.assertEqual((self._api_posts(), invoice.cdiscount_state), (0, "to_send"))
        self.assertGreater(self.sandbox.request_count(method="POST", path_prefix=AUTH), 1)
        self.sandbox.clear_faults()
        invoice.action_cdiscount_send()
        self.assertUploadedOnce(invoice)

    def test_one_token_timeout_is_retried(self):
        self.timeout = 0.5
        invoice = self._invoices(1)
        self.sandbox.inject("slow", method="POST", path=AUTH, delay=1.5)
        invoice.action_cdiscount_send()
        self.assertUploadedOnce(invoice)
        self.assertEqual(self.sandbox.request_count(method="POST", path_prefix=AUTH), 2)

    def test_connection_closed_before_octopia_handled_a_zip(self):
        invoices = self._queued(2)
        self.sandbox.inject("drop", method="POST", path=BULK)
        self._run_cron(SEND_CRON)
        self.assertEqual(set(invoices.mapped("cdiscount_state")), {"unknown"})
        self._run_sync_cron()
        self.assertMarkedForRetry(invoices, "never received")
        invoices._cdiscount_queue()
        self._run_cron(SEND_CRON)
        self._finish_via_cron()
        self.assertUploadedOnce(invoices)

    def test_lost_answer_of_a_zip_in_the_send_cron_is_adopted(self):
        invoices = self._queued(3)
        self.sandbox.inject("drop_after_accept", method="POST", path=BULK)
        self._run_cron(SEND_CRON)
        self.assertEqual(set(invoices.mapped("cdiscount_state")), {"unknown"})
        self._finish_via_cron()
        self.assertEqual(set(invoices.mapped("cdiscount_state")), {"success"})
        self.assertEqual(self._count("POST", BULK), 1)
        self.assertUploadedOnce(invoices)
        self.assertEveryImportRecorded()

    def test_timeout_on_status_reads(self):
        self.timeout = 0.5
        self.sandbox.set_running(polls=10)
        invoice = self._sent()
        imp = invoice.cdiscount_import_id
        self.sandbox.inject("slow", method="GET", path=imp.name, delay=1.5)
        self._run_sync_cron()
        self.assertFalse(imp.sync_error, "a GET is retried after a timeout")
        self.sandbox.inject("slow", times=None, method="GET", path=imp.name, delay=1)
        self._run_sync_cron()
        self.assertIn("ReadTimeout", imp.sync_error)
        self.sandbox.clear_faults()
        self.sandbox.set_running(polls=0, import_id=imp.name)
        self._finish_via_cron()
        self.assertEqual(invoice.cdiscount_state, "success")

    def test_connection_refused_in_both_crons(self):
        running = self._sent()
        queued = self._queued(2)
        url = self.account.sandbox_api_url
        self.account.sandbox_api_url = f"http://127.0.0.1:{closed_port()}/seller/v2"
        self._run_cron(SEND_CRON)
        self.assertMarkedForRetry(queued, r"could not be reached; nothing was sent")
        self._run_sync_cron()
        self.assertIn("could not be reached", running.cdiscount_import_id.sync_error)
        self.account.sandbox_api_url = url
        self._finish_via_cron()
        self.assertEqual(running.cdiscount_state, "success")
        self.assertEqual(self._api_posts(), 1)

    # --- unreadable answers -------------------------------------------------------------
    def test_truncated_json_answer_to_an_upload(self):
        invoice = self._invoices(1)
        self.sandbox.inject("malformed", method="POST", path=SINGLE)  # 201 {"importId": "x", "sta
        invoice.action_cdiscount_send()
        self.assertEqual(invoice.cdiscount_state, "unknown")
        self.assertIn("unreadable", invoice.cdiscount_error)
        self._run_sync_cron()  # the sandbox did not keep it: offered again
        self.assertMarkedForRetry(invoice, "never received")

    def test_truncated_and_non_json_status_reads(self):
        invoice = self._sent()
        imp = invoice.cdiscount_import_id
        self.sandbox.inject("malformed", method="GET", path=imp.name)
        self._run_sync_cron()
        self.assertIn("not JSON", imp.sync_error)
        self.sandbox.inject(
            "raw",
            method="GET",
            path=imp.name,
            status=200,
            body="<html>maintenance</html>",
            content_type="text/html",
        )
        self._run_sync_cron()
        self.assertIn("not JSON", imp.sync_error)
        self.sandbox.inject("raw", method="GET", path=imp.name, status=200, body={"status": "x"})
        self._run_sync_cron()
        self.assertIn("without importId", imp.sync_error)
        self.assertEqual((imp.state, invoice.cdiscount_state), ("running", "running"))
        self._finish_via_cron()
        self.assertEqual(invoice.cdiscount_state, "success")

    def test_malformed_import_list_while_a_lost_answer_is_looked_up(self):
        invoice = self._invoices(1)
        self.sandbox.inject("drop_after_accept", method="POST", path=SINGLE)
        invoice.action_cdiscount_send()
        self.sandbox.inject("malformed", method="GET", path=BULK + "$", status=200)
        self._run_sync_cron()
        upload = invoice.cdiscount_last_upload_id
        self.assertEqual(upload.state, "unknown")
        self.assertIn("not JSON", upload.error_message)
        self._finish_via_cron()
        self.assertEqual(invoice.cdiscount_state, "success")
        self.assertUploadedOnce(invoice)

    def test_unknown_status_and_step_are_kept_and_polled_again(self):
        invoice = self._sent()
        imp, ref = invoice.cdiscount_import_id, invoice.cdiscount_order_ref
        body = {
            "importId": imp.name,
            "status": "Quarantined",
            "files": [
                {
                    "fileName": f"{ref}.xml",
                    "orderId": ref,
                    "status": "Quarantined",
                    "integrationStatus": "VirusScan",
                }
            ],
        }
        self.sandbox.inject("raw", method="GET", path=imp.name, status=200, body=body)
        self._run_sync_cron()
        self.assertEqual((imp.status, imp.state), ("Quarantined", "other"))
        upload = invoice.cdiscount_last_upload_id
        self.assertEqual(
            (upload.state, upload.file_status, upload.integration_status),
            ("running", "Quarantined", "VirusScan"),
        )
        self.assertEqual(invoice.cdiscount_state, "running")
        gets = self._count("GET", BULK + "/")
        self._run_sync_cron()
        self.assertEqual(self._count("GET", BULK + "/") - gets, 1, "still polled")
        self._finish_via_cron()
        self.assertEqual((imp.state, invoice.cdiscount_state), ("success", "success"))

    def test_running_report_without_the_file_list(self):
        invoice = self._sent()
        imp = invoice.cdiscount_import_id
        body = {"importId": imp.name, "status": "Running"}
        self.sandbox.inject("raw", method="GET", path=imp.name, status=200, body=body)
        self._run_sync_cron()
        self.assertEqual((imp.state, invoice.cdiscount_state), ("running", "running"))
        self.assertFalse(imp.sync_error)
        self._finish_via_cron()
        self.assertEqual(invoice.cdiscount_state, "success")

    def test_final_report_without_the_file_list(self):
        invoice = self._sent()
        imp = invoice.cdiscount_import_id
        body = {"importId": imp.name, "status": "Success"}
        self.sandbox.inject("raw", method="GET", path=imp.name, status=200, body=body)
        self._run_sync_cron()
        self.assertEqual(imp.status, "Success")
        for _run in range(3):
            self._run_sync_cron()
        self.assertIn(
            invoice.cdiscount_state,
            ("success", "failure", "error"),
            "an invoice must not stay 'Processing' once its import is no longer polled",
        )

    # --- the transaction dies after Octopia accepted -------------------------------------
    @contextlib.contextmanager
    def _commits_and_a_crash(self):
        """Emulate production commits inside the test transaction.

        The addon commits only when Odoo's `_can_commit()` says so, never in tests (Odoo's
        test flags `modules.module.current_test` and `test_enable`); here it commits
        for real, into a savepoint: each `cr.commit()` moves the savepoint "last commit"
        forward. The block must end with a psycopg2.OperationalError (the connection died):
        everything since the last commit is rolled back, as PostgreSQL would."""
        cr = self.env.cr
        self.env.flush_all()
        cr.execute("SAVEPOINT cdiscount_last_commit")

        def commit():
            cr.flush()
            cr.execute("RELEASE SAVEPOINT cdiscount_last_commit")
            cr.execute("SAVEPOINT cdiscount_last_commit")

        crashed = False
        with (
            patch.object(cr, "commit", commit),
            patch.object(odoo_module, "current_test", False),
            patch.dict(config.options, {"test_enable": False}),
        ):
            try:  # not self.assertRaises: Odoo's opens a savepoint that a commit would close
                yield
            except psycopg2.OperationalError:
                crashed = True
        self.assertTrue(crashed, "the block was meant to end with the connection lost")
        cr.execute("ROLLBACK TO SAVEPOINT cdiscount_last_commit")
        cr.execute("RELEASE SAVEPOINT cdiscount_last_commit")
        cr.clear()
        self.env.invalidate_all(flush=False)

    @staticmethod
    def _accepted_then_killed(method):
        """`method` of the client, whose caller dies as soon as Octopia has answered 201."""

        def accepted_then_killed(client, *args, **kwargs):
            method(client, *args, **kwargs)
            raise psycopg2.OperationalError("server closed the connection unexpectedly")

        return accepted_then_killed

    def test_transaction_rolled_back_after_octopia_accepted_a_zip(self):
        invoices = self._queued(2)
        killed = self._accepted_then_killed(OctopiaClient.upload_bulk)
        with self._commits_and_a_crash(), patch.object(OctopiaClient, "upload_bulk", killed):
            self._run_cron(SEND_CRON)
        self.assertEqual(len(self.sandbox.imports_of(SELLER)), 1, "Octopia has the ZIP")
        self._run_cron(SEND_CRON)  # the next run of the cron
        self._finish_via_cron()
        self.assertEqual(self._count("POST", BULK), 1, "no second upload")
        self.assertUploadedOnce(invoices)
        self.assertEqual(set(invoices.mapped("cdiscount_state")), {"success"})

    def test_transaction_rolled_back_after_octopia_accepted_a_single_upload(self):
        invoice = self._invoices(1)
        killed = self._accepted_then_killed(OctopiaClient.upload_order_invoice)
        with (
            self._commits_and_a_crash(),
            patch.object(OctopiaClient, "upload_order_invoice", killed),
        ):
            invoice.action_cdiscount_send()
        self.assertEqual(len(self.sandbox.imports_of(SELLER)), 1, "Octopia has it")
        with contextlib.suppress(UserError):  # "already being processed" is the right answer
            invoice.action_cdiscount_send()  # the user clicks again (or Odoo retries the call)
        self._finish_via_cron()
        self.assertEqual(self._api_posts(), 1, "no second upload")
        self.assertUploadedOnce(invoice)

    # --- several companies ------------------------------------------------------------------
    def test_send_cron_uses_each_company_account_and_isolates_failures(self):
        company_b = self.setup_other_company(name="Shop R")["company"]
        vals = self._french_company_vals()
        del vals["account_fiscal_country_id"]  # B keeps its chart's (its taxes')
        company_b.write(vals)
        account_b = self._cdiscount_account(
            company_b,
            name="R",
            seller_id="SELLER-R",
            client_id="client-r",
            client_secret="secret-r",
        )
        self.sandbox.add_client("client-r", "secret-r", ["SELLER-R"])
        self.sandbox.add_orders("SELLER-R", ["CD-R-1", "CD-R-2"])
        product_b = self.product.with_company(company_b)
        first_b, second_b = (
            self._invoice(order=self._order(ref, [(product_b, 1, 10.0, 0.0)], company=company_b))
            for ref in ("CD-R-1", "CD-R-2")
        )
        invoices_a = self._invoices(2)
        (first_b | invoices_a)._cdiscount_queue()
        self._run_cron(SEND_CRON)
        self.assertUploadedOnce(invoices_a)
        self.assertEqual(first_b.cdiscount_state, "running")
        self.assertEqual(first_b.cdiscount_import_id.account_id, account_b)
        remote_b = [f["orderId"] for i in self.sandbox.imports_of("SELLER-R") for f in i["files"]]
        self.assertEqual(remote_b, ["CD-R-1"])
        # B's credentials break; sent first (lower ids), B's failure does not stop A
        account_b.client_secret = "broken"
        more_a = self._invoices(1)
        (second_b | more_a)._cdiscount_queue()
        self._run_cron(SEND_CRON)
        self.assertMarkedForRetry(second_b, "refused the client id or secret")
        self.assertUploadedOnce(more_a)

    def test_a_clean_send_logs_no_warning(self):
        invoices = self._invoices(3)
        with self.assertNoLogs(level="WARNING"):
            invoices[0].action_cdiscount_send()
            self.env["cdiscount.sender"]._send_bulk(invoices[1:])
            self._finish_via_cron()

    # --- secrets ------------------------------------------------------------------------
    @contextlib.contextmanager
    def _captured_logs(self):
        """Every log record (DEBUG for the addon, requests and urllib3) while in the block."""
        records = []
        handler = logging.Handler(logging.DEBUG)
        handler.emit = records.append
        names = ("odoo.addons.cdiscount_invoice_upload", "urllib3", "requests")
        loggers = [logging.getLogger(name) for name in names]
        levels = [logger.level for logger in loggers]
        root = logging.getLogger()
        root.addHandler(handler)
        for logger in loggers:
            logger.setLevel(logging.DEBUG)
        try:
            yield records
        finally:
            root.removeHandler(handler)
            for logger, level in zip(loggers, levels, strict=True):
                logger.setLevel(level)

    def test_secret_and_tokens_never_in_logs_chatter_or_messages(self):
        secret, typo = f"s3cr3t-{uuid.uuid4().hex}", f"typo-{uuid.uuid4().hex}"
        self.sandbox.add_client("log-client", secret, [SELLER])
        self.account.write({"client_id": "log-client", "client_secret": secret})
        shown = []
        with self._captured_logs() as records:
            invoices = self._invoices(3)
            self.sandbox.inject("expire_token", method="POST", path=SINGLE)
            invoices[0].action_cdiscount_send()
            self.sandbox.inject("status", method="POST", path=SINGLE, status=403)
            with self.assertRaises(UserError) as caught:
                invoices[1].action_cdiscount_send()
            shown.append(str(caught.exception))
            self.sandbox.inject("status", method="POST", path=BULK, status=429, retry_after=0)
            self.sandbox.inject("drop_after_accept", method="POST", path=BULK)
            invoices[1:]._cdiscount_queue()
            self._run_cron(SEND_CRON)
            self.sandbox.inject("status", method="GET", status=500)
            self.sandbox.inject("status", method="GET", status=401)
            self._finish_via_cron()
            self.account.client_secret = typo
            with self.assertRaises(UserError) as caught:
                self.account.action_test_connection()
            shown.append(str(caught.exception))
        self.assertEqual(set(invoices.mapped("cdiscount_state")), {"success"})
        tokens = list(self.sandbox.state.tokens)
        self.assertGreaterEqual(len(tokens), 2)
        formatter = logging.Formatter()
        logged = "\n".join(formatter.format(record) for record in records)
        self.assertIn("traceId=", logged, "the capture sees the addon's logs")
        self.assertIn("/order-invoice-imports", logged, "and urllib3's")
        uploads = invoices.cdiscount_upload_ids
        messages = self.env["mail.message"].search(
            [
                ("model", "in", ("account.move", "sale.order")),
                ("res_id", "in", [*invoices.ids, *invoices.cdiscount_order_id.ids]),
            ]
        )
        shown += [*messages.mapped("body"), *invoices.activity_ids.mapped("note")]
        shown += [*uploads.mapped("error_message"), self.account.last_check_message]
        shown += uploads.import_id.mapped("sync_error") + uploads.import_id.mapped("report_json")
        shown = "\n".join(str(text) for text in shown if text)
        for needle in (secret, typo, *tokens):
            self.assertNotIn(needle, logged)
            self.assertNotIn(needle, shown)

    @staticmethod
    def _read_group_call(model, field):
        """The public grouped read of this Odoo (19.0 deprecates read_group)."""
        if hasattr(model, "formatted_read_group"):
            return (model.formatted_read_group, [], [field], ["__count"])
        return (model.read_group, [], [field], [field])

    def _user(self, login, groups, companies=None):
        companies = companies or self.company
        return new_test_user(
            self.env,
            login=login,
            groups=groups,
            company_id=companies[0].id,
            company_ids=[Command.set(companies.ids)],
        )

    def test_secret_not_readable_through_rpc_by_non_admins(self):
        secret = self.account.sudo().client_secret
        for groups in (
            "base.group_user,base.group_allow_export",
            "account.group_account_invoice,base.group_allow_export",
            "account.group_account_manager,base.group_allow_export",
        ):
            user = self._user(f"rpc-{groups.split(',')[0]}", groups)
            Account = self.env["cdiscount.account"].with_user(user)
            account = self.account.with_user(user)
            calls = {
                "web_read": (account.web_read, {"client_secret": {}}),
                "web_search_read": (Account.web_search_read, [], {"client_secret": {}}),
                "read_group": self._read_group_call(Account, "client_secret"),
                "search on it": (Account.search, [("client_secret", "=", secret)]),
                "guess it": (Account.search_count, [("client_secret", "=like", "d%")]),
                "order by it": (Account.search, [], 0, None, "client_secret"),
                "export_data": (account.export_data, ["client_secret"]),
            }
            for name, (method, *args) in calls.items():
                self.env.invalidate_all()
                with self.subTest(groups=groups, call=name), self.assertRaises(AccessError):
                    method(*args)
            self.assertTrue(account.has_client_secret, "it only says that one is set")

    def test_secret_not_exported_after_has_client_secret_is_computed(self):
        secret = self.account.sudo().client_secret
        user = self._user("rpc-export", "base.group_user,base.group_allow_export")
        self.env.invalidate_all()
        try:
            exported = self.account.with_user(user).export_data(
                ["has_client_secret", "client_secret"]
            )
        except AccessError:
            exported = None
        self.assertNotIn(secret, str(exported))

    def test_settings_admin_of_another_company_cannot_read_the_secret(self):
        company_b = self.setup_other_company(name="Shop S")["company"]
        admin_b = self._user(
            "admin-b", "base.group_system,account.group_account_manager", companies=company_b
        )
        with self.assertRaises(AccessError):
            self.account.with_user(admin_b).read(["client_secret"])
        self.assertFalse(self.env["cdiscount.account"].with_user(admin_b).search([]))

    def test_secret_never_sent_to_a_url_chosen_by_a_non_admin(self):
        """An accounting manager may configure accounts but not read the secret: nor may they
        make Odoo post it (the token request carries it) to a host of their choosing."""
        accountant = self._user("cd-manager-url", "account.group_account_manager")
        with SandboxServer() as elsewhere:
            elsewhere.add_client(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, [SELLER])
            account = self.account.with_user(accountant)
            with self.assertRaises(AccessError):  # where the secret goes is not theirs to say
                account.write(
                    {
                        "environment": "sandbox",
                        "sandbox_auth_url": elsewhere.auth_url,
                        "sandbox_api_url": elsewhere.api_url,
                    }
                )
            with contextlib.suppress(UserError):
                account.action_test_connection()
            self.assertFalse(elsewhere.state.tokens, "the secret reached the other host")

    def test_neutralized_database_sends_nothing(self):
        invoice = self._invoices(1)
        self.account.environment = "production"
        self.env.flush_all()
        for query in get_neutralization_queries(["cdiscount_invoice_upload"]):
            self.env.cr.execute(query)
        self.env.invalidate_all()
        with self.assertRaisesRegex(UserError, "is incomplete"):
            invoice.action_cdiscount_send()
        self.assertEqual(self.sandbox.requests, [])
