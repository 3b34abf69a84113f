from odoo import _, api, models
from odoo.exceptions import UserError


class IrAttachment(models.Model):
    _inherit = "ir.attachment"

    @api.ondelete(at_uninstall=False)
    def _unlink_except_cdiscount_sent_file(self):
        """A file sent to Cdiscount is part of its invoice's upload history: only a settings
        administrator may delete it (with that history)."""
        if self.env.user.has_group("base.group_system"):
            return
        sent = (
            self.env["cdiscount.upload"].sudo().search([("attachment_id", "in", self.ids)], limit=1)
        )
        if sent:
            raise UserError(
                _(
                    "%(file)s was sent to Cdiscount for %(invoice)s: it is part of the "
                    "invoice's upload history and cannot be deleted.",
                    file=sent.attachment_id.name,
                    invoice=sent.move_id.display_name,
                )
            )
