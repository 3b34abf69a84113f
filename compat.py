"""What differs between the Odoo versions this addon supports (18.0, 19.0; 20.0 expected as 19.0).

Everything version-specific is here, found by feature (a version number can read 'saas~x'),
plus, where each version calls only its own hook, methods side by side that say so:
- Send & Print: `_get_default_sending_method` (18) / `_get_default_sending_methods` (19),
  in models/account_move_send.py;
- UBL builder: value dicts (18) / nodes (19), in models/account_edi_xml_ubl_cdiscount.py;
- the audit trail that forbids editing an invoice's notes: `audit_trail_field`;
- XML that cannot branch (groups' category or privilege, action groups):
  security/cdiscount_groups_18.xml / security/cdiscount_groups_19.xml, loaded by
  `load_versioned_data` from data/cdiscount_versioned_data.xml on every install and update.
"""

from odoo import models
from odoo.tools import convert

from odoo.addons.account.models.account_move_send import AccountMoveSend

MODULE = "cdiscount_invoice_upload"
HAS_CONSTRAINT = hasattr(models, "Constraint")  # 19.0: models.Constraint, no _sql_constraints
# 19.0: Send & Print pre-selects a set of methods (_get_default_sending_methods)
SEND_HAS_METHOD_SETS = hasattr(AccountMoveSend, "_get_default_sending_methods")


def sql_constraints(**constraints):
    """Class decorator: `name=(definition, message)` as 18's `_sql_constraints` or as 19's
    `models.Constraint` attributes; the database name is `{table}_{name}` on both."""

    def decorate(cls):
        if not HAS_CONSTRAINT:
            cls._sql_constraints = [(name, *spec) for name, spec in constraints.items()]
            return cls
        for name, (definition, message) in constraints.items():
            constraint = models.Constraint(definition, message)
            constraint.__set_name__(cls, f"_{name}")
            setattr(cls, f"_{name}", constraint)
        return cls

    return decorate


def group_users(group):
    """The users of a group, implied memberships included."""
    return group.all_user_ids if "all_user_ids" in group._fields else group.users


def user_groups_field(env):
    """The name of res.users' groups field: `group_ids` (19) or `groups_id` (18)."""
    return "group_ids" if "group_ids" in env["res.users"]._fields else "groups_id"


def has_group_privileges(env):
    return "res.groups.privilege" in env


def cron_progress(env, done, remaining):
    """Tell the scheduler how far a cron job got, so it re-runs at once while work remains.

    19.0's `_commit_progress` commits (our crons commit after each batch anyway) and adds
    `done` to the run's count; outside a scheduled run it would only commit, so it is not
    called there."""
    cron = env["ir.cron"]
    if not hasattr(cron, "_commit_progress"):
        cron._notify_progress(done=done, remaining=remaining)
    elif env.context.get("ir_cron_progress_id"):
        cron._commit_progress(done, remaining=remaining)


def default_sending_methods(send, move):
    """The sending methods Send & Print pre-selects for `move`, as a set on every version."""
    if SEND_HAS_METHOD_SETS:
        return send._get_default_sending_methods(move)
    return {send._get_default_sending_method(move)}


def audit_trail_field(env):
    """The company setting under which Odoo refuses any edit of a posted invoice's logged notes
    (19.0: restrictive_audit_trail; 18.0: check_account_audit_trail), or None when this Odoo
    has neither."""
    fields = env["res.company"]._fields
    return next(
        (n for n in ("restrictive_audit_trail", "check_account_audit_trail") if n in fields), None
    )


def notes_editable(moves):
    """The invoices whose logged notes Odoo lets a note be completed: those of companies
    without an audit trail (none when this Odoo's setting is unknown)."""
    field = audit_trail_field(moves.env)
    if field is None:
        return moves.browse()
    return moves.filtered(lambda move: not move.company_id[field])


def load_versioned_data(env):
    """Load the XML that must differ per version (see the module docstring)."""
    suffix = "19" if has_group_privileges(env) else "18"
    convert.convert_file(
        env, MODULE, f"security/cdiscount_groups_{suffix}.xml", {}, "update", False
    )
