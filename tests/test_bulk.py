from datetime import timedelta

from odoo import fields
from odoo.tests import Form, tagged

from .common import CdiscountCommon, scheduled

BULK = "/order-invoice-imports"


@tagged("post_install", "-at_install")
class TestBulkSend(CdiscountCommon):
    def _wizard(self, moves, **values):
        context = {"active_model": "account.move", "active_ids": moves.ids}
        form = Form(self.env["account.move.cdiscount.send"].with_context(**context))
        for name, value in values.items():
            setattr(form, name, value)
        return form.save()

    def _bulk_posts(self):
        return self.sandbox.request_count(method="POST", path_prefix=BULK)

    def test_wizard_sends_eligible_and_groups_the_others_by_reason(self):
        good = self._invoice() | self._invoice() | self._invoice()
        draft = self._invoice(post=False) | self._invoice(post=False)
        no_order = self.init_invoice(
            "out_invoice", partner=self.buyer, products=self.product, post=True
        )
        wizard = self._wizard(good | draft | no_order)
        self.assertEqual((wizard.eligible_count, wizard.ineligible_count), (3, 3))
        self.assertIn("2 invoice(s): ", wizard.ineligible_summary)  # the two drafts, said once
        self.assertIn("Not posted: confirm them", wizard.ineligible_summary)
        self.assertIn("Not linked to a Cdiscount order", wizard.ineligible_summary)
        wizard.action_send()
        self.assertEqual(wizard.state, "done")
        self.assertEqual(set(good.mapped("cdiscount_state")), {"running"})
        self.assertEqual(set(draft.mapped("cdiscount_state")), {"not_applicable"})
        self.assertEqual(self._bulk_posts(), 1)
        imp = good.cdiscount_import_id
        self.assertEqual((len(imp), imp.kind, imp.file_count), (1, "bulk", 3))
        self.assertIn(imp.name, wizard.result_summary)

    def test_selection_with_a_replaced_invoice_opens_and_sends(self):
        replaced = self._invoice()
        replaced.action_cdiscount_send()
        self._finish_imports()
        replaced.action_cdiscount_replace()
        self._finish_imports()
        self.assertEqual(len(replaced.cdiscount_upload_ids), 2)
        fresh = self._invoice()
        form = Form(
            self.env["account.move.cdiscount.send"].with_context(
                active_model="account.move", active_ids=(replaced | fresh).ids
            )
        )
        form.replace = True  # the onchange recomputes the last upload of each invoice
        wizard = form.save()
        self.assertEqual(wizard.eligible_count, 2)
        wizard.action_send()
        self.assertEqual(len(replaced.cdiscount_upload_ids), 3)
        self.assertEqual(fresh.cdiscount_state, "running")

    def test_import_unknown_to_cdiscount_is_given_up_after_a_few_reads(self):
        from ..models.cdiscount_import import NOT_FOUND_LIMIT

        self.sandbox.set_running(polls=100)
        invoice = self._invoice()
        invoice.action_cdiscount_send()
        imp = invoice.cdiscount_import_id
        self.sandbox.inject("status", times=100, method="GET", path=BULK + "/", status=404)
        for _read in range(NOT_FOUND_LIMIT + 3):
            self.env["cdiscount.import"]._cron_sync_imports()
        reads = self.sandbox.request_count(method="GET", path_prefix=BULK + "/")
        self.assertEqual(reads, NOT_FOUND_LIMIT, "polled a bounded number of times, then no more")
        self.assertEqual(imp.state, "gone")
        self.assertEqual(invoice.cdiscount_state, "error", "it can be sent again")
        self.assertIn(imp.name, invoice.cdiscount_error)
        self.assertTrue(invoice.activity_ids, "the accountant is told")

    def test_counters_count_per_account(self):
        second = self._cdiscount_account(self.company, name="Second seller", seller_id="SELLER-2")
        self._invoice()
        self._invoice(order=self._order(cdiscount_account_id=second.id))
        self._invoice(order=self._order(cdiscount_account_id=second.id))
        self.assertEqual((self.account.to_send_count, second.to_send_count), (1, 2))
        invoices = self.env["account.move"].search(
            second.with_context(cdiscount_states=["to_send"]).action_open_invoices()["domain"]
        )
        self.assertEqual(len(invoices), 2)

    def test_split_across_several_zips_within_the_limits(self):
        self.account.max_files_per_zip = 2
        invoices = self.env["account.move"].concat(*(self._invoice() for _i in range(5)))
        result = self.env["cdiscount.sender"]._send_bulk(invoices)
        imports = result.uploads.import_id
        self.assertEqual(len(imports), 3)
        self.assertEqual(sorted(imports.mapped("file_count")), [1, 2, 2])
        self.assertEqual(self._bulk_posts(), 3)
        self.assertEqual(self.sandbox.request_count(method="POST", path_prefix="/auth/"), 1)
        for imp in imports:
            report = self.sandbox.get_import("SELLER-1", imp.name)
            self.assertEqual(
                sorted(f["fileName"] for f in report["files"]),
                sorted(imp.upload_ids.mapped("file_name")),
            )

    def test_split_by_request_size(self):
        invoices = self._invoice() | self._invoice() | self._invoice()
        sizes = [len(m._cdiscount_get_ubl()) for m in invoices]
        self.account.max_request_bytes = max(sizes) * 2 + 400  # room for about one file
        result = self.env["cdiscount.sender"]._send_bulk(invoices)
        self.assertGreaterEqual(len(result.uploads.import_id), 2)
        self.assertEqual(len(result.uploads), 3)

    def test_partial_success_is_resolved_file_by_file(self):
        known = self._invoice()
        unknown = self._invoice(order=self._order(ref="CD-UNKNOWN-1"))
        self.env["cdiscount.sender"]._send_bulk(known | unknown)
        self._finish_imports()
        imp = known.cdiscount_import_id
        self.assertEqual(imp, unknown.cdiscount_import_id)
        self.assertEqual((imp.status, imp.state), ("PartialSuccess", "partial"))
        self.assertEqual(known.cdiscount_state, "success")
        self.assertEqual(unknown.cdiscount_state, "failure")
        self.assertIn("OrderNotFound", unknown.cdiscount_error)
        self.assertEqual(imp.failed_count, 1)

    def test_failure_import(self):
        invoices = self._invoice(order=self._order(ref="CD-UNKNOWN-2")) | self._invoice(
            order=self._order(ref="CD-UNKNOWN-3")
        )
        self.env["cdiscount.sender"]._send_bulk(invoices)
        self._finish_imports()
        self.assertEqual(invoices.cdiscount_import_id.state, "failure")
        self.assertEqual(set(invoices.mapped("cdiscount_state")), {"failure"})

    def test_import_running_for_a_while_then_finished(self):
        self.sandbox.set_running(polls=3)
        invoice = self._invoice()
        invoice.action_cdiscount_send()
        Import = self.env["cdiscount.import"]
        Import._cron_sync_imports()
        Import._cron_sync_imports()
        self.assertEqual(invoice.cdiscount_state, "running")
        self.assertEqual(invoice.cdiscount_import_id.state, "running")
        Import._cron_sync_imports()
        Import._cron_sync_imports()
        self.assertEqual(invoice.cdiscount_state, "success")
        gets = self.sandbox.request_count(method="GET", path_prefix=BULK + "/")
        self.assertEqual(gets, 4, "one request per running import and run, never per invoice")

    def test_scheduler_reads_an_import_at_most_once_a_minute(self):
        self.sandbox.set_running(polls=10)
        invoice = self._invoice()
        invoice.action_cdiscount_send()
        cron = self.env.ref("cdiscount_invoice_upload.ir_cron_cdiscount_sync_imports")
        with scheduled(self.env, cron) as (context, progress):
            Import = self.env["cdiscount.import"].with_context(**context)
            Import._cron_sync_imports()
            Import._cron_sync_imports()  # re-run at once: nothing due, so no busy loop
        gets = self.sandbox.request_count(method="GET", path_prefix=BULK + "/")
        self.assertEqual(gets, 1)
        self.assertEqual(progress.remaining, 0)
        self.assertTrue(
            self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]),
            "polled again later while the import runs",
        )

    def test_late_import_raises_an_activity_once(self):
        self.sandbox.set_running(polls=10)
        invoice = self._invoice()
        invoice.action_cdiscount_send()
        imp = invoice.cdiscount_import_id
        self.env.cr.execute(
            "UPDATE cdiscount_import SET create_date = %s WHERE id = %s",
            [fields.Datetime.now() - timedelta(hours=30), imp.id],
        )
        imp.invalidate_recordset(["create_date"])
        self.env["cdiscount.import"]._cron_sync_imports()
        self.env["cdiscount.import"]._cron_sync_imports()
        activity = invoice.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertIn("still processing", activity.note)
        self.assertTrue(imp.late_alerted)

    def test_refused_file_opens_an_activity_closed_by_a_later_success(self):
        order = self._order(ref="CD-LATE-1")  # unknown to Cdiscount for now
        invoice = self._invoice(order)
        invoice.action_cdiscount_send()
        self._finish_imports()
        activity = invoice.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertIn("OrderNotFound", activity.note)
        self.assertEqual(activity.user_id, self.env.user)
        self.sandbox.add_orders("SELLER-1", ["CD-LATE-1"])
        invoice.action_cdiscount_replace()
        self._finish_imports()
        self.assertEqual(invoice.cdiscount_state, "success")
        self.assertFalse(invoice.activity_ids)

    def test_resend_failed_files_of_an_import(self):
        good = self._invoice()
        bad = self._invoice(order=self._order(ref="CD-LATE-2"))
        self.env["cdiscount.sender"]._send_bulk(good | bad)
        self._finish_imports()
        action = bad.cdiscount_import_id.action_resend_failed()
        wizard = (
            self.env["account.move.cdiscount.send"].with_context(**action["context"]).create({})
        )
        self.assertEqual(wizard.move_ids, bad)
        self.sandbox.add_orders("SELLER-1", ["CD-LATE-2"])
        wizard.action_send()
        self._finish_imports()
        self.assertEqual(bad.cdiscount_state, "success")
        self.assertEqual(len(good.cdiscount_upload_ids), 1, "only what failed is sent again")

    def test_two_invoices_of_one_order_in_one_selection(self):
        order = self._order()
        invoice = self._invoice(order)
        refund = invoice._reverse_moves()
        refund.action_post()
        self.account.upload_credit_notes = True
        result = self.env["cdiscount.sender"]._send_bulk(invoice | refund)
        self.assertEqual(len(result.uploads), 1)
        self.assertEqual(list(result.skipped), ["same_order"])
        reasons = " ".join(r.message for r in result.refusals())
        self.assertIn("same selection", reasons)

    def test_lost_answer_of_a_zip_is_adopted_for_every_invoice(self):
        invoices = self._invoice() | self._invoice() | self._invoice()
        self.sandbox.inject("drop_after_accept", path=BULK, method="POST")
        self.env["cdiscount.sender"]._send_bulk(invoices)
        self.assertEqual(set(invoices.mapped("cdiscount_state")), {"unknown"})
        self.env["cdiscount.upload"]._cdiscount_reconcile_unknown()
        lists = self.sandbox.request_count(method="GET", path_prefix=BULK)
        self.assertEqual(lists, 1, "one look-up adopts the whole ZIP")
        self.assertEqual(len(invoices.cdiscount_import_id), 1)
        self._finish_imports()
        self.assertEqual(set(invoices.mapped("cdiscount_state")), {"success"})
        self.assertEqual(self._bulk_posts(), 1)

    def test_refused_zip_is_recorded_as_not_sent(self):
        invoices = self._invoice() | self._invoice()
        self.sandbox.inject("status", path=BULK, method="POST", status=422)
        self.env["cdiscount.sender"]._send_bulk(invoices)
        self.assertEqual(set(invoices.mapped("cdiscount_state")), {"error"})
        self.assertIn("HTTP 422", invoices[0].cdiscount_error)
        self.env["cdiscount.sender"]._send_bulk(invoices)
        self.assertEqual(set(invoices.mapped("cdiscount_state")), {"running"})


