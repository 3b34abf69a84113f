from odoo import fields, models

from .cdiscount_selections import DOCUMENT_FORMATS


class CdiscountQueue(models.Model):
    """An invoice handed to the background sender: waiting while it has no upload.

    The queue is kept apart from account.move so that queuing and sending thousands of
    invoices never goes through the invoice's own write() (its accounting checks and line
    synchronisation cost more than the send). Entries are written by the addon only (no
    access right but read); once sent, an entry keeps its upload: who queued what, and how."""

    _name = "cdiscount.queue"
    _description = "Cdiscount Send Queue"
    _order = "id"

    move_id = fields.Many2one(
        "account.move", string="Invoice", required=True, readonly=True, ondelete="cascade"
    )
    document_format = fields.Selection(DOCUMENT_FORMATS, string="Format", readonly=True)
    replace = fields.Boolean(readonly=True)
    user_id = fields.Many2one("res.users", string="Queued By", readonly=True)
    # Cascade: an entry whose upload is deleted was sent; it never waits again by itself.
    upload_id = fields.Many2one(
        "cdiscount.upload", readonly=True, index="btree_not_null", ondelete="cascade"
    )

    def init(self):
        # The waiting entries of an invoice are looked up on every send: an index on them only.
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS cdiscount_queue_waiting_idx "
            "ON cdiscount_queue (move_id) WHERE upload_id IS NULL"
        )
