"""The Odoo side of `bench/bench_odoo.py`: one phase per run, inside `odoo shell`.

Not meant to be run by hand. bench_odoo.py starts `odoo shell -d DB ...` with a two-line stdin
script that sets sys.argv to [this file, phase, JSON arguments] and runs this file with the
shell's `env`; the phase prints one line `BENCH-JSON {...}` with its measures. Each phase
commits what it creates (the shell itself rolls back at the end).
"""

import inspect
import json
import random
import resource
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import odoo
from odoo import Command

from octopia import auth, bundle, client, samples, wire

env = globals()["env"]  # injected by the odoo shell bootstrap


MODULE = "cdiscount_invoice_upload"
CREDIT_NOTE_EVERY = 12  # one order in 12 is invoiced, then credited: the credit note is sent
PRODUCTS = 24
BUYERS = 200


def emit(data):
    print("BENCH-JSON " + json.dumps(data), flush=True)


def sql_count():
    return odoo.sql_db.sql_counter


def peak_rss_mib():
    """This process's peak resident set (VmHWM), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mib():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def order_ref(tag, index):
    return f"CD-{tag}-{index:06d}"


def commit():
    env.cr.commit()
    env.invalidate_all()


# --- setup ---------------------------------------------------------------------------
def phase_setup(args):
    """A French company on the generic chart, FR taxes, products, buyers, a sandbox account."""
    company = env.company
    if not company.chart_template:
        env["account.chart.template"].try_loading(
            "generic_coa", company=company, install_demo=False
        )
    fr, eur = env.ref("base.fr"), env.ref("base.EUR")
    eur.active = True
    company.write(
        {
            "name": "Boutique Bench SAS",
            "currency_id": eur.id,
            "country_id": fr.id,
            "account_fiscal_country_id": fr.id,
            "vat": "FR23334175221",
            "company_registry": "334175221",
            "street": "1 place du Marché",
            "zip": "75001",
            "city": "Paris",
            "email": "shop@example.com",
            "phone": "+33 1 23 45 67 89",
        }
    )
    taxes = [_sale_tax(company, fr, rate) for rate in (20.0, 10.0, 5.5)]
    rng = random.Random(6)
    products = env["product.product"].create(
        [
            {
                "name": f"Article {n:02d}",
                "lst_price": round(rng.uniform(3, 250), 2),
                "taxes_id": [Command.set(taxes[n % 3].ids)],
                "invoice_policy": "order",
                "type": "consu",
            }
            for n in range(PRODUCTS)
        ]
    )
    streets = ("rue des Lilas", "avenue Jean Jaurès", "boulevard Voltaire", "place Bellecour")
    cities = (("69003", "Lyon"), ("13001", "Marseille"), ("33000", "Bordeaux"), ("59000", "Lille"))
    env["res.partner"].create(
        [
            {
                "name": f"Acheteur {n:03d}",
                "street": f"{n} {streets[n % 4]}",
                "zip": cities[n % 4][0],
                "city": cities[n % 4][1],
                "country_id": fr.id,
                "email": f"buyer{n}@example.com",
                "ref": "bench-buyer",
            }
            for n in range(BUYERS)
        ]
    )
    account = env["cdiscount.account"].create(
        {
            "name": "Cdiscount bench",
            "company_id": company.id,
            "seller_id": args["seller_id"],
            "client_id": args["client_id"],
            "client_secret": args["client_secret"],
            "environment": "sandbox",
            "sandbox_api_url": args["api_url"],
            "sandbox_auth_url": args["auth_url"],
            "upload_credit_notes": True,
            "document_format": "ubl",
        }
    )
    # Only the two Cdiscount crons run in this throw-away database.
    ours = env.ref(f"{MODULE}.ir_cron_cdiscount_send_queue") | env.ref(
        f"{MODULE}.ir_cron_cdiscount_sync_imports"
    )
    (env["ir.cron"].search([]) - ours).write({"active": False})
    for job in range(1, args.get("jobs", 1)):
        _sales_journal(job)
    commit()
    emit({"company": company.id, "account": account.id, "products": len(products)})


def _sale_tax(company, country, amount):
    group = env["account.tax.group"].create(
        {"name": f"TVA {amount}%", "company_id": company.id, "country_id": country.id}
    )
    return env["account.tax"].create(
        {
            "tax_group_id": group.id,
            "name": f"TVA {amount}%",
            "amount": amount,
            "amount_type": "percent",
            "type_tax_use": "sale",
            "company_id": company.id,
            "country_id": country.id,
        }
    )


# --- data: orders, invoices, credit notes ---------------------------------------------
def phase_create(args):
    """Orders `first` to `first + count` of the set: confirmed, 1-5 lines, each invoiced and
    posted, `batch` at a time (one transaction each); one order in CREDIT_NOTE_EVERY also gets
    a posted full credit note. Several processes can create one set at once, each with its own
    sales journal (posting numbers per journal) and buyers."""
    tag, first, count = args["tag"], args.get("first", 0), args["count"]
    batch, job, jobs = args.get("batch", 500), args.get("job", 0), args.get("jobs", 1)
    create_env = env(context=dict(env.context, tracking_disable=True))  # no chatter on creation
    products = create_env["product.product"].search([("name", "=like", "Article %")], order="id")
    buyers = create_env["res.partner"].search([("ref", "=", "bench-buyer")], order="id")
    buyers = buyers.filtered(lambda p: p.id % jobs == job) or buyers
    journal = _sales_journal(job)
    timings = Counter()
    started = time.perf_counter()
    for low in range(first, first + count, batch):
        indexes = range(low, min(low + batch, first + count))
        t0 = time.perf_counter()
        orders = create_env["sale.order"].create(
            [_order_vals(tag, i, products, buyers, journal) for i in indexes]
        )
        t1 = time.perf_counter()
        orders.action_confirm()
        t2 = time.perf_counter()
        invoices = orders._create_invoices(grouped=True)
        t3 = time.perf_counter()
        invoices.action_post()
        t4 = time.perf_counter()
        credited = invoices.filtered(
            lambda m: int(m.cdiscount_order_ref.rsplit("-", 1)[1]) % CREDIT_NOTE_EVERY == 5
        )
        if credited:
            _credit_notes(create_env, credited).action_post()
        t5 = time.perf_counter()
        commit()
        timings.update(
            orders=t1 - t0,
            confirm=t2 - t1,
            invoice=t3 - t2,
            post=t4 - t3,
            credit=t5 - t4,
            commit=time.perf_counter() - t5,
        )
    emit(
        {
            "tag": tag,
            "orders": count,
            "seconds": time.perf_counter() - started,
            "timings": dict(timings),
            "rss_mib": peak_rss_mib(),
        }
    )


def phase_count(args):
    docs = _documents(args["tag"])
    emit(
        {
            "documents": len(docs),
            "credit_notes": sum(m.move_type == "out_refund" for m in docs),
            "lines": sum(len(m.invoice_line_ids) for m in docs),
            "to_send": sum(m.cdiscount_state == "to_send" for m in docs),
        }
    )


def _order_vals(tag, index, products, buyers, journal):
    rng = random.Random(f"{tag}-{index}")
    return {
        "partner_id": buyers[rng.randrange(len(buyers))].id,
        "cdiscount_order_ref": order_ref(tag, index),
        "journal_id": journal.id,
        "order_line": [
            Command.create(
                {
                    "product_id": product.id,
                    "product_uom_qty": rng.randint(1, 3),
                    "discount": rng.choice((0.0, 0.0, 0.0, 10.0)),
                }
            )
            for product in rng.sample(list(products), rng.randint(1, 5))
        ],
    }


def _sales_journal(job):
    """The company's sales journal for job 0; a copy of it (code CDB<job>) for the others."""
    journal = env["account.journal"].search(
        [("type", "=", "sale"), ("company_id", "=", env.company.id)], order="id", limit=1
    )
    if not job:
        return journal
    code = f"CDB{job}"
    return env["account.journal"].search([("code", "=", code)], limit=1) or journal.copy(
        {"name": f"Cdiscount sales {job}", "code": code}
    )