@tagged("post_install", "-at_install")
class TestQueue(CdiscountCommon):
    def test_auto_send_queues_on_post_and_the_cron_sends(self):
        self.account.auto_send = True
        invoice = self._invoice(post=False)
        invoice.action_post()
        self.assertEqual(invoice.cdiscount_state, "queued")
        self.assertFalse(self.sandbox.imports_of("SELLER-1"), "never inside the posting")
        self.env["cdiscount.sender"]._cron_send_queue()
        self.assertEqual(invoice.cdiscount_state, "running")
        self.assertFalse(invoice.cdiscount_queued)
        self.assertEqual(invoice.cdiscount_import_id.kind, "bulk")

    def test_queue_entry_keeps_the_choice_and_never_waits_again_once_sent(self):
        invoice = self._invoice()
        invoice._cdiscount_queue("ubl", True)
        entry = invoice.cdiscount_queue_ids
        self.assertEqual((entry.document_format, entry.replace), ("ubl", True))
        self.assertEqual(invoice.cdiscount_queue_user_id, self.env.user)
        self.env["cdiscount.sender"]._cron_send_queue()
        self.assertFalse(invoice.cdiscount_queued)
        self.assertEqual(entry.upload_ids, invoice.cdiscount_last_upload_id)
        invoice.cdiscount_upload_ids.sudo().unlink()  # history deleted: sent, never requeued
        self.assertFalse(invoice.cdiscount_queued)
        self.assertFalse(entry.exists())

    def test_a_run_builds_while_its_time_lasts_and_the_next_run_goes_on(self):
        invoices = self._invoice() | self._invoice() | self._invoice()
        invoices._cdiscount_queue()
        sender = self.env["cdiscount.sender"].with_context(ir_cron_progress_id=False)
        sender._cron_send_queue(run_seconds=0)  # no build time: the run's first document only
        states = sorted(invoices.mapped("cdiscount_state"))
        self.assertEqual(states, ["queued", "queued", "running"])
        sender._cron_send_queue()
        self.assertEqual(set(invoices.mapped("cdiscount_state")), {"running"})
        self.assertEqual(len(invoices.cdiscount_import_id), 2, "what a run built, in one ZIP")

    def test_without_auto_send_nothing_is_queued(self):
        invoice = self._invoice()
        self.assertEqual(invoice.cdiscount_state, "to_send")

    def test_large_selection_goes_to_the_background(self):
        self.env["ir.config_parameter"].set_param(
            "cdiscount_invoice_upload.background_threshold", "2"
        )
        invoices = self._invoice() | self._invoice() | self._invoice()
        wizard = (
            self.env["account.move.cdiscount.send"]
            .with_context(active_model="account.move", active_ids=invoices.ids)
            .create({})
        )
        self.assertTrue(wizard.in_background)
        wizard.action_send()
        self.assertEqual(set(invoices.mapped("cdiscount_state")), {"queued"})
        self.assertIn("queued", wizard.result_summary)
        self.env["cdiscount.sender"].with_context(ir_cron_progress_id=False)._cron_send_queue()
        self.assertEqual(set(invoices.mapped("cdiscount_state")), {"running"})
        self.assertEqual(len(invoices.cdiscount_import_id), 1)

    def test_sale_order_list_opens_the_wizard_on_their_invoices(self):
        orders = self._order() | self._order()
        invoices = self._invoice(orders[0]) | self._invoice(orders[1])
        wizard = (
            self.env["account.move.cdiscount.send"]
            .with_context(active_model="sale.order", active_ids=orders.ids)
            .create({})
        )
        self.assertEqual(wizard.move_ids, invoices)


