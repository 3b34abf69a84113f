import functools
from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from octopia import bundle, samples
from octopia.client import OctopiaClient

from .. import compat
from .common import CdiscountCommon

UPLOAD = "/invoice-documents"


@tagged("post_install", "-at_install")
class TestSendOne(CdiscountCommon):
    def _posts(self):
        return self.sandbox.request_count(method="POST", path_prefix="/seller/")

    def test_send_ubl_then_sync_to_success(self):
        invoice = self._invoice()
        self.assertEqual(invoice.cdiscount_state, "to_send")
        action = invoice.action_cdiscount_send()
        self.assertEqual(action["params"]["type"], "success")
        self.assertEqual(invoice.cdiscount_state, "running")
        upload = invoice.cdiscount_last_upload_id
        self.assertEqual(upload.file_name, f"{invoice.cdiscount_order_ref}.xml")
        self.assertEqual(upload.document_format, "ubl")
        self.assertTrue(upload.import_id.name)
        self.assertEqual(len(upload.checksum), 64)
        self.assertIn(b"<cbc:ID>" + invoice.cdiscount_order_ref.encode(), upload.attachment_id.raw)
        # the import id Octopia answered is the one recorded
        seller_imports = self.sandbox.imports_of("SELLER-1")
        self.assertIn(upload.import_id.name, [i["importId"] for i in seller_imports])
        self.assertEqual(invoice.cdiscount_order_id.cdiscount_state, "running")

        self._finish_imports()
        self.assertEqual(invoice.cdiscount_state, "success")
        self.assertEqual(upload.file_status, "Success")
        self.assertTrue(upload.integration_status)
        self.assertEqual(invoice.cdiscount_order_id.cdiscount_state, "success")
        current = self.sandbox.current_invoice("SELLER-1", invoice.cdiscount_order_ref)
        self.assertEqual(current["sha256"], upload.checksum)

    def test_chatter_of_invoice_and_order_get_the_sent_file(self):
        invoice = self._invoice()
        invoice.action_cdiscount_send()
        message = invoice.message_ids[:1]
        self.assertIn(invoice.cdiscount_order_ref, message.body)
        self.assertEqual(message.attachment_ids, invoice.cdiscount_last_upload_id.attachment_id)
        self.assertIn(invoice.cdiscount_order_ref, invoice.cdiscount_order_id.message_ids[:1].body)

    def test_second_send_is_refused_while_running_and_after_success(self):
        invoice = self._invoice()
        invoice.action_cdiscount_send()
        with self.assertRaisesRegex(UserError, "already being processed"):
            invoice.action_cdiscount_send()
        self._finish_imports()
        with self.assertRaisesRegex(UserError, "Replace on Cdiscount"):
            invoice.action_cdiscount_send()
        self.assertEqual(self._posts(), 1)

    def test_replace_uploads_a_new_version_and_keeps_history(self):
        invoice = self._invoice()
        invoice.action_cdiscount_send()
        self._finish_imports()
        first = invoice.cdiscount_last_upload_id
        invoice.action_cdiscount_replace()
        second = invoice.cdiscount_last_upload_id
        self.assertNotEqual(first, second)
        self.assertEqual(invoice.cdiscount_state, "running")
        self._finish_imports()
        self.assertEqual(invoice.cdiscount_upload_ids, first | second)
        self.assertEqual(first.state, "success")
        history = self.sandbox.invoice_history("SELLER-1", invoice.cdiscount_order_ref)
        self.assertEqual(
            [h["importId"] for h in history], [first.import_id.name, second.import_id.name]
        )

    def test_unknown_order_ends_refused_with_the_reason(self):
        order = self._order(ref="CD-NOT-ON-CDISCOUNT")
        invoice = self._invoice(order)
        invoice.action_cdiscount_send()
        self._finish_imports()
        self.assertEqual(invoice.cdiscount_state, "failure")
        self.assertIn("OrderNotFound", invoice.cdiscount_error)
        self.assertEqual(invoice.cdiscount_integration_status, "OrderCheck")
        self.assertEqual(invoice.cdiscount_order_id.cdiscount_state, "failure")
        # a refused invoice can be corrected and uploaded again
        self.assertFalse(invoice._cdiscount_get_eligibility_error(replace=True))

    def test_lost_answer_is_recorded_not_resent_then_adopted(self):
        invoice = self._invoice()
        self.sandbox.inject("drop_after_accept", path=UPLOAD)
        action = invoice.action_cdiscount_send()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertEqual(invoice.cdiscount_state, "unknown")
        self.assertEqual(self._posts(), 1)
        with self.assertRaisesRegex(UserError, "already being processed"):
            invoice.action_cdiscount_send()
        self._finish_imports()
        upload = invoice.cdiscount_last_upload_id
        self.assertEqual(upload.import_id.name, self.sandbox.imports_of("SELLER-1")[-1]["importId"])
        self.assertEqual(invoice.cdiscount_state, "success")
        self.assertEqual(self._posts(), 1)

    def test_lost_answer_never_received_is_offered_again(self):
        invoice = self._invoice()
        self.sandbox.inject("drop", path=UPLOAD)
        invoice.action_cdiscount_send()
        self.assertEqual(invoice.cdiscount_state, "unknown")
        self.env["cdiscount.upload"]._cdiscount_reconcile_unknown()
        self.assertEqual(invoice.cdiscount_state, "error")
        self.assertIn("never received", invoice.cdiscount_error)
        invoice.action_cdiscount_send()
        self.assertEqual(invoice.cdiscount_state, "running")

    def test_lost_answer_is_never_declared_missing_while_the_list_could_hold_it(self):
        invoice = self._invoice()
        self.sandbox.inject("drop_after_accept", path=UPLOAD)
        invoice.action_cdiscount_send()
        self.assertEqual(invoice.cdiscount_state, "unknown")
        # Octopia ignores the orderId filter, and 120 newer imports of other orders come first.
        self.sandbox.ignore_order_filter = True
        self.addCleanup(setattr, self.sandbox, "ignore_order_filter", False)
        client = self.account._cdiscount_client()
        others = [f"CD-{n}" for n in range(2000, 2100) if f"CD-{n}" != invoice.cdiscount_order_ref]
        for number in range(120):
            ref = others[number % len(others)]
            client.upload_bulk([bundle.make_file(ref, data=samples.pdf_invoice(ref))])
        find = OctopiaClient.find_lost_upload
        short = functools.partialmethod(find, max_pages=1, page_size=50)
        with patch.object(OctopiaClient, "find_lost_upload", short):
            self.env["cdiscount.upload"]._cdiscount_reconcile_unknown()
        self.assertEqual(invoice.cdiscount_state, "unknown", "not declared missing")
        self.assertIn("looked up again", invoice.cdiscount_error)
        self.env["cdiscount.upload"]._cdiscount_reconcile_unknown()  # the whole budget
        self.assertEqual(invoice.cdiscount_state, "running", "found and adopted")
        self.assertEqual(self._posts(), 1 + 120, "and never uploaded again")

    def test_refused_request_sends_nothing_and_records_nothing(self):
        invoice = self._invoice()
        self.sandbox.inject("status", path=UPLOAD, status=403)
        with self.assertRaisesRegex(UserError, "may not upload invoices for seller SELLER-1"):
            invoice.action_cdiscount_send()
        self.assertFalse(invoice.cdiscount_upload_ids)
        self.assertEqual(invoice.cdiscount_state, "to_send")

    def test_sale_order_button_sends_its_invoice(self):
        order = self._order()
        invoice = self._invoice(order)
        order.action_cdiscount_send_invoices()
        self.assertEqual(invoice.cdiscount_state, "running")
        self.assertEqual(order.cdiscount_upload_count, 1)
        action = order.action_cdiscount_view_uploads()
        self.assertEqual(
            self.env["cdiscount.upload"].search(action["domain"]), invoice.cdiscount_upload_ids
        )