def _credit_notes(env, invoices):
    """Full credit notes of `invoices`, created in one batch. What `_reverse_moves` makes (same
    lines, the sale lines kept, `reversed_entry_id` set), without its one `copy` per invoice."""
    return env["account.move"].create(
        [
            {
                "move_type": "out_refund",
                "journal_id": invoice.journal_id.id,
                "partner_id": invoice.partner_id.id,
                "reversed_entry_id": invoice.id,
                "invoice_origin": invoice.invoice_origin,
                "ref": f"Reversal of: {invoice.name}",
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": line.product_id.id,
                            "name": line.name,
                            "quantity": line.quantity,
                            "price_unit": line.price_unit,
                            "discount": line.discount,
                            "tax_ids": [Command.set(line.tax_ids.ids)],
                            "sale_line_ids": [Command.set(line.sale_line_ids.ids)],
                        }
                    )
                    for line in invoice.invoice_line_ids
                ],
            }
            for invoice in invoices
        ]
    )


def _documents(tag, limit=None):
    """One document per order of the set: its credit note when it has one, else its invoice."""
    moves = env["account.move"].search(
        [("cdiscount_order_ref", "=like", f"CD-{tag}-%"), ("state", "=", "posted")],
        order="cdiscount_order_ref, id",
    )
    latest = {}
    for move in moves:
        latest[move.cdiscount_order_ref] = move
    docs = env["account.move"].browse([m.id for m in latest.values()])
    return docs[:limit] if limit else docs


