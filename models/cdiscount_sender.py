import os
import time
from dataclasses import dataclass, field
from functools import partial

from psycopg2 import errors as pg_errors

from odoo import _, api, models
from odoo.exceptions import UserError

from octopia import bundle
from octopia.errors import BundleError, OctopiaError, OutcomeUnknownError

from .. import compat
from . import send_refusal
from .send_refusal import Refusal

# One run of a Cdiscount job, in seconds. Odoo runs a job up to 10 times in one pickup
# (18.0: MAX_BATCH_PER_CRON_JOB; 19.0: MIN_RUNS_PER_JOB) and both jobs can be due in the same
# pickup: 2 x 10 x 2.5 s = 50 s, within half the 120 s a cron worker gets by default.
CRON_RUN_SECONDS = 2.5
# The share of a send run spent building documents (UBL export, PDF): the rest of the run
# records, uploads and logs what was built (the export is about 60 % of a whole send).
BUILD_SHARE = 0.6
# What a PDF that wkhtmltopdf must render first is expected to take (1.4-2.2 s here): a run
# starts one only with that much build time left, or as its first document.
RENDER_SECONDS = 2.0


@dataclass
class BuildBudget:
    """Until when a send cron run keeps building documents. Its first document is always
    built, so that every run moves the queue on; then a document is built only while the
    time it is expected to take is left."""

    deadline: float
    built: int = 0

    def allows(self, move):
        if not self.built:
            return True
        cost = RENDER_SECONDS if move._cdiscount_needs_render() else 0.0
        return time.monotonic() + cost <= self.deadline


@dataclass
class SendResult:
    """What a send did: the history lines it wrote, and the invoices it set aside, by code."""

    uploads: models.BaseModel  # cdiscount.upload
    skipped: dict = field(default_factory=dict)  # {code: {account.move: Refusal}}

    def skip(self, move, refusal):
        self.skipped.setdefault(refusal.code, {})[move] = refusal

    def skipped_moves(self, *codes):
        """The invoices set aside (for these codes only, when given)."""
        moves = self.uploads.env["account.move"]
        for code, refusals in self.skipped.items():
            if not codes or code in codes:
                moves = moves.concat(*refusals)
        return moves

    def refusals(self):
        return [refusal for refusals in self.skipped.values() for refusal in refusals.values()]


