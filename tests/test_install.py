from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestInstall(TransactionCase):
    def test_core_is_importable_from_the_addon(self):
        from octopia import wire

        self.assertEqual(wire.PATH_IMPORTS, "/order-invoice-imports")
        module = self.env["ir.module.module"].search([("name", "=", "cdiscount_invoice_upload")])
        self.assertEqual(module.state, "installed")

    def test_core_is_loaded_once_under_one_name(self):
        """`octopia` is the only name of the core in this process: one token cache, one set of
        error classes (an error raised by the core is caught by the addon's except clauses)."""
        import sys

        from octopia import errors

        from ..models import cdiscount_sender

        self.assertIs(cdiscount_sender.OctopiaError, errors.OctopiaError)
        addon_core = f"{__package__.rsplit('.', 1)[0]}.octopia"
        twins = [n for n in sys.modules if n == addon_core or n.startswith(f"{addon_core}.")]
        self.assertEqual(twins, [], "the core must not also load as a sub-package of the addon")
        dev_only = [
            name
            for name in sys.modules
            if name.split(".")[0] in ("bench", "tools", "tests_core")
            or name.startswith("octopia.tests")
        ]
        self.assertEqual(dev_only, [], "Odoo loads no developer-only code")