# --- instrumentation ---------------------------------------------------------------------
class Meter:
    """Wall time and SQL queries spent inside some methods, patched on the registry classes
    (or on Python modules and classes). Calls are counted under the current `scope` (None,
    or the cron whose run is going on: "send", "sync")."""

    def __init__(self):
        self.seconds, self.queries, self.calls = Counter(), Counter(), Counter()
        self.scope = None
        self._undo = []
        self._depth = Counter()

    def wrap(self, owner, name, label, on_call=None):
        """Measure `owner.name` under `label`; skipped when the code has no such method.
        `on_call(*args)`, when given, sees the arguments of each outer call."""
        original = owner.__dict__.get(name)
        inherited = getattr(owner, name, None)
        if inherited is None:
            return self

        def timed(*args, **kwargs):
            self._depth[label] += 1
            if self._depth[label] > 1:  # re-entrant (recursion, super): count the outer call
                try:
                    return inherited(*args, **kwargs)
                finally:
                    self._depth[label] -= 1
            if on_call:
                on_call(*args)
            key = (self.scope, label)
            t0, q0 = time.perf_counter(), sql_count()
            try:
                return inherited(*args, **kwargs)
            finally:
                self._depth[label] -= 1
                self.seconds[key] += time.perf_counter() - t0
                self.queries[key] += sql_count() - q0
                self.calls[key] += 1

        setattr(owner, name, timed)
        self._undo.append((owner, name, original))
        return self

    def count(self, label, scope=None):
        return self.calls[(scope, label)]

    def restore(self):
        for owner, name, original in reversed(self._undo):
            if original is None:
                delattr(owner, name)
            else:
                setattr(owner, name, original)
        self._undo.clear()

    def as_dict(self, scope=None):
        return {
            label: {
                "calls": self.calls[(key_scope, label)],
                "seconds": self.seconds[(key_scope, label)],
                "queries": self.queries[(key_scope, label)],
            }
            for key_scope, label in self.calls
            if key_scope == scope
        }


