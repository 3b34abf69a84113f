from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestInstall(TransactionCase):
    def test_core_is_importable_from_the_addon(self):
        from odoo.addons.cdiscount_invoice_upload.octopia import wire

        self.assertEqual(wire.PATH_IMPORTS, "/order-invoice-imports")
        module = self.env["ir.module.module"].search([("name", "=", "cdiscount_invoice_upload")])
        self.assertEqual(module.state, "installed")
