from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    cdiscount_account_ids = fields.One2many(
        "cdiscount.account", "company_id", string="Cdiscount Accounts"
    )
    cdiscount_order_ref_source = fields.Selection(
        [
            ("cdiscount_order_ref", "Cdiscount Order ID field"),
            ("client_order_ref", "Customer Reference"),
        ],
        string="Cdiscount Order ID Source",
        default="cdiscount_order_ref",
        required=True,
        help="Where the Cdiscount order id of a sale order is read. Marketplace connectors "
        "often store it in the Customer Reference.",
    )
    cdiscount_team_id = fields.Many2one(
        "crm.team",
        string="Cdiscount Sales Team",
        help="With the Customer Reference as source, only orders of this team are Cdiscount "
        "orders. Empty: every order with a customer reference.",
    )

    def _cdiscount_default_account(self):
        """The first active Cdiscount account of the company (accounts are ordered)."""
        self.ensure_one()
        return (
            self.env["cdiscount.account"]
            .sudo()
            .search([("company_id", "=", self.id)], limit=1)
            .sudo(False)
        )