# (model, or Python module or class; method; label): where a send spends its time and queries.
# A label may wrap several methods; steps nest (a label's time includes the labels called
# inside it): bench_odoo.py's SEND_PARTS says which sums and differences are disjoint.
SEND_STEPS = (
    ("account.move", "_cdiscount_refusal", "eligibility"),
    ("cdiscount.sender", "_lock", "locks"),
    ("cdiscount.upload", "_cdiscount_hold", "locks"),
    ("account.move", "_cdiscount_prepare_file", "prepare file"),
    ("account.move", "_cdiscount_get_ubl", "ubl export"),
    ("account.move", "_cdiscount_get_pdf", "pdf (stored or rendered)"),
    ("ir.actions.report", "_run_wkhtmltopdf", "wkhtmltopdf"),
    (bundle, "make_file", "file checks"),
    ("cdiscount.sender", "_relock", "relock before each zip"),
    ("cdiscount.upload", "_cdiscount_record_pending", "history + stored files"),
    (bundle, "write_zip", "zip"),
    (client.OctopiaClient, "upload_bulk", "upload (HTTP)"),
    (client.OctopiaClient, "upload_order_invoice", "upload (HTTP)"),
    ("cdiscount.sender", "_record", "record outcome"),
    ("cdiscount.import", "_cdiscount_create_from_report", "import record"),
    ("cdiscount.upload", "_cdiscount_accepted", "accepted (state writes + chatter)"),
    ("cdiscount.upload", "_cdiscount_post_sent_message", "sent notes (texts + log)"),
    ("cdiscount.account", "_cdiscount_schedule_sync", "schedule sync"),
    ("cdiscount.sender", "_commit", "commit"),
)
SYNC_STEPS = (
    ("cdiscount.upload", "_cdiscount_reconcile_unknown", "reconcile lost answers"),
    ("cdiscount.import", "_cdiscount_try_lock", "lock import"),
    (client.OctopiaClient, "get_import", "status read (HTTP)"),
    ("cdiscount.import", "_cdiscount_apply_report", "apply report"),
    ("cdiscount.upload", "_cdiscount_apply_file_results", "file results"),
    ("cdiscount.upload", "_cdiscount_without_file_result", "file results"),
    ("cdiscount.upload", "_cdiscount_on_result", "on result (chatter + activities)"),
    ("cdiscount.upload", "_cdiscount_post_result_message", "result notes (texts + log)"),
    ("account.move", "_cdiscount_close_activities", "activities"),
    ("account.move", "_cdiscount_open_activity", "activities"),
)
CHATTER_STEPS = (  # every chatter note: the flush of pending writes, then the batch of notes
    ("log_notes", "log_notes (flush + notes)"),
    ("add_to_notes", "log_notes (flush + notes)"),
    ("write_note_lines", "notes (_message_log_batch)"),
    ("account.move", "notes (_message_log_batch)"),
    ("sale.order", "notes (_message_log_batch)"),
)


def send_meter(*steps):
    """A Meter on SEND_STEPS (and `steps`), and on the chatter."""
    meter = Meter()
    for owner, name, label in SEND_STEPS + steps:
        meter.wrap(env.registry[owner] if isinstance(owner, str) else owner, name, label)
    for owner, label in CHATTER_STEPS:
        if owner in ("log_notes", "add_to_notes", "write_note_lines"):
            meter.wrap(sys.modules[f"odoo.addons.{MODULE}.models.cdiscount_upload"], owner, label)
        else:
            meter.wrap(env.registry[owner], "_message_log_batch", label)
    return meter


