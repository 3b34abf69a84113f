from collections import defaultdict

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..models.cdiscount_selections import DOCUMENT_FORMATS

BACKGROUND_PARAM = "cdiscount_invoice_upload.background_threshold"
DEFAULT_BACKGROUND_THRESHOLD = 100


class AccountMoveCdiscountSend(models.TransientModel):
    """Send many invoices to Cdiscount as ZIP imports, saying why the others can't go."""

    _name = "account.move.cdiscount.send"
    _description = "Send Invoices to Cdiscount"

    move_ids = fields.Many2many("account.move", string="Invoices", required=True)
    document_format = fields.Selection(
        DOCUMENT_FORMATS,
        string="Format",
        required=True,
        default="ubl",
    )
    replace = fields.Boolean(
        string="Replace Accepted Invoices",
        help="Also upload invoices Cdiscount already accepted: the new file replaces them.",
    )
    eligible_count = fields.Integer(compute="_compute_eligibility")
    ineligible_count = fields.Integer(compute="_compute_eligibility")
    ineligible_summary = fields.Html(compute="_compute_eligibility", sanitize=False)
    in_background = fields.Boolean(compute="_compute_eligibility")
    to_render_count = fields.Integer(compute="_compute_eligibility")
    state = fields.Selection([("draft", "Draft"), ("done", "Done")], default="draft")
    result_summary = fields.Html(readonly=True, sanitize=False)

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        moves = self._moves_from_context()
        values["move_ids"] = [fields.Command.set(moves.ids)]
        account = moves.cdiscount_account_id[:1]
        if account:
            values["document_format"] = account.document_format
        return values

    def _moves_from_context(self):
        context = self.env.context
        ids = context.get("active_ids") or []
        if context.get("active_model") == "sale.order":
            return self.env["sale.order"].browse(ids).cdiscount_invoice_ids
        if context.get("active_model") == "account.move":
            return self.env["account.move"].browse(ids)
        return self.env["account.move"]

    @api.depends("move_ids", "replace", "document_format")
    def _compute_eligibility(self):
        threshold = int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param(BACKGROUND_PARAM, DEFAULT_BACKGROUND_THRESHOLD)
        )
        for wizard in self:
            reasons = wizard._ineligible_reasons()
            refused = sum(len(refusals) for refusals in reasons.values())
            wizard.eligible_count = len(wizard.move_ids) - refused
            wizard.ineligible_count = refused
            wizard.ineligible_summary = self._reasons_html(reasons)
            # A PDF to render costs seconds each (wkhtmltopdf): more than one goes to the
            # background job, never in the user's request.
            wizard.to_render_count = wizard._to_render_count(reasons)
            wizard.in_background = wizard.eligible_count > threshold or wizard.to_render_count > 1

    def _to_render_count(self, reasons):
        if self.document_format != "pdf":
            return 0
        refused = {move for refusals in reasons.values() for move in refusals}
        return len(
            self.move_ids.filtered(lambda m: m not in refused and not m.invoice_pdf_report_id)
        )

    def _ineligible_reasons(self):
        """{code: {invoice: Refusal}}: each reason is said once for the invoices it concerns."""
        reasons = defaultdict(dict)
        for move in self.move_ids:
            refusal = move._cdiscount_refusal(replace=self.replace)
            if refusal:
                reasons[refusal.code][move] = refusal
        return reasons

    def _reasons_html(self, reasons):
        """One line per reason code: its text, then the invoices it concerns."""
        if not reasons:
            return False
        items = Markup().join(
            Markup("<li>%s<br/><small>%s</small></li>")
            % (self._group_text(refusals), self._invoice_count_names(refusals))
            for refusals in sorted(reasons.values(), key=lambda r: -len(r))
        )
        return Markup("<ul>%s</ul>") % items

    def _group_text(self, refusals):
        """The code's own sentence; a reason without one (a document that cannot be built)
        concerns each invoice alone, so its own messages are said."""
        texts = {refusal.group_text(self.env) for refusal in refusals.values()}
        return Markup("<br/>").join(sorted(texts))

    def _invoice_count_names(self, refusals, limit=20):
        names = [move._cdiscount_label() for move in refusals]
        names = ", ".join(names[:limit]) + (", …" if len(names) > limit else "")
        return _("%(count)s invoice(s): %(names)s", count=len(refusals), names=names)

    def _eligible_moves(self):
        return self.move_ids.filtered(lambda m: not m._cdiscount_refusal(replace=self.replace))

    def action_send(self):
        """Send the eligible invoices now, or queue them for the background sender."""
        self.ensure_one()
        self.env["account.move"]._cdiscount_check_sender_right()
        moves = self._eligible_moves()
        refused = self.ineligible_summary  # before sending: the sent ones change status
        if not moves:
            raise UserError(_("None of the selected invoices can be sent to Cdiscount now."))
        if self.in_background:
            moves._cdiscount_queue(self.document_format, self.replace)
            summary = _(
                "%(count)s invoice(s) are queued and will be sent in the background. You "
                "will be notified when it is done.",
                count=len(moves),
            )
        else:
            result = self.env["cdiscount.sender"]._send_bulk(
                moves, self.document_format, self.replace
            )
            summary = self._result_html(result)
        if refused:
            summary += Markup("<p>%s</p>") % _("Not sent:") + refused
        self.write({"state": "done", "result_summary": summary})
        return self._reopen()

    def _result_html(self, result):
        uploads = result.uploads
        imports = uploads.import_id
        lines = [
            _(
                "%(count)s invoice(s) sent in %(imports)s import(s): %(names)s.",
                count=len(uploads.filtered(lambda u: u.state == "running")),
                imports=len(imports),
                names=", ".join(imports.mapped("name")),
            ),
        ]
        unknown = uploads.filtered(lambda u: u.state == "unknown")
        if unknown:
            lines.append(
                _(
                    "%(count)s invoice(s) got no answer: they will be checked by the "
                    "next status sync.",
                    count=len(unknown),
                )
            )
        errors = uploads.filtered(lambda u: u.state == "error")
        for upload in errors:
            lines.append(
                _(
                    "%(invoice)s not sent: %(reason)s",
                    invoice=upload.move_id.name,
                    reason=upload.error_message,
                )
            )
        body = Markup("<br/>").join(lines)
        skipped = self._reasons_html(result.skipped)
        return body + (Markup("<p>%s</p>") % _("Skipped:") + skipped if skipped else "")

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": _("Send to Cdiscount"),
        }

    def action_open_imports(self):
        self.env["account.move"]._cdiscount_check_sender_right()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "cdiscount_invoice_upload.cdiscount_import_action"
        )
        action["domain"] = [("upload_ids.move_id", "in", self.move_ids.ids)]
        return action
