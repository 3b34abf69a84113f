"""The whole flow in a real browser (headless Chromium), as an invoicing user.

Screenshots: the tours ask for them at the key screens; with CDISCOUNT_SCREENSHOTS set to a
folder (e.g. static/description) the PNGs are written there, otherwise nothing is written.
"""

import base64
import json
import logging
import os
from pathlib import Path
from unittest.mock import patch

from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests import common as odoo_tests_common

from .common import CdiscountCommon

_logger = logging.getLogger(__name__)

SCREENSHOT_SIGNAL = "cdiscount_screenshot:"
SCREENSHOTS_ENV = "CDISCOUNT_SCREENSHOTS"
ADDON_ROOT = Path(__file__).resolve().parent.parent
# Chromium only talks to this machine: every other host goes to a closed port.
OFFLINE_SWITCHES = [
    "--proxy-server=http://127.0.0.1:9",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]


def _screenshot_folder():
    folder = os.environ.get(SCREENSHOTS_ENV)
    if not folder:
        return None
    path = Path(folder)
    return path if path.is_absolute() else ADDON_ROOT / path


class _CdiscountBrowser(odoo_tests_common.ChromeBrowser):
    """Odoo's headless Chrome, kept off the internet, taking the screenshots tours ask for."""

    def _spawn_chrome(self, cmd):
        return super()._spawn_chrome(cmd[:-1] + OFFLINE_SWITCHES + cmd[-1:])

    def _handle_console(self, type, args=None, stackTrace=None, **kw):
        text = (args or [{}])[0].get("value")
        if type == "log" and isinstance(text, str) and text.startswith(SCREENSHOT_SIGNAL):
            self._cdiscount_screenshot(text[len(SCREENSHOT_SIGNAL) :])
        return super()._handle_console(type, args=args, stackTrace=stackTrace, **kw)

    def _cdiscount_screenshot(self, name):
        folder = _screenshot_folder()
        if folder is None:
            self._cdiscount_ack(name)
            return
        future = self._websocket_send(
            "Page.captureScreenshot", params={"format": "png"}, with_future=True
        )

        def save(done):
            try:
                folder.mkdir(parents=True, exist_ok=True)
                path = folder / f"{name}.png"
                path.write_bytes(base64.b64decode(done.result()["data"]))
                _logger.info("Screenshot saved: %s", path)
            finally:
                self._cdiscount_ack(name)

        future.add_done_callback(save)

    def _cdiscount_ack(self, name):
        self._websocket_send(
            "Runtime.evaluate",
            params={"expression": f"window.__cdiscountScreenshot = {json.dumps(name)}"},
        )