# --- UBL export: ours against Odoo's BIS 3 ------------------------------------------------
def phase_export(args):
    """Both builders on the same documents, in a warm process (a first round, not measured,
    compiles the templates and fills the registry caches). Each document is exported with the
    record cache emptied first ("warm": as in a send, where each invoice is read once), then
    again at once ("hot": its records already in the cache)."""
    docs = _documents(args["tag"], args["sample"])
    builders = {
        "ours": env["account.edi.xml.ubl_cdiscount"],
        "odoo": env["account.edi.xml.ubl_bis3"],
    }
    warm = {name: [] for name in builders}
    hot = {name: [] for name in builders}
    queries = {name: [] for name in builders}
    errors = Counter()
    sizes = {name: [] for name in builders}
    for round_ in range(args.get("rounds", 2)):
        for index, move in enumerate(docs):
            order = ("ours", "odoo") if (index + round_) % 2 else ("odoo", "ours")
            for name in order:
                env.invalidate_all()
                q0, t0 = sql_count(), time.perf_counter()
                xml, errs = builders[name]._export_invoice(move)
                t1 = time.perf_counter()
                builders[name]._export_invoice(move)
                t2 = time.perf_counter()
                if round_ == 0:
                    errors[name] += bool(errs)
                    continue
                warm[name].append((t1 - t0) * 1000)
                hot[name].append((t2 - t1) * 1000)
                queries[name].append(sql_count() - q0)
                sizes[name].append(len(xml))
    env.cr.rollback()
    emit(
        {
            "documents": len(docs),
            "credit_notes": sum(m.move_type == "out_refund" for m in docs),
            "lines_avg": statistics.mean(len(m.invoice_line_ids) for m in docs),
            "median_ms": {n: statistics.median(t) for n, t in warm.items()},
            "p90_ms": {n: statistics.quantiles(t, n=10)[-1] for n, t in warm.items()},
            "hot_median_ms": {n: statistics.median(t) for n, t in hot.items()},
            "queries_median": {n: statistics.median(q) for n, q in queries.items()},
            "bytes_median": {n: statistics.median(b) for n, b in sizes.items()},
            "with_errors": dict(errors),
            "samples": {n: len(t) for n, t in warm.items()},
        }
    )


def phase_export_cold(args):
    """The first export in a fresh process: templates compiled, caches filled on the way."""
    model = {"ours": "account.edi.xml.ubl_cdiscount", "odoo": "account.edi.xml.ubl_bis3"}
    move = _documents(args["tag"], 1)
    t0 = time.perf_counter()
    env[model[args["builder"]]]._export_invoice(move)
    elapsed = time.perf_counter() - t0
    env.cr.rollback()
    emit({"builder": args["builder"], "cold_ms": elapsed * 1000})


# --- bulk send ------------------------------------------------------------------------------
def phase_bulk(args):
    """`_send_bulk` on `count` documents of the set from `offset`, cache cold, one process."""
    docs = _documents(args["tag"])[args.get("offset", 0) :][: args["count"]]
    if args.get("store_pdfs"):
        _store_pdfs(docs)
    baseline = _odoo_export_loop(docs) if args.get("baseline") else None
    auth.clear_token_cache()
    env.invalidate_all()
    meter = send_meter()
    rss0 = rss_mib()
    q0, t0 = sql_count(), time.perf_counter()
    result = env["cdiscount.sender"]._send_bulk(docs, document_format=args.get("format", False))
    env.flush_all()
    elapsed, queries = time.perf_counter() - t0, sql_count() - q0
    meter.restore()
    commit()
    uploads = result.uploads
    docs = docs.browse(docs.ids)
    emit(
        {
            "n": len(docs),
            "seconds": elapsed,
            "queries": queries,
            "uploads": len(uploads),
            "imports": len(uploads.import_id),
            "skipped": {code: len(moves) for code, moves in result.skipped.items()},
            "states": dict(Counter(docs.mapped("cdiscount_state"))),
            "files_per_zip": docs.cdiscount_account_id[:1].max_files_per_zip,
            "breakdown": meter.as_dict(),
            "rss_growth_mib": rss_mib() - rss0,
            "odoo_export_s": baseline,
        }
    )


