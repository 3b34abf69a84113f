from odoo import _, api, fields, models
from odoo.exceptions import AccessError


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    cdiscount_order_ref_source = fields.Selection(
        related="company_id.cdiscount_order_ref_source", readonly=False
    )
    cdiscount_team_id = fields.Many2one(related="company_id.cdiscount_team_id", readonly=False)
    cdiscount_account_count = fields.Integer(compute="_compute_cdiscount_account_count")

    @api.depends("company_id")
    def _compute_cdiscount_account_count(self):
        for settings in self:
            settings.cdiscount_account_count = self.env["cdiscount.account"].search_count(
                [("company_id", "=", settings.company_id.id)]
            )

    def action_cdiscount_open_accounts(self):
        if not self.env.user.has_group("cdiscount_invoice_upload.group_cdiscount_manager"):
            raise AccessError(_("Only a Cdiscount manager can configure Cdiscount accounts."))
        return self.env["ir.actions.act_window"]._for_xml_id(
            "cdiscount_invoice_upload.cdiscount_account_action"
        )
