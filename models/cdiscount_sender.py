import logging
import os
from collections import defaultdict

from odoo import _, api, models, modules

from ..octopia import bundle
from ..octopia.errors import BundleError, OctopiaError, OutcomeUnknownError

_logger = logging.getLogger(__name__)


class CdiscountSender(models.AbstractModel):
    """Sends many invoices at once: one ZIP import per bundle, per Cdiscount account."""

    _name = "cdiscount.sender"
    _description = "Cdiscount Bulk Sender"

    @api.model
    def _send_bulk(self, moves, document_format=False, replace=False):
        """Upload `moves` as ZIP imports. Returns {"uploads": cdiscount.upload,
        "skipped": {reason: account.move}}; an error never stops the other accounts."""
        result = {"uploads": self.env["cdiscount.upload"], "skipped": defaultdict(list)}
        free = self._lock(moves, result)
        for account, group in free.grouped("cdiscount_account_id").items():
            files = self._prepare(group, account, document_format, replace, result)
            result["uploads"] |= self._send_files(account, files, result)
        result["skipped"] = {
            reason: self.env["account.move"].browse(ids)
            for reason, ids in result["skipped"].items()
        }
        return result

    @api.model
    def _lock(self, moves, result):
        """Skip what another transaction is sending right now (FOR UPDATE SKIP LOCKED)."""
        if not moves:
            return moves
        self.env.cr.execute(
            "SELECT id FROM account_move WHERE id IN %s FOR UPDATE SKIP LOCKED",
            [tuple(moves.ids)],
        )
        free_ids = {row[0] for row in self.env.cr.fetchall()}
        for move in moves.filtered(lambda m: m.id not in free_ids):
            result["skipped"][self._busy_reason()].append(move.id)
        return moves.filtered(lambda m: m.id in free_ids)

    @api.model
    def _busy_reason(self):
        return _("Being sent by another process right now")

    @api.model
    def _prepare(self, moves, account, document_format, replace, result):
        """{order ref: (move, InvoiceFile)} for the eligible moves; the others are skipped."""
        files = {}
        for move in moves:
            error = move._cdiscount_get_eligibility_error(replace=replace)
            if not error and move.cdiscount_order_ref in files:
                error = _(
                    "%(invoice)s: another invoice of order %(ref)s is in the same selection; "
                    "Cdiscount keeps one invoice per order.",
                    invoice=move.name,
                    ref=move.cdiscount_order_ref,
                )
            if error:
                result["skipped"][error].append(move.id)
                continue
            file, error = move._cdiscount_prepare_file(account, document_format)
            if error:
                result["uploads"] |= self.env["cdiscount.upload"]._cdiscount_record_error(
                    move, account, error
                )
                continue
            files[move.cdiscount_order_ref] = (move, file)
        return files

    @api.model
    def _send_files(self, account, files, result):
        """Upload prepared files {order ref: (move, InvoiceFile)} as ZIPs within the limits."""
        uploads = self.env["cdiscount.upload"]
        for planned in self._plan(account, files, result):
            uploads |= self._upload_zip(account, planned, files)
        return uploads

    @api.model
    def _plan(self, account, files, result):
        try:
            return bundle.plan_bundles(
                [file for _move, file in files.values()],
                max_files=account.max_files_per_zip,
                max_bytes=account.max_request_bytes,
            )
        except BundleError as exc:  # one file alone over the request limit
            move = files[exc.culprit][0]
            result["skipped"][str(exc)].append(move.id)
            del files[exc.culprit]
            return self._plan(account, files, result)

    @api.model
    def _upload_zip(self, account, planned, files):
        """One ZIP import; its outcome is recorded (and committed) on every invoice in it."""
        Upload = self.env["cdiscount.upload"]
        moves_files = [files[file.order_id] for file in planned]
        path = bundle.write_zip(planned)
        try:
            report = account._cdiscount_client().upload_bulk([path])
        except OutcomeUnknownError as exc:
            uploads = Upload._cdiscount_record_many(account, moves_files, "unknown", error=str(exc))
        except OctopiaError as exc:
            message = account._cdiscount_describe_error(exc)
            uploads = Upload.browse()
            for move, _file in moves_files:
                uploads |= Upload._cdiscount_record_error(move, account, message)
        else:
            imp = self.env["cdiscount.import"]._cdiscount_create_from_report(
                account, report, kind="bulk"
            )
            uploads = Upload._cdiscount_record_many(account, moves_files, "running", imp)
            account._cdiscount_schedule_sync()
        finally:
            os.unlink(path)
        self._commit()
        return uploads

    @api.model
    def _commit(self):
        """An accepted import must never be forgotten, whatever fails after it."""
        if not modules.module.current_test:
            self.env.cr.commit()  # pylint: disable=invalid-commit

    # --- the background queue ------------------------------------------------------
    @api.model
    def _cron_send_queue(self, batch_size=500):
        """Send queued invoices as bulk ZIP imports, one batch per run."""
        moves = self.env["account.move"].search(
            [("cdiscount_queued", "=", True)], order="id", limit=batch_size
        )
        self._send_queued(moves)
        remaining = self.env["account.move"].search_count([("cdiscount_queued", "=", True)])
        self.env["ir.cron"]._notify_progress(done=len(moves), remaining=remaining)

    @api.model
    def _send_queued(self, moves):
        moves = moves.with_context(cdiscount_from_queue=True)
        groups = moves.grouped(lambda m: (m.cdiscount_queue_format, m.cdiscount_queue_replace))
        for (document_format, replace), group in groups.items():
            users = group.cdiscount_queue_user_id
            result = self._send_bulk(group, document_format, replace)
            for reason, skipped in result["skipped"].items():
                if reason != self._busy_reason():  # what another process holds stays queued
                    skipped.write({"cdiscount_queued": False})
            self._notify_users(users, result)
            self._commit()

    @api.model
    def _notify_users(self, users, result):
        if self.env["account.move"].search_count([("cdiscount_queued", "=", True)]):
            return
        message = self._summary_text(result)
        for user in users:
            user._bus_send(
                "simple_notification",
                {"type": "info", "title": _("Cdiscount"), "message": message, "sticky": True},
            )

    @api.model
    def _summary_text(self, result):
        uploads = result["uploads"]
        sent = len(uploads.filtered(lambda u: u.state in ("running", "unknown")))
        failed = len(uploads.filtered(lambda u: u.state == "error"))
        skipped = sum(len(m) for m in result["skipped"].values())
        return _(
            "Cdiscount: %(sent)s invoice(s) sent, %(failed)s not sent, %(skipped)s skipped.",
            sent=sent,
            failed=failed,
            skipped=skipped,
        )