def _odoo_export_loop(docs):
    """Odoo's plain BIS 3 export of `docs`, one after the other from a cold record cache (as
    the send reads them); after a warm-up export, so both runs find the templates compiled."""
    bis3 = env["account.edi.xml.ubl_bis3"]
    bis3._export_invoice(docs[:1])
    env["account.edi.xml.ubl_cdiscount"]._export_invoice(docs[:1])
    env.invalidate_all()
    t0 = time.perf_counter()
    for move in docs:
        bis3._export_invoice(move)
    elapsed = time.perf_counter() - t0
    env.invalidate_all()
    return elapsed


def _store_pdfs(docs):
    """Give `docs` an invoice PDF as Send & Print leaves it (account.move.send
    `_link_invoice_documents`): an attachment of the field invoice_pdf_report_file."""
    attachments = env["ir.attachment"].create(
        [
            {
                "name": f"{move.name.replace('/', '_')}.pdf",
                "raw": samples.pdf_invoice(move.cdiscount_order_ref),
                "mimetype": wire.MIME_PDF,
                "res_model": "account.move",
                "res_id": move.id,
                "res_field": "invoice_pdf_report_file",
            }
            for move in docs
        ]
    )
    for move, attachment in zip(docs, attachments, strict=True):
        move.message_main_attachment_id = attachment
    docs.invalidate_recordset(["invoice_pdf_report_id", "invoice_pdf_report_file"])
    commit()
    missing = docs.browse(docs.ids).filtered(lambda m: not m.invoice_pdf_report_id)
    assert not missing, f"no stored PDF on {missing.ids}"


def phase_odoo_pdf(args):
    """Odoo's own Send & Print on `count` documents without a PDF (batched rendering)."""
    docs = _documents(args["tag"])[args.get("offset", 0) :][: args["count"]]
    meter = Meter().wrap(env.registry["ir.actions.report"], "_run_wkhtmltopdf", "wkhtmltopdf")
    t0 = time.perf_counter()
    error = None
    try:
        env["account.move.send"]._generate_and_send_invoices(
            docs, sending_methods={"manual"}, invoice_edi_format=False
        )
    except Exception as exc:  # reported: e.g. an unpatched wkhtmltopdf
        error = f"{type(exc).__name__}: {exc}"
        env.cr.rollback()
    elapsed = time.perf_counter() - t0
    meter.restore()
    commit()
    emit(
        {
            "n": len(docs),
            "seconds": elapsed,
            "renders": meter.count("wkhtmltopdf"),
            "stored": len(docs.browse(docs.ids).filtered("invoice_pdf_report_id")),
            "error": error,
        }
    )


# --- queue and crons --------------------------------------------------------------------------
def phase_reset(args):
    """Make every document "to send" again: all uploads, imports and sent files are deleted
    (the chatter messages stay) and nothing stays queued, so that a cron run starts from a
    clean slate."""
    uploads = env["cdiscount.upload"].search([])
    imports, files = env["cdiscount.import"].search([]), uploads.attachment_id
    t0 = time.perf_counter()
    env["cdiscount.queue"].search([]).unlink()
    uploads.unlink()
    imports.unlink()
    files.unlink()
    commit()
    states = Counter(_documents(args["tag"]).mapped("cdiscount_state"))
    emit({"uploads": len(uploads), "seconds": time.perf_counter() - t0, "states": dict(states)})


def phase_queue(args):
    """Queue `count` documents of the set from `offset` for the background sender (as "Send
    in background"), in `format` (the account's when not given)."""
    docs = _documents(args["tag"])[args.get("offset", 0) :][: args["count"]]
    t0, q0 = time.perf_counter(), sql_count()
    docs._cdiscount_queue(args.get("format", False))
    commit()
    emit(
        {
            "n": len(docs),
            "seconds": time.perf_counter() - t0,
            "queries": sql_count() - q0,
            "queued": env["account.move"].search_count([("cdiscount_queued", "=", True)]),
        }
    )


