from odoo import api, models

from ..models.account_move_send import METHOD


class AccountMoveSendWizard(models.TransientModel):
    _inherit = "account.move.send.wizard"

    @api.depends("move_id")
    def _compute_sending_method_checkboxes(self):
        # EXTENDS account: "by Cdiscount" is offered only on invoices of Cdiscount orders.
        result = super()._compute_sending_method_checkboxes()
        for wizard in self.filtered(lambda w: not w.move_id.cdiscount_order_id):
            checkboxes = wizard.sending_method_checkboxes or {}
            if METHOD in checkboxes:
                wizard.sending_method_checkboxes = {
                    key: value for key, value in checkboxes.items() if key != METHOD
                }
        return result
