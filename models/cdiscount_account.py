import logging
import re
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from octopia import wire
from octopia.client import OctopiaClient
from octopia.errors import (
    AuthenticationError,
    ConfigurationError,
    ForbiddenError,
    OctopiaError,
    RateLimitedError,
    UnavailableError,
)

from .. import compat
from .cdiscount_selections import DOCUMENT_FORMATS

_logger = logging.getLogger(__name__)

SANDBOX_API_URL = "http://127.0.0.1:8765/seller/v2"
SANDBOX_AUTH_URL = "http://127.0.0.1:8765/auth/realms/maas/protocol/openid-connect/token"
# Where the secret goes, and the secret: settings administrators only, in every path.
ADMIN_FIELDS = ("environment", "sandbox_api_url", "sandbox_auth_url", "client_secret")
MB = 1024 * 1024  # limits are shown in MB (of 1,048,576 bytes, as Octopia's 10 MB read)
# Written by the addon's own code only (under sudo).
AUDIT_FIELDS = ("last_check_date", "last_check_message")


@compat.sql_constraints(
    seller_company_uniq=(
        "unique(company_id, seller_id)",
        "This Cdiscount seller already has an account in this company.",
    )
)
class CdiscountAccount(models.Model):
    _name = "cdiscount.account"
    _description = "Cdiscount Seller Account"
    _order = "company_id, sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    seller_id = fields.Char(
        string="Seller ID",
        required=True,
        help="Your Cdiscount seller account id, sent as the SellerId header.",
    )
    client_id = fields.Char(
        string="Client ID",
        required=True,
        help="Created in the Octopia seller portal, with the right to upload invoices.",
    )
    client_secret = fields.Char(
        groups="base.group_system",
        copy=False,
        help="Only settings administrators can read or change it.",
    )
    has_client_secret = fields.Boolean(compute="_compute_has_client_secret")
    environment = fields.Selection(
        [("production", "Production"), ("sandbox", "Sandbox")],
        required=True,
        default="production",
        copy=False,
        help="Sandbox talks to the URLs below (the local Octopia sandbox by default); "
        "duplicated databases are switched to it automatically.",
    )
    # Where the secret is sent: only those who may read the secret may change it.
    sandbox_api_url = fields.Char(
        string="Sandbox API URL", default=SANDBOX_API_URL, groups="base.group_system", copy=False
    )
    sandbox_auth_url = fields.Char(
        string="Sandbox Token URL",
        default=SANDBOX_AUTH_URL,
        groups="base.group_system",
        copy=False,
    )
    document_format = fields.Selection(
        DOCUMENT_FORMATS,
        required=True,
        default="ubl",
        help="UBL is structured and checked against EN 16931 before it leaves. PDF reuses the "
        "invoice PDF already generated, or generates it once.",
    )
    upload_credit_notes = fields.Boolean(
        help="Off by default. Cdiscount keeps one invoice per order, and a new upload replaces "
        "it: a credit note uploaded for an order replaces that order's invoice on Cdiscount."
    )
    auto_send = fields.Boolean(
        string="Send Automatically",
        help="Queue the invoices of Cdiscount orders as soon as they are posted; a background "
        "job sends the queue as bulk ZIP imports.",
    )
    responsible_user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        domain="[('share', '=', False)]",
        help="Gets an activity on each invoice Cdiscount refuses. Empty: the invoice's "
        "salesperson, or else an accounting manager.",
    )
    max_file_bytes = fields.Integer(string="Max File Size (bytes)", default=wire.MAX_FILE_BYTES)
    max_request_bytes = fields.Integer(
        string="Max Request Size (bytes)", default=wire.MAX_REQUEST_BYTES
    )
    max_file_mb = fields.Float(
        string="Max File Size (MB)",
        compute="_compute_limits_mb",
        inverse="_inverse_max_file_mb",
        digits=(16, 1),
    )
    max_request_mb = fields.Float(
        string="Max Request Size (MB)",
        compute="_compute_limits_mb",
        inverse="_inverse_max_request_mb",
        digits=(16, 1),
    )
    max_files_per_zip = fields.Integer(default=wire.MAX_FILES_PER_ZIP)
    running_alert_hours = fields.Integer(
        string="Alert After (hours)",
        default=24,
        help="An import still processing after this long is flagged for the accountant.",
    )
    to_send_count = fields.Integer(compute="_compute_counters")
    running_count = fields.Integer(compute="_compute_counters")
    failed_count = fields.Integer(compute="_compute_counters")
    last_check_date = fields.Datetime(readonly=True, copy=False)
    last_check_message = fields.Char(readonly=True, copy=False)

    @api.depends("max_file_bytes", "max_request_bytes")
    def _compute_limits_mb(self):
        for account in self:
            account.max_file_mb = account.max_file_bytes / MB
            account.max_request_mb = account.max_request_bytes / MB

    def _inverse_max_file_mb(self):
        for account in self:
            account.max_file_bytes = round(account.max_file_mb * MB)

    def _inverse_max_request_mb(self):
        for account in self:
            account.max_request_bytes = round(account.max_request_mb * MB)

    @api.model
    def _cdiscount_load_versioned_data(self):
        compat.load_versioned_data(self.env)

    # --- who may change what ----------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        defaults = {
            "environment": "production",
            "sandbox_api_url": SANDBOX_API_URL,
            "sandbox_auth_url": SANDBOX_AUTH_URL,
            "client_secret": False,
        }
        for vals in vals_list:
            self._cdiscount_check_vals(vals, defaults)
        return super().create(vals_list)

    def write(self, vals):
        if "company_id" in vals and any(a.company_id.id != vals["company_id"] for a in self):
            raise AccessError(
                _(
                    "A Cdiscount account cannot move to another company: its uploads and "
                    "imports belong to this one. Create an account in the other company."
                )
            )
        for account in self:
            self._cdiscount_check_vals(vals, {f: account.sudo()[f] for f in ADMIN_FIELDS})
        return super().write(vals)

    def _cdiscount_check_vals(self, vals, allowed):
        """Audit fields are the addon's own (sudo); where the secret goes, and the secret,
        are a settings administrator's: any other value than `allowed` is refused."""
        if any(f in vals for f in AUDIT_FIELDS) and not self.env.su:
            raise AccessError(
                _("The connection check is recorded by Cdiscount Invoice Upload only.")
            )
        if self.env.su or self.env.user.has_group("base.group_system"):
            return
        if any(f in vals and (vals[f] or False) != (allowed[f] or False) for f in ADMIN_FIELDS):
            raise AccessError(
                _(
                    "Only a settings administrator may set the environment, the sandbox URLs "
                    "or the client secret of a Cdiscount account (they decide where the secret "
                    "is sent)."
                )
            )

    @api.depends_context("uid")
    def _compute_has_client_secret(self):
        # Read in SQL: a sudo() read would put the secret in the shared cache, where any
        # later read (an export, say) by this user would find it.
        self.flush_model(["client_secret"])
        self.env.cr.execute(
            "SELECT id FROM cdiscount_account WHERE id IN %s AND client_secret IS NOT NULL "
            "AND client_secret != ''",
            [tuple(self.ids) or (0,)],
        )
        with_secret = {row[0] for row in self.env.cr.fetchall()}
        for account in self:
            account.has_client_secret = account.id in with_secret

    def _compute_counters(self):
        for account in self:
            groups = self.env["account.move"]._read_group(
                account._cdiscount_invoice_domain(), ["cdiscount_state"], ["__count"]
            )
            counts = dict(groups)
            account.to_send_count = sum(counts.get(s, 0) for s in ("to_send", "queued"))
            account.running_count = sum(counts.get(s, 0) for s in ("running", "unknown"))
            account.failed_count = sum(counts.get(s, 0) for s in ("failure", "error"))

    def _cdiscount_invoice_domain(self):
        """The invoices of this account's orders (orders without an account count for the
        company's default account, the one they are sent with)."""
        self.ensure_one()
        mine = [("cdiscount_order_id.cdiscount_account_id", "=", self.id)]
        if self == self.company_id._cdiscount_default_account():
            mine = [
                "|",
                *mine,
                "&",
                ("cdiscount_order_id.cdiscount_account_id", "=", False),
                ("company_id", "=", self.company_id.id),
            ]
        return [("cdiscount_order_id", "!=", False), *mine]

    def action_open_invoices(self):
        """This account's Cdiscount invoices in the given states (counter buttons)."""
        self.env["account.move"]._cdiscount_check_sender_right()
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "cdiscount_invoice_upload.account_move_cdiscount_review_action"
        )
        states = self.env.context.get("cdiscount_states") or ["failure", "error"]
        action["domain"] = [*self._cdiscount_invoice_domain(), ("cdiscount_state", "in", states)]
        return action

    @api.constrains("max_file_bytes", "max_request_bytes", "max_files_per_zip")
    def _check_limits(self):
        for account in self:
            limits = (account.max_file_bytes, account.max_request_bytes, account.max_files_per_zip)
            if min(limits) < 1:
                raise ValidationError(
                    _(
                        "The limits of %(account)s (file size, request size, files per ZIP) "
                        "must be positive numbers.",
                        account=account.name,
                    )
                )

    @api.constrains("seller_id", "client_id")
    def _check_identifiers(self):
        for account in self:
            for label, value in (
                (_("Seller ID"), account.seller_id),
                (_("Client ID"), account.client_id),
            ):
                if value and not re.fullmatch(r"[\x21-\x7e]+", value):
                    raise ValidationError(
                        _(
                            "The %(field)s “%(value)s” of %(account)s contains spaces or special "
                            "characters: copy it again from the Octopia seller portal.",
                            field=label,
                            value=value,
                            account=account.name,
                        )
                    )

    # --- the boundary with the Octopia core ------------------------------------------
    def _cdiscount_urls(self):
        self.ensure_one()
        if self.environment == "sandbox":
            account = self.sudo()
            return account.sandbox_api_url, account.sandbox_auth_url
        return wire.DEFAULT_API_URL, wire.DEFAULT_AUTH_URL

    def _cdiscount_secret(self):
        """The client secret, read in SQL so that it never sits in the ORM cache where a
        read or export by the current user could pick it up."""
        self.flush_model(["client_secret"])
        self.env.cr.execute("SELECT client_secret FROM cdiscount_account WHERE id = %s", [self.id])
        row = self.env.cr.fetchone()
        return (row and row[0]) or ""

    def _cdiscount_client(self):
        """An OctopiaClient for this account. UserError when the settings are incomplete."""
        self.ensure_one()
        api_url, auth_url = self._cdiscount_urls()
        try:
            return OctopiaClient(
                seller_id=self.seller_id,
                client_id=self.client_id,
                client_secret=self._cdiscount_secret(),
                api_url=api_url,
                auth_url=auth_url,
            )
        except ConfigurationError:
            raise UserError(
                _(
                    "The Cdiscount account %(account)s is incomplete: enter its seller id, client "
                    "id and client secret (a settings administrator can set the secret).",
                    account=self.name,
                )
            ) from None

    def _cdiscount_describe_error(self, error, record=None):
        """Plain words for an error of the core, naming the record when there is one."""
        what = record.display_name if record else self.name
        if isinstance(error, AuthenticationError):
            reason = _(
                "Cdiscount refused the client id or secret of %(account)s: check them "
                "in the Cdiscount account.",
                account=self.name,
            )
        elif isinstance(error, ForbiddenError):
            reason = _(
                "the credentials of %(account)s may not upload invoices for seller "
                "%(seller)s: give them the invoice right in the Octopia seller portal, "
                "or check the seller id.",
                account=self.name,
                seller=self.seller_id,
            )
        elif isinstance(error, RateLimitedError):
            reason = _("Cdiscount asks to slow down; nothing was sent. Try again in a few minutes.")
        elif isinstance(error, UnavailableError):
            reason = _(
                "Cdiscount could not be reached; nothing was sent. Try again later. (%(detail)s)",
                detail=str(error),
            )
        else:
            reason = str(error)
        if error.trace_id:
            _logger.warning(
                "Octopia error for %s: HTTP %s traceId=%s", what, error.status, error.trace_id
            )
        return _("%(record)s: %(reason)s", record=what, reason=reason)

    def _cdiscount_schedule_sync(self, delay_seconds=60):
        cron = self.env.ref(
            "cdiscount_invoice_upload.ir_cron_cdiscount_sync_imports", raise_if_not_found=False
        )
        if cron:
            cron._trigger(at=fields.Datetime.now() + timedelta(seconds=delay_seconds))

    def action_test_connection(self):
        """Fetch a token and read the import list: report the result in plain words."""
        self.ensure_one()
        if not self.env.user.has_group("cdiscount_invoice_upload.group_cdiscount_manager"):
            raise AccessError(
                _(
                    "Only a Cdiscount manager can test the connection of %(account)s.",
                    account=self.name,
                )
            )
        try:
            self._cdiscount_client().check_connection()
        except OctopiaError as exc:
            message = self._cdiscount_describe_error(exc)
            self.sudo().write(
                {"last_check_date": fields.Datetime.now(), "last_check_message": message[:250]}
            )
            raise UserError(message) from None
        message = _("Connected to Cdiscount as seller %(seller)s.", seller=self.seller_id)
        self.sudo().write({"last_check_date": fields.Datetime.now(), "last_check_message": message})
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "title": _("Cdiscount"),
                "message": message,
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