def phase_wizard(args):
    """The user's request in the bulk send wizard (account.move.cdiscount.send): open it on
    `count` documents from `offset` in `format` (create: default_get, and the counts the form
    shows), then Send (action_send), flushed and committed. Documents without a stored PDF
    are queued for the background job when more than one must be rendered: the renders done
    inside the request are counted. What it queued is unqueued afterwards (not measured), so
    that no later phase renders them."""
    docs = _documents(args["tag"])[args.get("offset", 0) :][: args["count"]]
    no_pdf = len(docs.filtered(lambda m: not m.invoice_pdf_report_id))
    commit()
    meter = send_meter()
    Wizard = env["account.move.cdiscount.send"].with_context(
        active_model="account.move", active_ids=docs.ids
    )
    q0, t0 = sql_count(), time.perf_counter()
    wizard = Wizard.create({"document_format": args.get("format", "pdf")})
    shown = {
        "eligible_count": wizard.eligible_count,
        "to_render_count": wizard.to_render_count if "to_render_count" in wizard else None,
        "in_background": wizard.in_background,
    }
    opened = time.perf_counter() - t0
    wizard.action_send()
    env.flush_all()
    env.cr.commit()
    elapsed, queries = time.perf_counter() - t0, sql_count() - q0
    meter.restore()
    env.invalidate_all()
    docs = docs.browse(docs.ids)
    queued = docs.filtered("cdiscount_queued")
    states = dict(Counter(docs.mapped("cdiscount_state")))
    queued._cdiscount_unqueue()
    commit()
    emit(
        {
            "n": len(docs),
            "without_pdf": no_pdf,
            "seconds": elapsed,
            "open_seconds": opened,
            "queries": queries,
            **shown,
            "queued": len(queued),
            "states": states,
            "renders": meter.count("wkhtmltopdf"),
            "breakdown": meter.as_dict(),
        }
    )


DEFAULT_CRON_LIMIT_S = 120  # Odoo's limit_time_real, which cron workers use by default


def phase_crons(args):
    """Run the real cron runner (ir.cron._process_jobs) until the queue is sent and every import
    is final (`until` "sent": until the queue is empty; `only` "send": the status sync cron is
    off meanwhile). Waiting is simulated: once the queue is empty, each round moves the imports'
    last read an hour back and the status sync's trigger to now (instead of waiting a minute).
    A "pickup" is one _process_jobs call: what a cron worker does between two watchdog pings.

    Each run of a cron is measured whole (time, queries), and the steps inside it under the
    cron's name: breakdown {"send": {...}, "sync": {...}}. The invoices synced are those of the
    imports the sync read."""
    IrCron = env.registry["ir.cron"]
    names = {
        env.ref(f"{MODULE}.ir_cron_cdiscount_send_queue").id: "send",
        env.ref(f"{MODULE}.ir_cron_cdiscount_sync_imports").id: "sync",
    }
    only = args.get("only")
    for cron_id, kind in names.items():
        env["ir.cron"].browse(cron_id).active = not only or kind == only
    batches, synced_imports = [], set()
    meter = send_meter(*SYNC_STEPS)
    meter.wrap(
        env.registry["cdiscount.sender"],
        "_send_bulk",
        "send batch",
        on_call=lambda _self, moves, *_a: batches.append(len(moves)),
    )
    meter.wrap(
        env.registry["cdiscount.import"],
        "_cdiscount_apply_report",
        "report applied",
        on_call=lambda record, *_a: synced_imports.update(record.ids),
    )
    runs, original_callback = [], IrCron._callback

    def callback(cron, cron_name, server_action_id):
        kind = names.get(cron.id, cron_name)
        meter.scope = kind
        reads0, q0, t0 = meter.count("status read (HTTP)", kind), sql_count(), time.perf_counter()
        try:
            original_callback(cron, cron_name, server_action_id)
        finally:
            meter.scope = None
        progress = cron.env["ir.cron.progress"].browse(cron.env.context["ir_cron_progress_id"])
        runs.append(
            {
                "cron": kind,
                "seconds": time.perf_counter() - t0,
                "queries": sql_count() - q0,
                "done": progress.done,
                "remaining": progress.remaining,
                "reads": meter.count("status read (HTTP)", kind) - reads0,
                "rss_mib": rss_mib(),
            }
        )

    IrCron._callback = callback
    auth.clear_token_cache()
    imports_before = env["cdiscount.import"].search_count([])
    commit()
    rss_start, pickups = rss_mib(), []
    started = time.perf_counter()
    while len(pickups) < args.get("max_loops", 500) and _cron_round(names, args.get("until")):
        first, t0 = len(runs), time.perf_counter()
        IrCron._process_jobs(env.cr.dbname)
        pickups.append({"seconds": time.perf_counter() - t0, "runs": len(runs) - first})
    wall = time.perf_counter() - started
    IrCron._callback = original_callback
    meter.restore()
    env.invalidate_all()
    env["ir.cron"].browse(list(names)).active = True
    commit()
    docs = _documents(args["tag"])[args.get("offset", 0) :][: args["count"]]
    synced = env["cdiscount.upload"].search_count([("import_id", "in", list(synced_imports))])
    emit(
        {
            "n": len(docs),
            "wall_s": wall,
            "pickups": pickups,
            "runs": runs,
            "rss_start_mib": rss_start,
            "peak_rss_mib": peak_rss_mib(),
            "states": dict(Counter(docs.mapped("cdiscount_state"))),
            "imports": env["cdiscount.import"].search_count([]) - imports_before,
            "imports_synced": len(synced_imports),
            "invoices_synced": synced,
            "send_batches": batches,
            "files_per_zip": docs.cdiscount_account_id[:1].max_files_per_zip,
            "batch_send": _default(env.registry["cdiscount.sender"]._cron_send_queue),
            "batch_sync": _default(env.registry["cdiscount.import"]._cron_sync_imports),
            "run_seconds": _default(
                env.registry["cdiscount.sender"]._cron_send_queue, "run_seconds"
            ),
            "cron_limit_s": DEFAULT_CRON_LIMIT_S,
            "breakdown": {kind: meter.as_dict(kind) for kind in ("send", "sync")},
        }
    )


