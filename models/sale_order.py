from odoo import _, api, fields, models
from odoo.exceptions import AccessError, ValidationError


class SaleOrder(models.Model):
    _inherit = "sale.order"

    cdiscount_order_ref = fields.Char(
        string="Cdiscount Order ID",
        compute="_compute_cdiscount_order_ref",
        store=True,
        readonly=False,
        index="btree_not_null",
        copy=False,
        tracking=True,
        help="The order id on Cdiscount. The invoice is uploaded under this id, and in bulk "
        "imports the file is named after it.",
    )
    cdiscount_account_id = fields.Many2one(
        "cdiscount.account",
        compute="_compute_cdiscount_account_id",
        store=True,
        readonly=False,
        check_company=True,
        help="The Cdiscount seller account the order belongs to.",
    )
    cdiscount_state = fields.Selection(
        selection=lambda self: self.env["account.move"]._fields["cdiscount_state"].selection,
        string="Cdiscount Invoice",
        compute="_compute_cdiscount_state",
        store=True,
        help="Where the invoice of this order stands on Cdiscount.",
    )
    cdiscount_move_ids = fields.One2many(
        "account.move",
        "cdiscount_order_id",
        string="Cdiscount Documents",
        readonly=True,
        help="The invoices and credit notes of this order alone (the ones sent for it).",
    )
    cdiscount_invoice_ids = fields.Many2many(
        "account.move",
        string="Cdiscount Invoices",
        compute="_compute_cdiscount_invoice_ids",
    )
    cdiscount_upload_count = fields.Integer(compute="_compute_cdiscount_upload_count")

    @api.depends("client_order_ref", "team_id", "company_id.cdiscount_order_ref_source")
    def _compute_cdiscount_order_ref(self):
        for order in self:
            company = order.company_id
            if company.cdiscount_order_ref_source != "client_order_ref":
                continue
            team = company.cdiscount_team_id
            if order.client_order_ref and (not team or order.team_id == team):
                order.cdiscount_order_ref = order.client_order_ref.strip()

    @api.depends("cdiscount_order_ref", "company_id")
    def _compute_cdiscount_account_id(self):
        for order in self:
            if order.cdiscount_order_ref and not order.cdiscount_account_id:
                order.cdiscount_account_id = order.company_id._cdiscount_default_account()

    @api.depends(
        "cdiscount_move_ids.cdiscount_state", "invoice_ids.cdiscount_state", "cdiscount_order_ref"
    )
    def _compute_cdiscount_state(self):
        """The most pressing state of the order's own invoices (an invoice of several orders
        counts only for an order without one of its own). Sale's invoice_ids is computed from
        every order line: read only when needed, it is most of what a status sync flushes."""
        order_of_state = ["failure", "error", "unknown", "running", "queued", "to_send", "success"]
        for order in self:
            states = {
                m.cdiscount_state
                for m in order.cdiscount_move_ids or order.invoice_ids
                if m.cdiscount_state != "not_applicable"
            }
            if not order.cdiscount_order_ref:
                order.cdiscount_state = False
            elif states:
                order.cdiscount_state = next(s for s in order_of_state if s in states)
            else:
                order.cdiscount_state = "to_send" if order.invoice_ids else False

    @api.depends("invoice_ids.cdiscount_order_id")
    def _compute_cdiscount_invoice_ids(self):
        for order in self:
            order.cdiscount_invoice_ids = order.invoice_ids.filtered(
                lambda m, order=order: m.cdiscount_order_id == order
            )

    def _compute_cdiscount_upload_count(self):
        groups = self.env["cdiscount.upload"]._read_group(
            [("order_id", "in", self.ids)], ["order_id"], ["__count"]
        )
        counts = {order.id: count for order, count in groups}
        for order in self:
            order.cdiscount_upload_count = counts.get(order.id, 0)

    @api.constrains("cdiscount_order_ref", "state", "company_id")
    def _check_cdiscount_order_ref(self):
        for order in self.filtered(lambda o: o.cdiscount_order_ref and o.state != "cancel"):
            twin = self.search(
                [
                    ("id", "!=", order.id),
                    ("company_id", "=", order.company_id.id),
                    ("cdiscount_order_ref", "=", order.cdiscount_order_ref),
                    ("state", "!=", "cancel"),
                ],
                limit=1,
            )
            if twin:
                raise ValidationError(
                    _(
                        "The Cdiscount order id %(ref)s is already used by %(other)s. Each "
                        "Cdiscount order must be entered once per company.",
                        ref=order.cdiscount_order_ref,
                        other=twin.name,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._cdiscount_check_protected(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._cdiscount_check_protected(vals)
        return super().write(vals)

    def _cdiscount_check_protected(self, vals):
        if {"cdiscount_state", "cdiscount_move_ids"}.intersection(vals) and not self.env.su:
            raise AccessError(
                _("The Cdiscount status of an order is written by Cdiscount Invoice Upload only.")
            )

    def action_cdiscount_send_invoices(self):
        """Send the posted invoices of these orders to Cdiscount."""
        self.env["account.move"]._cdiscount_check_sender_right()
        moves = self.cdiscount_invoice_ids.filtered(lambda m: m.state == "posted")
        return moves.action_cdiscount_send()

    def action_cdiscount_view_uploads(self):
        self.env["account.move"]._cdiscount_check_sender_right()
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "cdiscount_invoice_upload.cdiscount_upload_action"
        )
        action["domain"] = [("order_id", "=", self.id)]
        action["context"] = {"create": False}
        return action
