from odoo import fields, models

from .cdiscount_selections import DOCUMENT_FORMATS


class CdiscountQueue(models.Model):
    """An invoice handed to the background sender: waiting while no upload points to it.

    The queue is kept apart from account.move so that queuing and sending thousands of
    invoices never goes through the invoice's own write() (its accounting checks and line
    synchronisation cost more than the send). Entries are written by the addon only (no
    access right but read); once sent, an entry keeps its uploads: who queued what, and how. An
    upload discarded (Cdiscount refused the request for a passing reason) frees its entry:
    the invoice waits again, as it was queued."""

    _name = "cdiscount.queue"
    _description = "Cdiscount Send Queue"
    _order = "id"

    move_id = fields.Many2one(
        "account.move",
        string="Invoice",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
    )
    document_format = fields.Selection(DOCUMENT_FORMATS, string="Format", readonly=True)
    replace = fields.Boolean(readonly=True)
    user_id = fields.Many2one("res.users", string="Queued By", readonly=True)
    upload_ids = fields.One2many("cdiscount.upload", "queue_id", readonly=True)