def _default(method, name="batch_size"):
    parameter = inspect.signature(method).parameters.get(name)
    return parameter.default if parameter else None


def _cron_round(names, until=None):
    """False when everything is sent and final (`until` "sent": when the queue is empty);
    else prepare the next round of the runner: once the queue is empty, simulate the wait
    before the next status read."""
    cr = env.cr
    cr.execute("SELECT count(*) FROM account_move WHERE cdiscount_queued")
    queued = cr.fetchone()[0]
    if until == "sent":
        commit()  # a new snapshot for the next round's count
        return bool(queued)
    cr.execute("SELECT count(*) FROM cdiscount_import WHERE state IN ('running', 'other')")
    running = cr.fetchone()[0]
    cr.execute("SELECT count(*) FROM cdiscount_upload WHERE state = 'unknown'")
    unknown = cr.fetchone()[0]
    if not (queued or running or unknown):
        return False
    if not queued:
        sync_id = next(cron_id for cron_id, kind in names.items() if kind == "sync")
        cr.execute(
            "UPDATE cdiscount_import SET last_sync_date = last_sync_date - interval '1 hour'"
            " WHERE state IN ('running', 'other') AND last_sync_date IS NOT NULL"
        )
        cr.execute(
            "UPDATE ir_cron_trigger SET call_at = now() at time zone 'UTC' WHERE cron_id = %s",
            [sync_id],
        )
        cr.execute(
            "UPDATE ir_cron SET nextcall = now() at time zone 'UTC' WHERE id = %s", [sync_id]
        )
    commit()
    return True


def phase_param(args):
    env["ir.config_parameter"].set_param(args["key"], args["value"])
    commit()
    emit({args["key"]: args["value"]})


PHASES = {
    name[len("phase_") :]: func
    for name, func in dict(globals()).items()
    if name.startswith("phase_")
}


def main():
    phase, raw = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "{}"
    PHASES[phase](json.loads(raw))


main()