@tagged("post_install", "-at_install")
class TestSendPdf(CdiscountCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account.document_format = "pdf"
        # Odoo's tests render reports as HTML unless told to make a PDF. wkhtmltopdf itself
        # would fetch the report's assets over HTTP from this very test transaction, so the
        # binary is replaced by a real, small PDF; the rest of Odoo's PDF flow runs as is.
        cls.env = cls.env(context=dict(cls.env.context, force_report_rendering=True))
        cls.wkhtmltopdf = patch.object(
            cls.env.registry["ir.actions.report"],
            "_run_wkhtmltopdf",
            autospec=True,
            side_effect=lambda *args, **kwargs: samples.pdf_invoice("rendered"),
        )
        cls.render = cls.wkhtmltopdf.start()
        cls.addClassCleanup(cls.wkhtmltopdf.stop)

    def setUp(self):
        super().setUp()
        self.render.reset_mock()

    def test_pdf_is_rendered_once_then_reused(self):
        invoice = self._invoice()
        invoice.action_cdiscount_send()
        self.assertEqual(self.render.call_count, 1)
        stored = invoice.invoice_pdf_report_id
        self.assertTrue(stored)
        self._finish_imports()
        invoice.action_cdiscount_replace()
        self.assertEqual(self.render.call_count, 1, "an existing PDF must never be rendered again")
        uploads = invoice.cdiscount_upload_ids
        self.assertEqual(set(uploads.mapped("checksum")), {uploads[0].checksum})
        self.assertEqual(uploads[0].file_name, f"{invoice.cdiscount_order_ref}.pdf")
        self.assertEqual(invoice.invoice_pdf_report_id, stored)

    def test_pdfs_to_render_are_sent_in_the_background(self):
        invoices = self._invoice() | self._invoice()
        wizard = (
            self.env["account.move.cdiscount.send"]
            .with_context(active_model="account.move", active_ids=invoices.ids)
            .create({"document_format": "pdf"})
        )
        self.assertEqual(wizard.to_render_count, 2)
        self.assertTrue(wizard.in_background, "two renders never run in the user's request")
        wizard.document_format = "ubl"
        self.assertFalse(wizard.in_background)
        wizard.document_format = "pdf"
        wizard.action_send()
        self.assertEqual(set(invoices.mapped("cdiscount_state")), {"queued"})
        self.assertFalse(invoices.invoice_pdf_report_id, "nothing rendered in the request")
        self.assertFalse(self.sandbox.request_count(method="POST"))
        # A render is expected to take 2 s: with 1 s left, a run sends one PDF, and the
        # scheduler runs the job again for the next (a pickup never waits on many renders).
        sender = self.env["cdiscount.sender"].with_context(ir_cron_progress_id=False)
        sender._cron_send_queue(run_seconds=1.0)
        self.assertEqual(sorted(invoices.mapped("cdiscount_state")), ["queued", "running"])
        sender._cron_send_queue(run_seconds=1.0)
        self.assertEqual(set(invoices.mapped("cdiscount_state")), {"running"})
        self.assertEqual(len(invoices.cdiscount_import_id), 2, "one ZIP per run")
        self.assertEqual(set(invoices.cdiscount_last_upload_id.mapped("document_format")), {"pdf"})
        self.assertEqual(self.render.call_count, 2, "rendered by the background job")

    def test_existing_pdf_is_sent_as_it_is(self):
        invoice = self._invoice()
        self.env["account.move.send"]._generate_and_send_invoices(
            invoice, sending_methods={"manual"}, invoice_edi_format=False
        )
        stored = invoice.invoice_pdf_report_id.raw
        invoice.action_cdiscount_send()
        self.assertEqual(invoice.cdiscount_last_upload_id.attachment_id.raw, stored)


@tagged("post_install", "-at_install")
class TestSendAndPrint(CdiscountCommon):
    def _default_methods(self, invoice):
        return compat.default_sending_methods(self.env["account.move.send"], invoice)

    def test_cdiscount_is_the_default_method_for_cdiscount_invoices(self):
        invoice = self._invoice()
        self.assertEqual(self._default_methods(invoice), {"cdiscount"})
        other = self.init_invoice(
            "out_invoice", partner=self.buyer, products=self.product, post=True
        )
        self.assertNotIn("cdiscount", self._default_methods(other))

    def test_accepted_invoice_is_not_preselected_and_replacing_is_said(self):
        invoice = self._invoice()
        invoice.action_cdiscount_send()
        self.assertNotIn("cdiscount", self._default_methods(invoice), "processing: not again")
        self._finish_imports()
        self.assertNotIn("cdiscount", self._default_methods(invoice), "accepted: not silently")
        send = self.env["account.move.send"]
        moves_data = {
            invoice: send._get_default_sending_settings(invoice, sending_methods={"cdiscount"})
        }
        alert = send._get_alerts(invoice, moves_data)["cdiscount_replaces"]
        self.assertIn(invoice.name, alert["message"])

    def test_send_wizard_offers_cdiscount_only_on_cdiscount_invoices(self):
        other = self.init_invoice(
            "out_invoice", partner=self.buyer, products=self.product, post=True
        )
        Wizard = self.env["account.move.send.wizard"]
        checkboxes = Wizard.create({"move_id": other.id}).sending_method_checkboxes
        self.assertNotIn("cdiscount", checkboxes)
        checkboxes = Wizard.create({"move_id": self._invoice().id}).sending_method_checkboxes
        self.assertTrue(checkboxes["cdiscount"]["checked"])

    def test_chatter_says_accepted_replaced_and_refused(self):
        invoice = self._invoice()
        invoice.action_cdiscount_send()
        self._finish_imports()
        self.assertIn("Cdiscount accepted the invoice", invoice.message_ids[:1].body)
        order_notes = " ".join(invoice.cdiscount_order_id.message_ids.mapped("body"))
        self.assertIn("Invoice sent to Cdiscount", order_notes)
        self.assertNotIn("accepted", order_notes, "the order's status says it, not a note")
        invoice.action_cdiscount_replace()
        self.assertIn("replaces the invoice Cdiscount had accepted", invoice.message_ids[:1].body)
        refused = self._invoice(order=self._order(ref="CD-NOT-KNOWN-1"))
        refused.action_cdiscount_send()
        self._finish_imports()
        body = refused.message_ids[:1].body
        self.assertIn("Cdiscount refused the invoice", body)
        self.assertIn("does not know this order", body, "explained")
        self.assertIn("OrderNotFound", body, "Cdiscount's own words kept beside")
        order_body = refused.cdiscount_order_id.message_ids[:1].body
        self.assertIn("Cdiscount refused the invoice", order_body, "someone has to act")
        self.assertIn("does not know this order", refused.cdiscount_error_explanation)

    def test_one_note_per_upload_reads_sent_then_what_cdiscount_decided(self):
        invoices = self._invoice() | self._invoice()
        invoices.action_cdiscount_send()
        notes = invoices.cdiscount_last_upload_id.message_id
        self.assertEqual(len(notes), 2, "each file of the ZIP has its own note")
        self.assertEqual(sorted(notes.mapped("res_id")), sorted(invoices.ids))
        before = self.env["mail.message"].search_count(
            [("model", "=", "account.move"), ("res_id", "in", invoices.ids)]
        )
        self._finish_imports()
        after = self.env["mail.message"].search_count(
            [("model", "=", "account.move"), ("res_id", "in", invoices.ids)]
        )
        self.assertEqual(after, before, "Cdiscount's answer is added to the upload's note")
        for note in notes:
            self.assertIn("Invoice sent to Cdiscount", note.body)
            self.assertIn("Cdiscount accepted the invoice", note.body)
            self.assertEqual(note.message_type, "notification", "still a log, no e-mail")

    def test_answer_without_the_upload_note_gets_a_note_of_its_own(self):
        invoice = self._invoice()
        invoice.action_cdiscount_send()
        invoice.cdiscount_last_upload_id.message_id.sudo().unlink()
        self.assertFalse(invoice.cdiscount_last_upload_id.message_id)
        self._finish_imports()
        body = invoice.message_ids[:1].body
        self.assertIn("Cdiscount accepted the invoice", body)
        self.assertNotIn("Invoice sent to Cdiscount", body)

    def test_under_an_audit_trail_the_answer_is_a_note_of_its_own(self):
        invoice = self._invoice()
        invoice.company_id[compat.audit_trail_field(self.env)] = True
        invoice.action_cdiscount_send()
        sent = invoice.cdiscount_last_upload_id.message_id
        self._finish_imports()
        self.assertEqual(invoice.cdiscount_state, "success")
        self.assertNotIn("accepted", sent.body, "Odoo's audit trail forbids editing it")
        latest = invoice.message_ids[:1]
        self.assertNotEqual(latest, sent)
        self.assertIn("Cdiscount accepted the invoice", latest.body)

    def test_failing_note_edit_never_undoes_an_accepted_result(self):
        invoice = self._invoice()
        invoice.action_cdiscount_send()
        module = "odoo.addons.cdiscount_invoice_upload.models.cdiscount_upload"
        failing = patch(f"{module}.write_note_lines", side_effect=RuntimeError("mail is down"))
        with failing, self.assertLogs(module, "WARNING"):
            self._finish_imports()
        self.assertEqual(invoice.cdiscount_state, "success")
        self.assertNotIn("accepted", invoice.cdiscount_last_upload_id.message_id.body)

    def test_check_status_now_from_the_invoice(self):
        invoice = self._invoice()
        invoice.action_cdiscount_send()
        before = self.sandbox.request_count(method="GET")
        action = invoice.action_cdiscount_check_status()
        self.assertEqual(self.sandbox.request_count(method="GET"), before + 1)
        self.assertIn(invoice.name, action["params"]["message"])

    def test_sent_file_is_kept_with_the_history(self):
        invoice = self._invoice()
        invoice.action_cdiscount_send()
        attachment = invoice.cdiscount_last_upload_id.attachment_id
        user = new_test_user(self.env, login="cd-deleter", groups="account.group_account_invoice")
        with self.assertRaisesRegex(UserError, "upload history"):
            attachment.with_user(user).unlink()
        self.assertTrue(attachment.exists())

    def test_several_invoices_say_what_went_and_what_did_not(self):
        good = self._invoice()
        bad = self._invoice(order=self._order(ref="CD 1/2"))
        action = (good | bad).action_cdiscount_send()
        self.assertEqual(good.cdiscount_state, "running")
        self.assertEqual(action["params"]["type"], "warning")
        self.assertIn("1 invoice(s) sent", action["params"]["message"])
        self.assertIn(bad.name, action["params"]["message"])

    def test_failing_chatter_never_undoes_an_accepted_upload(self):
        invoice = self._invoice()
        Move = type(self.env["account.move"])
        failing = patch.object(Move, "_message_log_batch", side_effect=RuntimeError("mail is down"))
        logger = "odoo.addons.cdiscount_invoice_upload.models.cdiscount_upload"
        with failing, self.assertLogs(logger, "WARNING") as logs:
            invoice.action_cdiscount_send()
        self.assertIn("mail is down", str(logs.records[0].exc_info[1]))
        self.assertEqual(invoice.cdiscount_state, "running")
        self.assertTrue(invoice.cdiscount_import_id)

    def test_user_without_email_sends(self):
        user = new_test_user(
            self.env,
            login="cd-no-email",
            groups="account.group_account_invoice,sales_team.group_sale_salesman",
        )
        user.partner_id.email = False
        invoice = self._invoice()
        invoice.with_user(user).action_cdiscount_send()
        self.assertEqual(invoice.cdiscount_state, "running")
        self.assertTrue(invoice.cdiscount_import_id)

    def test_send_and_print_uploads_the_invoice(self):
        invoice = self._invoice()
        self.env["account.move.send"]._generate_and_send_invoices(
            invoice, sending_methods={"cdiscount"}
        )
        self.assertEqual(invoice.cdiscount_state, "running")
        self.assertTrue(invoice.invoice_pdf_report_id, "Send & Print still makes the PDF")
        self._finish_imports()
        self.assertEqual(invoice.cdiscount_state, "success")

    def test_send_and_print_alert_for_an_ineligible_invoice(self):
        invoice = self._invoice()
        invoice.action_cdiscount_send()
        send = self.env["account.move.send"]
        moves_data = {
            invoice: send._get_default_sending_settings(invoice, sending_methods={"cdiscount"})
        }
        alerts = send._get_alerts(invoice, moves_data)
        self.assertEqual(alerts["cdiscount_not_eligible"]["level"], "danger")
        self.assertIn(invoice.name, alerts["cdiscount_not_eligible"]["message"])

    def test_send_and_print_error_is_reported_in_the_chatter(self):
        invoice = self._invoice()
        self.sandbox.inject("status", path=UPLOAD, status=403)
        self.env["account.move.send"]._generate_and_send_invoices(
            invoice, sending_methods={"cdiscount"}, allow_raising=False
        )
        self.assertFalse(invoice.cdiscount_upload_ids)
        self.assertIn("Not sent to Cdiscount", invoice.message_ids[:1].body)

    def test_send_and_print_with_an_incomplete_account_reports_on_the_invoice(self):
        invoice = self._invoice()
        self.account.sudo().client_secret = False
        self.env["account.move.send"]._generate_and_send_invoices(
            invoice, sending_methods={"cdiscount"}, allow_raising=False
        )
        self.assertFalse(invoice.cdiscount_upload_ids)
        self.assertIn("is incomplete", invoice.message_ids[:1].body)

    def test_send_and_print_batch_becomes_one_zip_import(self):
        invoices = self._invoice() | self._invoice() | self._invoice()
        self.env["account.move.send"]._generate_and_send_invoices(
            invoices, sending_methods={"cdiscount"}
        )
        self.assertEqual(set(invoices.mapped("cdiscount_state")), {"running"})
        imp = invoices.cdiscount_import_id
        self.assertEqual((len(imp), imp.kind, imp.file_count), (1, "bulk", 3))
        self.assertEqual(self.sandbox.request_count(method="POST", path_prefix=UPLOAD), 0)

    def test_send_and_print_batch_reports_each_error_on_its_invoice(self):
        good = self._invoice()
        bad = self._invoice(order=self._order(ref="CD 1/2"))
        self.env["account.move.send"]._generate_and_send_invoices(
            good | bad, sending_methods={"cdiscount"}, allow_raising=False
        )
        self.assertEqual(good.cdiscount_state, "running")
        self.assertFalse(bad.cdiscount_upload_ids)
        self.assertIn("cannot be used as a file name", bad.message_ids[:1].body)
