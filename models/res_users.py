from odoo import _, api, models

ACTIVITY_TYPE = "cdiscount_invoice_upload.mail_activity_type_cdiscount"
COUNTS = ("total_count", "today_count", "overdue_count", "planned_count")


class ResUsers(models.Model):
    _inherit = "res.users"

    @api.model
    def _get_activity_groups(self):
        # EXTENDS mail: Cdiscount's activities get an entry of their own in the activity
        # menu, named for what they are, rather than being counted as "Journal Entry".
        groups = super()._get_activity_groups()
        activity_type = self.env.ref(ACTIVITY_TYPE, raise_if_not_found=False)
        moves = next((g for g in groups if g.get("model") == "account.move"), None)
        if not activity_type or not moves:
            return groups
        ours = self.env["mail.activity"].search(
            [
                ("user_id", "=", self.env.uid),
                ("res_model", "=", "account.move"),
                ("activity_type_id", "=", activity_type.id),
            ]
        )
        if not ours:
            return groups
        counts = dict.fromkeys(COUNTS, 0)
        for activity in ours:
            counts[f"{activity.state}_count"] += 1
            counts["total_count"] += activity.state in ("today", "overdue")
        cdiscount = {
            **moves,
            **counts,
            "name": _("Cdiscount invoices to check"),
            "domain": [
                *(moves.get("domain") or []),
                ("activity_ids.activity_type_id", "=", activity_type.id),
            ],
        }
        for key in COUNTS:
            moves[key] = max(moves[key] - counts[key], 0)
        if not (moves["total_count"] or moves["planned_count"]):
            groups.remove(moves)
        return [*groups, cdiscount]
