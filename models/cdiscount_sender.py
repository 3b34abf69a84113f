import logging
import os
from collections import defaultdict
from functools import partial

from psycopg2 import errors as pg_errors

from odoo import _, api, models, modules
from odoo.exceptions import UserError

from .. import compat
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
            result["uploads"] |= self._send_files(account, files, result, replace)
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
            log_exceptions=False,
        )
        free_ids = {row[0] for row in self.env.cr.fetchall()}
        busy = set(result["skipped"].get(self._busy_reason(), ()))
        for move in moves.filtered(lambda m: m.id not in free_ids and m.id not in busy):
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
    def _send_files(self, account, files, result, replace=False):
        """Upload prepared files {order ref: (move, InvoiceFile)} as ZIPs within the limits."""
        uploads = self.env["cdiscount.upload"]
        try:
            client = account._cdiscount_client()
        except UserError as exc:  # incomplete account: said on each invoice, nothing sent
            for move, _file in files.values():
                uploads |= uploads._cdiscount_record_error(move, account, exc.args[0])
            return uploads
        for planned in self._plan(account, files, result):
            still_ours = self._relock(planned, files, result, replace)
            if still_ours:
                uploads |= self._upload_zip(account, client, still_ours, files)
        return uploads

    @api.model
    def _relock(self, planned, files, result, replace):
        """The files of the next ZIP whose invoices are still ours and still to send.

        Each accepted ZIP is committed, and a commit releases every lock: lock the invoices
        of each ZIP again, and check them again, so another process that took one of them
        meanwhile never makes it go twice."""
        moves = self.env["account.move"].concat(*(files[f.order_id][0] for f in planned))
        try:
            with self.env.cr.savepoint(flush=False):
                free = self._lock(moves, result)
        except pg_errors.SerializationFailure:  # changed by a transaction that just committed
            for move in moves:
                result["skipped"][self._busy_reason()].append(move.id)
            return []
        free.invalidate_recordset()
        keep = []
        for file in planned:
            move = files[file.order_id][0]
            error = move in free and move._cdiscount_get_eligibility_error(replace=replace)
            if error:
                result["skipped"][error].append(move.id)
            elif move in free:
                keep.append(file)
        return keep

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
    def _upload_zip(self, account, client, planned, files):
        """One ZIP import; its outcome is recorded (and committed) on every invoice in it."""
        moves_files = [files[file.order_id] for file in planned]
        uploads = self.env["cdiscount.upload"]._cdiscount_record_pending(account, moves_files)
        self._commit()
        uploads._cdiscount_hold()
        path = bundle.write_zip(planned)
        try:
            report = client.upload_bulk([path])
        except OutcomeUnknownError as exc:
            self._record(partial(uploads._cdiscount_lost, str(exc)))
        except OctopiaError as exc:
            self._record(partial(self._not_sent, uploads, account, exc))
        else:
            self._record(partial(self._accepted, account, report, uploads))
        finally:
            os.unlink(path)
        return uploads.exists()

    @api.model
    def _accepted(self, account, report, uploads):
        imp = self.env["cdiscount.import"]._cdiscount_create_from_report(
            account, report, kind="bulk"
        )
        uploads._cdiscount_accepted(imp)
        account._cdiscount_schedule_sync()

    @api.model
    def _record(self, write):
        """Record an upload's outcome and commit it. A concurrent transaction that touched
        the same invoices makes PostgreSQL refuse the commit: the outcome is written again
        in a fresh transaction (the pending lines are already committed), never sent again."""
        for attempt in range(3):
            try:
                write()
                self._commit()
                return
            except pg_errors.SerializationFailure:
                if modules.module.current_test or attempt == 2:
                    raise
                self.env.cr.rollback()
                self.env.invalidate_all()

    @api.model
    def _not_sent(self, uploads, account, error):
        """Refused before Cdiscount took the files. From the queue, a passing refusal (rate
        limit, unavailable) leaves the invoices queued for the next run; else "Not sent"."""
        if error.retryable and self.env.context.get("cdiscount_from_queue"):
            moves = uploads.move_id
            uploads._cdiscount_discard()
            moves.sudo().cdiscount_queued = True
            return
        uploads._cdiscount_not_sent(account._cdiscount_describe_error(error))

    @api.model
    def _commit(self):
        """An accepted import must never be forgotten, whatever fails after it."""
        if not modules.module.current_test:
            self.env.cr.commit()  # pylint: disable=invalid-commit

    # --- the background queue ------------------------------------------------------
    @api.model
    def _cron_send_queue(self, batch_size=200):
        """Send queued invoices as bulk ZIP imports, one batch per run."""
        moves = self.env["account.move"].search(
            [("cdiscount_queued", "=", True)], order="id", limit=batch_size
        )
        busy = self._send_queued(moves)
        # What another process holds is its to send: counting it would re-run this job at once.
        remaining = self.env["account.move"].search_count([("cdiscount_queued", "=", True)])
        compat.cron_progress(
            self.env, done=len(moves) - len(busy), remaining=max(remaining - len(busy), 0)
        )

    @api.model
    def _send_queued(self, moves):
        """Send queued invoices; returns those another process holds (they stay queued)."""
        moves = moves.with_context(cdiscount_from_queue=True)
        busy = self.env["account.move"]
        groups = moves.grouped(lambda m: (m.cdiscount_queue_format, m.cdiscount_queue_replace))
        for (document_format, replace), group in groups.items():
            users = group.cdiscount_queue_user_id
            result = self._send_bulk(group, document_format, replace)
            for reason, skipped in result["skipped"].items():
                if reason == self._busy_reason():
                    busy |= skipped
                else:
                    skipped.sudo().write({"cdiscount_queued": False})
            self._notify_users(users, result)
            self._commit()
        return busy

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