class CdiscountTourCommon(CdiscountCommon, HttpCase):
    browser_size = "1920x1080"  # wide enough for the chatter beside the form

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.accountant = new_test_user(
            cls.env,
            login="cdiscount_accountant",
            name="Claire Martin",
            groups="base.group_user,account.group_account_invoice",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.account.responsible_user_id = cls.accountant
        cls._dress_for_screenshots()

    @classmethod
    def _dress_for_screenshots(cls):
        """Names and currency a French shop would have (the tours' screenshots show them)."""
        eur = cls.env.ref("base.EUR")
        eur.active = True
        cls.company.write({"name": "Ma Boutique SAS", "currency_id": eur.id})
        cls.env["product.pricelist"].search([]).currency_id = eur  # the orders' currency
        cls.account.name = "Cdiscount Ma Boutique"
        cls.env.user.name = "Paul Durand"
        cls.buyers = cls.buyer | cls.env["res.partner"].create(
            [
                {
                    "name": name,
                    "city": city,
                    "zip": zip_code,
                    "country_id": cls.env.ref("base.fr").id,
                }
                for name, city, zip_code in (
                    ("Lucas Bernard", "Bordeaux", "33000"),
                    ("Léa Petit", "Lille", "59000"),
                    ("Hugo Moreau", "Nantes", "44000"),
                    ("Chloé Laurent", "Marseille", "13001"),
                )
            ]
        )

    def browser_js(self, *args, **kwargs):
        with patch.object(odoo_tests_common, "ChromeBrowser", _CdiscountBrowser):
            return super().browser_js(*args, **kwargs)

    def _buyer_invoice(self, index, ref=None, post=True):
        """An invoice of a Cdiscount order of the index-th buyer (several names read better)."""
        return self._invoice(order=self._order(ref=ref, partner=self.buyers[index]), post=post)

    def _tour(self, url, name, login="cdiscount_accountant"):
        self.start_tour(url, name, login=login)
        self.env.invalidate_all()

    @staticmethod
    def _invoice_url(invoice):
        return f"/odoo/action-account.action_move_out_invoice_type/{invoice.id}"


@tagged("post_install", "-at_install")
class TestCdiscountTour(CdiscountTourCommon):
    def test_send_one_invoice_then_sync_to_accepted(self):
        invoice = self._invoice()
        self._tour(self._invoice_url(invoice), "cdiscount_send_one_invoice")
        self.assertEqual(invoice.cdiscount_state, "running")
        self.assertEqual(invoice.cdiscount_last_upload_id.user_id, self.accountant)

        self._finish_imports()
        self.assertEqual(invoice.cdiscount_state, "success")
        self._tour(self._invoice_url(invoice), "cdiscount_invoice_accepted")

    def test_bulk_send_then_follow_the_refused_file(self):
        accepted = self._buyer_invoice(0)
        accepted.action_cdiscount_send()
        self._finish_imports()
        known = self._buyer_invoice(1) | self._buyer_invoice(2) | self._buyer_invoice(3)
        unknown = self._buyer_invoice(4, ref="CD-UNKNOWN-1")
        draft = self._buyer_invoice(1, post=False)
        no_order = self.init_invoice(
            "out_invoice", partner=self.buyers[2], products=self.product, post=True
        )
        self.assertEqual(set((known | unknown).mapped("cdiscount_state")), {"to_send"})

        self._tour("/odoo/action-account.action_move_out_invoice_type", "cdiscount_bulk_send")
        imp = known.cdiscount_import_id
        self.assertEqual((len(imp), imp.kind, imp.file_count), (1, "bulk", 4))
        self.assertEqual(unknown.cdiscount_import_id, imp)
        self.assertEqual(imp.user_id, self.accountant)
        self.assertEqual(draft.cdiscount_state, "not_applicable")
        self.assertEqual(no_order.cdiscount_state, "not_applicable")
        self.assertEqual(len(accepted.cdiscount_upload_ids), 1)

        self._finish_imports()
        self.assertEqual(imp.state, "partial")
        self.assertEqual(unknown.cdiscount_state, "failure")
        self.assertEqual(unknown.activity_ids.user_id, self.accountant)
        self._tour(
            "/odoo/action-cdiscount_invoice_upload.cdiscount_import_action",
            "cdiscount_failed_import",
        )

    def test_replacement_then_bulk_send_of_a_selection_including_it(self):
        replaced = self._buyer_invoice(0)
        replaced.action_cdiscount_send()
        self._finish_imports()
        self._tour(self._invoice_url(replaced), "cdiscount_replace_then_bulk")
        self.assertEqual(len(replaced.cdiscount_upload_ids), 2)
        self._finish_imports()
        others = self._buyer_invoice(1) | self._buyer_invoice(2)
        self._tour(
            "/odoo/action-account.action_move_out_invoice_type",
            "cdiscount_bulk_with_a_replaced_invoice",
        )
        self.assertEqual(len(replaced.cdiscount_upload_ids), 3)
        self.assertEqual(set(others.mapped("cdiscount_state")), {"running"})

    def test_print_and_send_on_an_accepted_invoice(self):
        invoice = self._buyer_invoice(0)
        invoice.action_cdiscount_send()
        self._finish_imports()
        self._tour(self._invoice_url(invoice), "cdiscount_print_send_accepted")
        self.assertEqual(len(invoice.cdiscount_upload_ids), 1, "nothing sent without a decision")

    def test_nothing_offered_on_an_invoice_of_no_cdiscount_order(self):
        other = self.init_invoice(
            "out_invoice", partner=self.buyers[1], products=self.product, post=True
        )
        self._tour(self._invoice_url(other), "cdiscount_not_offered")
        self.assertFalse(other.cdiscount_upload_ids)


@tagged("post_install", "-at_install")
class TestCdiscountConfigurationTour(CdiscountTourCommon):
    def test_account_form_and_settings(self):
        new_test_user(
            self.env,
            login="cdiscount_manager",
            name="Sophie Leroy",
            groups="base.group_user,account.group_account_manager,base.group_system",
            company_id=self.company.id,
            company_ids=[self.company.id],
        )
        self._buyer_invoice(1).action_cdiscount_send()
        self._buyer_invoice(4, ref="CD-UNKNOWN-2").action_cdiscount_send()
        self._finish_imports()
        self._tour(
            f"/odoo/action-cdiscount_invoice_upload.cdiscount_account_action/{self.account.id}",
            "cdiscount_configuration",
            login="cdiscount_manager",
        )
        self.assertIn("Connected", self.account.last_check_message)
        self._tour(
            "/odoo/action-account.action_account_config",
            "cdiscount_settings",
            login="cdiscount_manager",
        )


@tagged("post_install", "-at_install")
class TestCdiscountFrenchTour(CdiscountTourCommon):
    """The addon's French translation in the real web client."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("fr_FR")
        modules = ("base", "web", "mail", "account", "sale", "cdiscount_invoice_upload")
        cls.env["ir.module.module"].search([("name", "in", modules)])._update_translations("fr_FR")
        cls.env = cls.env(context=dict(cls.env.context, lang="fr_FR"))
        (cls.env.user | cls.accountant).lang = "fr_FR"

    def test_refused_invoice_in_french(self):
        invoice = self._buyer_invoice(0, ref="CD-UNKNOWN-3")
        invoice.with_user(self.accountant).action_cdiscount_send()
        self._finish_imports()
        self.assertEqual(invoice.cdiscount_state, "failure")
        self._tour(self._invoice_url(invoice), "cdiscount_invoice_fr")