class CdiscountSender(models.AbstractModel):
    """The one place that uploads invoices to Cdiscount: one invoice with the single-order
    endpoint, or many as ZIP imports, per Cdiscount account.

    Every upload is written ahead (history line and sent file, committed and locked) before
    its request leaves, and its outcome is recorded and committed right after: an invoice
    whose answer is lost shows "Outcome unknown" and is reconciled, never sent twice."""

    _name = "cdiscount.sender"
    _description = "Cdiscount Sender"

    # --- entry points ---------------------------------------------------------------
    @api.model
    def _send_one(self, move, replace=False):
        """Check, build and upload one invoice now (single-order endpoint). Returns its
        cdiscount.upload; UserError when nothing was sent."""
        move.ensure_one()
        result = SendResult(self.env["cdiscount.upload"])
        if not self._lock(move, result):
            raise UserError(result.refusals()[0].message)
        refusal = move._cdiscount_refusal(replace=replace)
        if refusal:
            raise UserError(refusal.message)
        account = move.cdiscount_account_id
        file, error = move._cdiscount_prepare_file(account)
        if error:
            raise UserError(error)
        client = account._cdiscount_client()
        try:
            return self._upload(account, client, [(move, file)], single=True)
        except OctopiaError as exc:
            raise UserError(account._cdiscount_describe_error(exc, move)) from None

    @api.model
    def _send_bulk(self, moves, document_format=False, replace=False, budget=None):
        """Upload `moves` as ZIP imports; an error never stops the other accounts. With a
        BuildBudget, the invoices it has no time left to build are left as they were."""
        result = SendResult(self.env["cdiscount.upload"])
        free = self._lock(moves, result)
        for account, group in free.grouped("cdiscount_account_id").items():
            files = self._prepare(group, account, document_format, replace, result, budget=budget)
            self._send_files(account, files, result, replace)
        return result

    @api.model
    def _send_prepared(self, files, result, single=False):
        """Upload files already checked and built from invoices this transaction has locked
        ({account.move: InvoiceFile}: Send & Print's PDFs), replacing what Cdiscount holds:
        one invoice with the single-order endpoint (`single`), more as ZIP imports. What
        could not go is in `result.skipped`, or a "Not sent" upload."""
        if single:
            for move, file in files.items():
                self._send_single_prepared(move, file, result)
            return result
        by_account = {}
        for move, file in files.items():
            account_files = by_account.setdefault(move.cdiscount_account_id, {})
            if file.order_id in account_files:
                result.skip(move, self._same_order_refusal(move))
                continue
            account_files[file.order_id] = (move, file)
        for account, account_files in by_account.items():
            self._send_files(account, account_files, result, replace=True)
        return result

    # --- the one locking idiom ------------------------------------------------------
    @api.model
    def _lock(self, moves, result):
        """Lock the invoices no other transaction holds (FOR UPDATE SKIP LOCKED) and set the
        others aside as busy. Each upload is committed, and a commit releases every lock:
        callers lock again before each request. A row that a transaction changed since this
        one began cannot be locked either (a serialization failure): busy too."""
        if not moves:
            return moves
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    "SELECT id FROM account_move WHERE id IN %s FOR UPDATE SKIP LOCKED",
                    [tuple(moves.ids)],
                    log_exceptions=False,
                )
                free_ids = {row[0] for row in self.env.cr.fetchall()}
        except pg_errors.SerializationFailure:
            free_ids = set()
        for move in moves.filtered(lambda m: m.id not in free_ids):
            result.skip(move, self._busy_refusal(move))
        free = moves.filtered(lambda m: m.id in free_ids)
        free.invalidate_recordset()
        return free

    @api.model
    def _busy_refusal(self, move):
        return Refusal(
            send_refusal.BUSY,
            _(
                "%(invoice)s is being sent to Cdiscount by someone else right now: wait a "
                "moment and refresh the page.",
                invoice=move.name,
            ),
        )

    @api.model
    def _same_order_refusal(self, move):
        return Refusal(
            send_refusal.SAME_ORDER,
            _(
                "%(invoice)s: another invoice of order %(ref)s is in the same selection; "
                "Cdiscount keeps one invoice per order.",
                invoice=move.name,
                ref=move.cdiscount_order_ref,
            ),
        )

    # --- bulk -----------------------------------------------------------------------
    @api.model
    def _prepare(self, moves, account, document_format, replace, result, *, budget=None):
        """{order ref: (move, InvoiceFile)} for the eligible moves; the others are skipped.
        Stops where the budget (if any) allows no more."""
        with self.env["account.edi.xml.ubl_cdiscount"]._cdiscount_memo_kept():
            return self._prepare_files(
                moves, account, document_format, replace, result, budget=budget
            )

    @api.model
    def _prepare_files(self, moves, account, document_format, replace, result, *, budget):
        files = {}
        for move in moves:
            if budget is not None:
                if not budget.allows(move):
                    break
                budget.built += 1
            refusal = move._cdiscount_refusal(replace=replace)
            if not refusal and move.cdiscount_order_ref in files:
                refusal = self._same_order_refusal(move)
            if refusal:
                result.skip(move, refusal)
                continue
            file, error = move._cdiscount_prepare_file(account, document_format)
            if error:
                result.uploads |= result.uploads._cdiscount_record_error(move, account, error)
                continue
            files[move.cdiscount_order_ref] = (move, file)
        return files

    @api.model
    def _send_files(self, account, files, result, replace=False):
        """Upload prepared files {order ref: (move, InvoiceFile)} as ZIPs within the limits."""
        try:
            client = account._cdiscount_client()
        except UserError as exc:  # incomplete account: said on each invoice, nothing sent
            for move, _file in files.values():
                result.uploads |= result.uploads._cdiscount_record_error(move, account, exc.args[0])
            return
        for planned in self._plan(account, files, result):
            still_ours = self._relock(planned, files, result, replace)
            if still_ours:
                moves_files = [files[file.order_id] for file in still_ours]
                result.uploads |= self._upload(account, client, moves_files)

    @api.model
    def _relock(self, planned, files, result, replace):
        """The files of the next ZIP whose invoices are still ours and still to send: another
        process that took one of them since the last commit never makes it go twice."""
        moves = self.env["account.move"].concat(*(files[f.order_id][0] for f in planned))
        free = self._lock(moves, result)
        keep = []
        for file in planned:
            move = files[file.order_id][0]
            refusal = move in free and move._cdiscount_refusal(replace=replace)
            if refusal:
                result.skip(move, refusal)
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
            move = files.pop(exc.culprit)[0]
            result.skip(move, Refusal(send_refusal.TOO_LARGE, str(exc)))
            return self._plan(account, files, result)

    @api.model
    def _send_single_prepared(self, move, file, result):
        """One built file with the single-order endpoint; what stops it is a refusal."""
        account = move.cdiscount_account_id
        try:
            client = account._cdiscount_client()
            result.uploads |= self._upload(account, client, [(move, file)], single=True)
        except UserError as exc:  # an incomplete account: nothing was sent
            result.skip(move, Refusal(send_refusal.ACCOUNT_INCOMPLETE, exc.args[0]))
        except OctopiaError as exc:
            error = account._cdiscount_describe_error(exc, move)
            result.skip(move, Refusal(send_refusal.NOT_SENT, error))

    # --- the one method that uploads ------------------------------------------------
    @api.model
    def _upload(self, account, client, moves_files, single=False):
        """Upload checked files [(move, InvoiceFile)]: one with the single-order endpoint
        (`single`), else one ZIP import. Written ahead and committed before the request, the
        outcome recorded and committed after it. Returns the cdiscount.upload lines.

        Refused before Cdiscount took the files: `single` drops the lines and raises the
        OctopiaError (its caller tells the user); a ZIP keeps them as "Not sent" (or, from
        the queue, leaves passing refusals queued)."""
        uploads = self.env["cdiscount.upload"]._cdiscount_record_pending(account, moves_files)
        self._commit()
        uploads._cdiscount_hold()
        try:
            report = self._post(client, moves_files, single)
        except OutcomeUnknownError as exc:
            self._record(partial(uploads._cdiscount_lost, str(exc)))
        except OctopiaError as exc:
            if single:
                self._record(uploads._cdiscount_discard)
                raise
            self._record(partial(self._not_sent, uploads, account, exc))
        else:
            kind = "single" if single else "bulk"
            self._record(partial(self._accepted, account, report, uploads, kind))
        return uploads.exists()

    @api.model
    def _post(self, client, moves_files, single):
        if single:
            ((_move, file),) = moves_files
            return client.upload_order_invoice(file.order_id, file)
        path = bundle.write_zip([file for _move, file in moves_files])
        try:
            return client.upload_bulk([path])
        finally:
            os.unlink(path)

    @api.model
    def _accepted(self, account, report, uploads, kind):
        imp = self.env["cdiscount.import"]._cdiscount_create_from_report(account, report, kind)
        uploads._cdiscount_accepted(imp)
        account._cdiscount_schedule_sync()

    @api.model
    def _not_sent(self, uploads, account, error):
        """Refused before Cdiscount took the files. From the queue, a passing refusal (rate
        limit, unavailable) leaves the invoices queued for the next run; else "Not sent"."""
        if error.retryable and self.env.context.get("cdiscount_from_queue"):
            uploads._cdiscount_discard(requeue=True)
            return
        uploads._cdiscount_not_sent(account._cdiscount_describe_error(error))

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
                if not self._can_commit() or attempt == 2:
                    raise
                self.env.cr.rollback()
                self.env.invalidate_all()

    @api.model
    def _can_commit(self):
        return self.env["account.move"]._can_commit()

    @api.model
    def _commit(self):
        """An accepted upload must never be forgotten, whatever fails after it."""
        if self._can_commit():
            self.env.cr.commit()  # pylint: disable=invalid-commit

    # --- the background queue ------------------------------------------------------
    @api.model
    def _cron_send_queue(self, batch_size=500, run_seconds=CRON_RUN_SECONDS):
        """Send queued invoices as bulk ZIP imports for about `run_seconds`, then report
        progress: the scheduler runs the job again at once while invoices remain. A run builds
        the documents of up to `batch_size` queued invoices while its build time lasts
        (BuildBudget), then uploads them: one ZIP per account and format."""
        Move = self.env["account.move"]
        budget = BuildBudget(time.monotonic() + run_seconds * BUILD_SHARE)
        done, seen, busy = 0, Move, Move
        while not budget.built or time.monotonic() < budget.deadline:
            # Never the same invoice twice in a run: one Cdiscount refused for a passing
            # reason (rate limit) is queued again, for the next run.
            candidates = Move.search(
                [("cdiscount_queued", "=", True), ("id", "not in", seen.ids)],
                order="id",
                limit=batch_size,
            )
            if not candidates:
                break
            seen |= candidates
            sent, held = self._send_queued(candidates, budget)
            done, busy = done + sent, busy | held
        # What another process holds is its to send: counting it would re-run this job at once.
        remaining = Move.search_count([("cdiscount_queued", "=", True)]) - len(busy)
        compat.cron_progress(self.env, done=done, remaining=max(remaining, 0))

    @api.model
    def _send_queued(self, moves, budget=None):
        """Send queued invoices (as many as the budget allows); returns how many were dealt
        with (sent, or taken out of the queue), and those another process holds (they stay
        queued)."""
        moves = moves.with_context(cdiscount_from_queue=True)
        done, busy = 0, self.env["account.move"]
        groups = moves.grouped(lambda m: (m.cdiscount_queue_format, m.cdiscount_queue_replace))
        for (document_format, replace), group in groups.items():
            if budget is not None and budget.built and time.monotonic() > budget.deadline:
                break
            users = group.cdiscount_queue_user_id
            result = self._send_bulk(group, document_format, replace, budget)
            held = result.skipped_moves(send_refusal.BUSY)
            refused = result.skipped_moves() - held
            refused._cdiscount_unqueue()
            done += len(result.uploads.move_id | refused)
            busy |= held
            self._notify_users(users, result)
            self._commit()
        return done, busy

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
        uploads = result.uploads
        sent = len(uploads.filtered(lambda u: u.state in ("running", "unknown")))
        failed = len(uploads.filtered(lambda u: u.state == "error"))
        return _(
            "Cdiscount: %(sent)s invoice(s) sent, %(failed)s not sent, %(skipped)s skipped.",
            sent=sent,
            failed=failed,
            skipped=len(result.skipped_moves()),
        )