@tagged("post_install", "-at_install")
class TestCompanyIsolation(CdiscountCommon):
    def test_broken_credentials_of_one_company_do_not_stop_the_other(self):
        company_b = self.setup_other_company(name="Shop B2")["company"]
        account_b = self._cdiscount_account(
            company_b, name="B", seller_id="SELLER-B2", client_id="client-b2", client_secret="right"
        )
        self.sandbox.add_client("client-b2", "right", ["SELLER-B2"])
        invoice = self._invoice()
        invoice.action_cdiscount_send()
        imp_b = (
            self.env["cdiscount.import"]
            .sudo()
            .create(
                {
                    "name": "import-of-b",
                    "account_id": account_b.id,
                    "kind": "single",
                    "status": "Running",
                }
            )
        )
        account_b.client_secret = "wrong"  # broken after the upload
        self._finish_imports_except(imp_b)
        self.assertEqual(invoice.cdiscount_state, "success")
        self.assertIn("refused the client id or secret", imp_b.sync_error)
        self.assertEqual(imp_b.state, "running")

    def _finish_imports_except(self, broken):
        for _attempt in range(4):
            self.env["cdiscount.import"]._cron_sync_imports()
        self.assertFalse(
            self.env["cdiscount.import"].search(
                [("state", "=", "running"), ("id", "!=", broken.id)]
            )
        )
