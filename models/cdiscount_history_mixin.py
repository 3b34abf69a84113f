from odoo import api, models
from odoo.exceptions import AccessError


class CdiscountHistoryMixin(models.AbstractModel):
    """A record of what happened with Cdiscount: written by the addon's own code only (under
    sudo, after its own rights check), deleted by settings administrators only."""

    _name = "cdiscount.history.mixin"
    _description = "Cdiscount History"

    _cdiscount_write_refusal = None  # an _lt message of the model
    _cdiscount_delete_refusal = None

    @api.model_create_multi
    def create(self, vals_list):
        self._cdiscount_check_own_write()
        return super().create(vals_list)

    def write(self, vals):
        self._cdiscount_check_own_write()
        return super().write(vals)

    def _cdiscount_check_own_write(self):
        if not self.env.su:
            raise AccessError(self.env._(self._cdiscount_write_refusal))

    @api.ondelete(at_uninstall=False)
    def _unlink_except_history(self):
        if not (self.env.su or self.env.user.has_group("base.group_system")):
            raise AccessError(self.env._(self._cdiscount_delete_refusal))
