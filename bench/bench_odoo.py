"""Benchmark of the addon inside Odoo 18.0 or 19.0 (`make bench-odoo`, or `make bench`).

    make bench-odoo [BENCH_ODOO_ARGS="--bulk-sizes 100,1000 --cron-sizes 1000,10000"]

bench/bench_odoo.sh creates a fresh database with the addon and calls this script, which
drives every phase in its own `odoo shell` process (bench/bench_odoo_worker.py) against a
SandboxServer running in another process on 127.0.0.1, then prints one table: each measure,
its goal, met or not (the goals are the GOAL_* constants below; "info" rows have none). The
data: a French company (generic chart, 20 / 10 / 5.5 % VAT), buyers and products, confirmed
sale orders of 1-5 lines invoiced and posted in batches, one order in 12 also credited (its
credit note is the document sent for that order).

Phases, in order: UBL export of the same documents by our builder and by Odoo's BIS 3; bulk
sends (`cdiscount.sender._send_bulk`) at each --bulk-sizes; PDF: stored PDFs (no render),
the bulk wizard on --pdf-wizard invoices without a PDF (the user's wait: they are queued,
not rendered in the request), rendered ones, ours and Odoo's Send & Print side by side, and
--pdf-sample of them queued in PDF, rendered and sent by the send cron; then for each
--cron-sizes the documents are reset to "to send", queued, and sent and synced by the real
cron runner (`ir.cron._process_jobs`) in a fresh process whose peak RSS is measured. The
sandbox keeps each import Running for one status read, like a real processing delay;
waiting for the sync (one minute after an upload, then every 15 minutes) is simulated by
moving the cron to now.

Each cron run is measured whole (time, SQL queries): the send's per invoice sent, the status
sync's per invoice synced (all its runs, both reads of each import and what they write). The
"where it goes" rows split a send or a sync into disjoint parts (SEND_PARTS, SYNC_PARTS) of
the steps the worker measures, plus "other". The goals at TARGET_QUEUE (10,000) queued say
"not measured" when --cron-sizes does not include it.

The sandbox process is the stock SandboxServer with the two changes bench_core.py makes (the
multipart split and dropping the bytes of a finalised import), so the sandbox is never the
bottleneck and its memory stays flat.
"""

import argparse
import contextlib
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

from bench_core import split_multipart, write_grid  # noqa: E402

from octopia import sandbox as sandbox_module  # noqa: E402
from octopia import sandbox_state, wire  # noqa: E402
from octopia.sandbox import DEMO_SELLER_ID, SandboxServer  # noqa: E402

WORKER = HERE / "bench_odoo_worker.py"
TAG = "A"  # the main set of orders
PDF_TAG = "P"  # a few orders for the PDF phase
BOOTSTRAP = """import runpy, sys
sys.argv = [{worker!r}, {phase!r}, {args!r}]
runpy.run_path({worker!r}, init_globals={{"env": env}}, run_name="__main__")
"""

GOAL_EXPORT_RATIO = 1.15  # our UBL export / Odoo's BIS 3 export of the same documents
GOAL_SEND_RATIO = 1.3  # whole bulk send (largest --bulk-sizes) / Odoo's export loop, per invoice
GOAL_SEND_QUERIES = 20  # SQL queries per invoice, whole send (bulk sends, crons' send runs)
QUERY_GROWTH_TOLERANCE = 1.10  # "constant": the larger run may cost this much more per invoice
GOAL_SYNC_MS = 2.0  # status sync (the sync cron's runs), ms per invoice synced, both reads
GOAL_SYNC_QUERIES = 1.0  # ... and SQL queries per invoice synced
GOAL_PICKUP_S = 60  # longest ir.cron._process_jobs call: half the cron worker's 120 s
GOAL_QUEUE_WALL_S = 240  # TARGET_QUEUE invoices queued -> all Accepted through the crons
GOAL_RSS_GROWTH_MIB = 16  # "flat": peak RSS of the cron process, smallest -> TARGET_QUEUE run
TARGET_QUEUE = 10_000  # the queue the cron goals are set for (--cron-sizes)
CHECK = "check"  # marks a correctness row: the run is wrong, not slow, when it fails
# The disjoint parts of a send and of a status sync, per invoice: (shown as, worker labels
# added, worker labels subtracted). The worker's steps nest (see its SEND_STEPS); a part is a
# step without the steps measured inside it, so the parts add up, and "other" is the rest of
# the measured whole (cron bookkeeping, ORM and Python between the steps).
NOTES = "notes (_message_log_batch)"
LOG_NOTES = "log_notes (flush + notes)"
SEND_PARTS = (
    ("eligibility", ("eligibility",), ()),
    ("locks", ("locks",), ()),
    ("export", ("ubl export",), ()),
    ("pdf", ("pdf (stored or rendered)",), ()),
    ("file checks", ("file checks",), ()),
    ("history", ("history + stored files",), ()),
    ("zip", ("zip",), ()),
    ("HTTP", ("upload (HTTP)",), ()),
    ("import record", ("import record",), ()),
    ("state writes", ("accepted (state writes + chatter)",), ("sent notes (texts + log)",)),
    ("note texts", ("sent notes (texts + log)",), (LOG_NOTES,)),
    ("flush", (LOG_NOTES,), (NOTES,)),
    ("chatter", (NOTES,), ()),
    ("schedule sync", ("schedule sync",), ()),
    ("commits", ("commit",), ()),
)
SYNC_PARTS = (
    ("reconcile", ("reconcile lost answers",), ()),
    ("lock", ("lock import",), ()),
    ("HTTP reads", ("status read (HTTP)",), ()),
    ("import writes", ("apply report",), ("file results",)),
    (
        "file result writes",
        ("file results",),
        ("result notes (texts + log)", "activities"),
    ),
    ("note texts", ("result notes (texts + log)",), (LOG_NOTES,)),
    ("flush", (LOG_NOTES,), (NOTES,)),
    ("chatter", (NOTES,), ()),
    ("activities", ("activities",), ()),
    ("commits", ("commit",), ()),
)


def order_ref(tag, index):
    return f"CD-{tag}-{index:06d}"  # the same as bench_odoo_worker.order_ref


# --- the sandbox process -------------------------------------------------------------------
def serve(args):
    """A sandbox knowing the bench's orders. Commands on stdin: `stats` prints the request
    counts as one JSON line; end of input stops it."""
    sandbox_module.parse_multipart = split_multipart
    finalise = sandbox_state.Import.finalise

    def finalise_and_forget(imp, known_orders):
        finalise(imp, known_orders)
        for pending in imp.files:
            pending.content = b""  # keep the results, not the bytes

    sandbox_state.Import.finalise = finalise_and_forget
    server = SandboxServer(running_polls=1).start()
    demo = server.seed_demo()
    for spec in args.orders.split(","):
        tag, count = spec.split(":")
        server.add_orders(DEMO_SELLER_ID, [order_ref(tag, i) for i in range(int(count))])
    print(json.dumps({"api_url": server.api_url, "auth_url": server.auth_url, **demo}), flush=True)
    for line in sys.stdin:
        if line.strip() == "stats":
            files = [f for i in server.imports_of(DEMO_SELLER_ID) for f in i[wire.REPORT_FILES]]
            print(
                json.dumps(
                    {
                        "requests": server.request_count(),
                        "token": server.request_count("POST", "/auth/"),
                        "uploads": server.request_count("POST", wire.PATH_IMPORTS),
                        "reads": server.request_count("GET", wire.PATH_IMPORTS + "/"),
                        "lists": server.request_count("GET", wire.PATH_IMPORTS)
                        - server.request_count("GET", wire.PATH_IMPORTS + "/"),
                        "imports": len(server.imports_of(DEMO_SELLER_ID)),
                        "files": len(files),
                        "files_ok": sum(f[wire.FILE_STATUS] == wire.STATUS_SUCCESS for f in files),
                        "errors": sorted({s for _m, _p, s in server.requests if s and s >= 400}),
                    }
                ),
                flush=True,
            )
    server.stop()


class Sandbox:
    def __init__(self, orders):
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--serve", "--orders", orders],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.info = json.loads(self.proc.stdout.readline())

    def stats(self):
        self.proc.stdin.write("stats\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def stop(self):
        if self.proc.stdin and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def delta(after, before):
    return {k: after[k] - before[k] for k in ("requests", "token", "uploads", "reads", "lists")}


# --- running a phase inside Odoo --------------------------------------------------------------
class Odoo:
    def __init__(self, args):
        self.args = args
        self.log = Path(args.log or tempfile.mkstemp(prefix="bench-odoo-", suffix=".log")[1])

    def run(self, phase, timeout=None, **params):
        """Run one worker phase in a fresh `odoo shell` process; its BENCH-JSON answer."""
        a = self.args
        command = [
            a.odoo_bin,
            "shell",
            "-c",
            a.conf,
            "-d",
            a.db,
            f"--addons-path={a.addons_path}",
            f"--data-dir={a.data_dir}",
            "--no-http",
            "--log-level=warn",
        ]
        script = BOOTSTRAP.format(worker=str(WORKER), phase=phase, args=json.dumps(params))
        started = time.perf_counter()
        try:
            done = subprocess.run(
                command,
                input=script,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            self._keep(phase, exc.stdout, exc.stderr)
            return {"timeout": timeout}
        self._keep(phase, done.stdout, done.stderr)
        answers = [
            json.loads(line[len("BENCH-JSON ") :])
            for line in done.stdout.splitlines()
            if line.startswith("BENCH-JSON ")
        ]
        if done.returncode or not answers:
            tail = "\n".join((done.stderr or "").splitlines()[-30:])
            raise SystemExit(f"phase {phase} failed (exit {done.returncode}):\n{tail}")
        answer = answers[-1]
        answer["process_s"] = time.perf_counter() - started
        return answer

    @contextlib.contextmanager
    def server(self, timeout=120):
        """An Odoo HTTP server on this database (no cron) while the block runs; its URL, or
        None when it did not answer within `timeout` seconds."""
        a = self.args
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        url = f"http://127.0.0.1:{port}"
        conf = Path(a.data_dir) / "server.conf"  # the saved config says http_enable = False
        lines = Path(a.conf).read_text().splitlines()
        conf.write_text("\n".join(x for x in lines if not x.startswith("http_enable")) + "\n")
        with self.log.open("a") as log:
            log.write(f"===== http server on {url}\n")
            proc = subprocess.Popen(
                [a.odoo_bin, "server", "-c", str(conf), "-d", a.db, f"--db-filter=^{a.db}$",
                 f"--addons-path={a.addons_path}", f"--data-dir={a.data_dir}",
                 "--http-interface=127.0.0.1", f"--http-port={port}", "--max-cron-threads=0",
                 "--workers=0", "--log-level=warn"],
                stdout=log, stderr=log,
            )  # fmt: skip
        try:
            deadline = time.monotonic() + timeout
            up = False
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    with urllib.request.urlopen(url + "/web/login", timeout=30):
                        up = True
                        break
                except OSError:
                    time.sleep(0.5)
            yield url if up else None
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def _keep(self, phase, stdout, stderr):
        def text(value):
            return value.decode(errors="replace") if isinstance(value, bytes) else value or ""

        with self.log.open("a") as log:
            log.write(f"===== {phase}\n{text(stdout)}\n{text(stderr)}\n")


def say(message):
    print(message, flush=True)


# --- the measures -----------------------------------------------------------------------------
def measure(args):
    bulk_sizes = sizes(args.bulk_sizes)
    cron_sizes = sizes(args.cron_sizes)
    count = max([*cron_sizes, sum(bulk_sizes), args.export_sample, 1])
    pdf_count = sum(count for _offset, count in pdf_ranges(args).values())
    orders = f"{TAG}:{count}" + (f",{PDF_TAG}:{pdf_count}" if pdf_count else "")
    sandbox = Sandbox(orders)
    odoo = Odoo(args)
    results = {"count": count, "bulk": {}, "cron": {}, "log": str(odoo.log)}
    try:
        started = time.perf_counter()
        info = sandbox.info
        odoo.run(
            "setup",
            **{k: info[k] for k in ("api_url", "auth_url", "seller_id", "client_id")},
            client_secret=info["client_secret"],
            jobs=args.jobs,
        )
        results["create"] = create(odoo, TAG, count, args.jobs)
        say(
            f"Created {count:,} orders and their documents in {results['create']['seconds']:.0f} s"
            f" ({results['create']['documents']:,} documents, "
            f"{results['create']['credit_notes']:,} credit notes)"
        )
        if pdf_count:
            create(odoo, PDF_TAG, pdf_count, 1)
        results["export"] = odoo.run("export", tag=TAG, sample=args.export_sample)
        results["cold"] = {
            b: odoo.run("export_cold", tag=TAG, builder=b)["cold_ms"] for b in ("odoo", "ours")
        }
        say(f"UBL export: {results['export']['median_ms']} ms (median, warm)")
        offset = 0
        for n in bulk_sizes:
            before = sandbox.stats()
            row = odoo.run("bulk", tag=TAG, offset=offset, count=n, baseline=True)
            row["http"] = delta(sandbox.stats(), before)
            results["bulk"][n] = row
            offset += n
            say(f"Bulk send of {n:,}: {row['seconds']:.1f} s, {row['queries']:,} queries")
        if pdf_count:
            results["pdf"] = pdf(odoo, args)
        for n in cron_sizes:
            results["cron"][n] = crons(odoo, sandbox, n, args)
        results["sandbox"] = sandbox.stats()
        results["total_s"] = time.perf_counter() - started
    finally:
        sandbox.stop()
    return results


def sizes(text):
    values = sorted({int(s.replace("_", "")) for s in (text or "").split(",") if s.strip()})
    if values and values[0] < 1:
        raise SystemExit("sizes: positive integers, e.g. 100,1000")
    return values


def create(odoo, tag, count, jobs):
    """`count` orders and their documents, by `jobs` processes at once (each its own range of
    orders, buyers and sales journal)."""
    jobs = max(1, min(jobs, count // 500 or 1))
    started = time.perf_counter()
    shares = [count // jobs + (job < count % jobs) for job in range(jobs)]
    firsts = [sum(shares[:job]) for job in range(jobs)]
    with ThreadPoolExecutor(jobs) as pool:
        answers = list(
            pool.map(
                lambda job: odoo.run(
                    "create", tag=tag, first=firsts[job], count=shares[job], job=job, jobs=jobs
                ),
                range(jobs),
            )
        )
    result = odoo.run("count", tag=tag)
    result["seconds"] = time.perf_counter() - started
    result["jobs"] = jobs
    result["timings"] = {
        k: sum(a["timings"].get(k, 0) for a in answers) for k in answers[0]["timings"]
    }
    return result


def pdf_ranges(args):
    """{use: (offset, count)} of the PDF set's documents, none of them used twice."""
    n = args.pdf_sample
    uses = (
        ("ours", n),  # rendered by our bulk send
        ("odoo", n),  # rendered by Odoo's Send & Print
        ("cron", n),  # queued in PDF, rendered and sent by the send cron
        ("stored", args.pdf_stored),  # a PDF stored beforehand
        ("wizard", args.pdf_wizard),  # queued through the bulk wizard (nothing rendered)
    )
    ranges, offset = {}, 0
    for use, count in uses:
        ranges[use] = (offset, count)
        offset += count
    return ranges


def pdf(odoo, args):
    """Stored PDFs are reused (no render); missing ones are rendered, ours and Odoo's; the
    bulk wizard queues invoices without a PDF (the user's wait), and the send cron renders and
    sends them (the cost per invoice).

    wkhtmltopdf loads the report's CSS from Odoo over HTTP, and `odoo shell` serves none: an
    Odoo HTTP server (no cron) runs on a free local port meanwhile, and report.url points to it."""
    ranges, timeout = pdf_ranges(args), args.pdf_timeout
    out = {}
    offset, count = ranges["stored"]
    if count:
        out["stored"] = odoo.run("bulk", tag=PDF_TAG, offset=offset, count=count, format="pdf",
                                 store_pdfs=True)  # fmt: skip
    if not (args.pdf_sample or args.pdf_wizard):
        return out
    with odoo.server() as url:
        if url:
            odoo.run("param", key="report.url", value=url)
        out["http_server"] = bool(url)
        offset, count = ranges["wizard"]
        if count:
            out["wizard"] = odoo.run(
                "wizard", timeout, tag=PDF_TAG, offset=offset, count=count, format="pdf"
            )
            say(f"PDF: the bulk wizard on {count} invoices without a PDF answered in "
                f"{out['wizard'].get('seconds', float('nan')) * 1000:.0f} ms")  # fmt: skip
        if not args.pdf_sample:
            return out
        offset, count = ranges["ours"]
        out["ours"] = odoo.run("bulk", timeout, tag=PDF_TAG, offset=offset, count=count,
                               format="pdf")  # fmt: skip
        offset, count = ranges["odoo"]
        out["odoo"] = odoo.run("odoo_pdf", timeout, tag=PDF_TAG, offset=offset, count=count)
        offset, count = ranges["cron"]
        odoo.run("queue", tag=PDF_TAG, offset=offset, count=count, format="pdf")
        out["cron"] = odoo.run("crons", timeout, tag=PDF_TAG, offset=offset, count=count,
                               until="sent", only="send")  # fmt: skip
    return out


def crons(odoo, sandbox, n, args):
    reset = odoo.run("reset", tag=TAG)
    vacuum(args)
    queued = odoo.run("queue", tag=TAG, count=n)
    before = sandbox.stats()
    row = odoo.run("crons", tag=TAG, count=n)
    row["http"] = delta(sandbox.stats(), before)
    row["queue"] = queued
    row["reset"] = reset
    say(
        f"Crons, {n:,} invoices: {row['wall_s']:.0f} s, peak RSS {row['peak_rss_mib']:.0f} MiB,"
        f" {len(row['runs'])} runs, states {row['states']}"
    )
    return row


def vacuum(args):
    """VACUUM ANALYZE after the reset's deletes (psql, autocommit)."""
    subprocess.run(
        ["psql", "-q", "-d", args.db, "-c", "VACUUM ANALYZE"],
        check=False,
        capture_output=True,
    )


# --- the table --------------------------------------------------------------------------------
def rows_of(r, args):
    """[(measure, value, goal, met)]; met is True, False or None (information only)."""
    rows = export_rows(r)
    rows.extend(bulk_rows(r["bulk"]))
    if "pdf" in r:
        rows.extend(pdf_rows(r["pdf"]))
    for n, c in r["cron"].items():
        rows.extend(cron_rows(n, c))
    rows.extend(queue_goal_rows(r["cron"]))
    return rows


def not_measured(measure, goal, needs=f"--cron-sizes {TARGET_QUEUE}"):
    return (measure, f"not measured (needs {needs})", goal, None)


def export_rows(r):
    rows = []
    exp = r["export"]
    for label, key in (("warm", "median_ms"), ("hot", "hot_median_ms")):
        ours, base = exp[key]["ours"], exp[key]["odoo"]
        rows.append(
            (
                f"UBL export, median ms/invoice, {label} ({exp['documents']} documents)",
                f"ours {ours:.1f} / Odoo BIS 3 {base:.1f} = {ours / base:.2f}",
                f"ratio <= {GOAL_EXPORT_RATIO}",
                ours / base <= GOAL_EXPORT_RATIO,
            )
        )
    rows.append(
        (
            "UBL export, first one in a fresh process (cold)",
            f"ours {r['cold']['ours']:.0f} / Odoo {r['cold']['odoo']:.0f} ms",
            "(reference: Odoo ~50)",
            None,
        )
    )
    rows.append(
        (
            "UBL export, SQL queries per invoice (warm, median)",
            f"ours {exp['queries_median']['ours']:.0f} / Odoo {exp['queries_median']['odoo']:.0f}",
            "",
            None,
        )
    )
    return rows


def bulk_rows(bulk):
    rows, per_q = [], {}
    largest = max(bulk, default=None)
    for n, b in bulk.items():
        per_ms = b["seconds"] * 1000 / n
        base_ms = b["odoo_export_s"] * 1000 / n
        ours_ms = b["breakdown"]["ubl export"]["seconds"] * 1000 / n
        rows.append(
            (
                f"Bulk send of {n:,}: our export in it / Odoo's export loop, ms/inv.",
                f"ours {ours_ms:.1f} / Odoo {base_ms:.1f} = {ours_ms / base_ms:.2f}",
                f"ratio <= {GOAL_EXPORT_RATIO}",
                ours_ms / base_ms <= GOAL_EXPORT_RATIO,
            )
        )
        ratio = per_ms / base_ms
        rows.append(
            (
                f"Bulk send of {n:,}: whole send, ms/inv. (x Odoo's export loop)",
                f"{per_ms:.1f} ms = {ratio:.2f} x",
                f"<= {GOAL_SEND_RATIO:g} x" if n == largest else "(goal: largest size)",
                ratio <= GOAL_SEND_RATIO if n == largest else None,
            )
        )
        per_q[n] = b["queries"] / n
        rows.append(
            (
                f"Bulk send of {n:,}: SQL queries per invoice, whole send",
                f"{per_q[n]:.1f} ({b['queries']:,} queries)",
                f"<= {GOAL_SEND_QUERIES}",
                per_q[n] <= GOAL_SEND_QUERIES,
            )
        )
        rows.extend(
            breakdown_rows(
                f"Bulk send of {n:,}",
                b["breakdown"],
                SEND_PARTS,
                n,
                (b["seconds"], b["queries"]),
            )
        )
        expected = 1 + math.ceil(n / b["files_per_zip"])
        got = b["http"]["token"] + b["http"]["uploads"]
        ok = got == expected and b["http"]["requests"] == got and b["states"] == {"running": n}
        rows.append(
            (
                f"Bulk send of {n:,}, HTTP requests (token + uploads)",
                f"{got} ({b['http']['token']}+{b['http']['uploads']}); states {b['states']}",
                f"1 + ceil({n}/{b['files_per_zip']}) = {expected}, all sent",
                ok,
                CHECK,
            )
        )
    measure = "Bulk send, SQL queries per invoice, constant over --bulk-sizes"
    goal = f"larger <= smaller x {QUERY_GROWTH_TOLERANCE}"
    if len(per_q) > 1:
        small = min(per_q)
        text = " -> ".join(f"{per_q[n]:.1f} (N={n:,})" for n in sorted(per_q))
        rows.append((measure, text, goal, per_q[largest] <= per_q[small] * QUERY_GROWTH_TOLERANCE))
    elif per_q:
        rows.append(not_measured(measure, goal, "two --bulk-sizes, e.g. 100,1000"))
    return rows


def parts(breakdown, spec):
    """{part: (seconds, queries)} of a worker breakdown ({label: {seconds, queries, calls}}),
    by a *_PARTS spec; only the parts whose labels were called."""
    out = {}
    for name, plus, minus in spec:
        if not any(breakdown.get(label, {}).get("calls") for label in plus):
            continue
        sign = [(label, 1) for label in plus] + [(label, -1) for label in minus]
        out[name] = tuple(
            sum(k * breakdown.get(label, {}).get(field, 0) for label, k in sign)
            for field in ("seconds", "queries")
        )
    return out


def breakdown_rows(measure, breakdown, spec, n, whole, *, per="per invoice"):
    """Two info rows: the ms, then the SQL queries, per invoice of each part of a whole that
    took `whole` = (seconds, queries) (largest first; parts under 0.05 left out; "other" last)."""
    seconds, queries = whole
    found = parts(breakdown, spec)
    other = (
        seconds - sum(s for s, _q in found.values()),
        queries - sum(q for _s, q in found.values()),
    )
    rows = []
    for index, (what, scale, fmt) in enumerate(
        (("where the time goes, ms", 1000, ".1f"), ("where the queries go", 1, ".1f"))
    ):
        each = {name: values[index] * scale / n for name, values in found.items()}
        text = ", ".join(
            f"{name} {value:{fmt}}"
            for name, value in sorted(each.items(), key=lambda x: -x[1])
            if abs(value) >= 0.05
        )
        rows.append(
            (
                f"{measure}: {what} {per}",
                f"{text}; other {other[index] * scale / n:{fmt}}",
                "",
                None,
            )
        )
    return rows


def pdf_rows(p):
    rows = []
    stored = p.get("stored")
    if stored:
        renders = stored["breakdown"].get("wkhtmltopdf", {}).get("calls", 0)
        rows.append(
            (
                f"PDF format, {stored['n']} invoices with a stored PDF: renders",
                f"{renders} ({stored['seconds'] * 1000 / stored['n']:.0f} ms/invoice)",
                "0",
                renders == 0 and stored["states"] == {"running": stored["n"]},
                CHECK,
            )
        )
    ours, odoo = p.get("ours"), p.get("odoo")
    if ours and odoo:
        if "timeout" in ours or "timeout" in odoo:
            rows.append(("PDF format, rendering", "timed out", "", None))
        else:
            calls = ours["breakdown"].get("wkhtmltopdf", {}).get("calls", 0)
            theirs = (
                f"fails here ({odoo['error'].split(':')[0]})"
                if odoo.get("error")
                else f"{odoo['renders']} in {odoo['seconds']:.1f} s"
            )
            rows.append(
                (
                    f"PDF format, {ours['n']} invoices without a PDF: wkhtmltopdf runs",
                    f"ours {calls} in {ours['seconds']:.1f} s; Odoo's batch: {theirs}",
                    "(Odoo: up to 80 per run)",
                    None,
                )
            )
    w = p.get("wizard")
    if w:
        measure = "PDF format, bulk wizard, invoices without a PDF: the user's wait"
        if "timeout" in w:
            rows.append((measure, f"timed out after {w['timeout']} s", "", None))
        else:
            rows.append(
                (
                    f"PDF format, bulk wizard, {w['n']} invoices without a PDF: the user's "
                    "wait (create + action_send)",
                    f"{w['seconds'] * 1000:.0f} ms, {w['queries']:,} queries (form "
                    f"{w['open_seconds'] * 1000:.0f} ms); to_render_count "
                    f"{w['to_render_count']}, in_background {w['in_background']}: "
                    f"{w['queued']} queued, {w['renders']} rendered in the request",
                    "",
                    None,
                )
            )
    c = p.get("cron")
    if c:
        measure = "PDF format, send cron, invoices without a PDF: render + send per invoice"
        if "timeout" in c:
            rows.append((measure, f"timed out after {c['timeout']} s", "", None))
        else:
            n = c["n"]
            send = [x for x in c["runs"] if x["cron"] == "send"]
            seconds = sum(x["seconds"] for x in send)
            queries = sum(x["queries"] for x in send)
            b = c["breakdown"]["send"]
            render = b.get("wkhtmltopdf", {})
            pdf_s = b.get("pdf (stored or rendered)", {}).get("seconds", 0)
            rows.append(
                (
                    f"PDF format, send cron, {n} invoices without a PDF: render + send per invoice",
                    f"{seconds * 1000 / n:.0f} ms, {queries / n:.0f} queries (PDF "
                    f"{pdf_s * 1000 / n:.0f} ms of which wkhtmltopdf {render.get('calls', 0)}"
                    f" x {render.get('seconds', 0) * 1000 / max(render.get('calls', 0), 1):.0f}"
                    f" ms); {len(send)} run(s), longest "
                    f"{max((x['seconds'] for x in send), default=0):.1f} s (budget "
                    f"{c.get('run_seconds')} s); {c['states']}",
                    "",
                    None,
                )
            )
    return rows


def cron_rows(n, c):
    rows = []
    send_runs = [x for x in c["runs"] if x["cron"] == "send"]
    send = [x for x in send_runs if x["done"]]
    sync_runs = [x for x in c["runs"] if x["cron"] == "sync"]
    sync = [x for x in sync_runs if x["reads"]]
    rows.append(
        (
            f"Crons, {n:,} invoices queued -> sent -> synced: wall s",
            f"{c['wall_s']:.0f} s ({len(send)} send + {len(sync)} sync runs); {c['states']}",
            "all Accepted",
            c["states"] == {"success": n},
            CHECK,
        )
    )
    rows.append(
        (
            f"Crons, {n:,}: peak RSS of the cron process",
            f"{c['peak_rss_mib']:.0f} MiB (at start {c['rss_start_mib']:.0f})",
            f"flat (<= +{GOAL_RSS_GROWTH_MIB} MiB at {TARGET_QUEUE:,})",
            None,
        )
    )
    batches = c.get("send_batches") or [x["done"] for x in send]
    longest = max(send + sync, key=lambda x: x["seconds"], default={"cron": "-", "seconds": 0})
    most_sent = max((x["done"] for x in send), default=0)
    most_read = max((x["reads"] for x in sync), default=0)
    rows.append(
        (
            f"Crons, {n:,}: largest batch, most items in one run; longest run",
            f"send batch {max(batches, default=0)}, {most_sent} invoices/run; sync {most_read}"
            f" imports/run; {longest['cron']} {longest['seconds']:.1f} s (run budget "
            f"{c.get('run_seconds')} s)",
            f"batches <= {c['batch_send']} invoices / {c['batch_sync']} imports",
            max(batches, default=0) <= c["batch_send"]
            and all(x["reads"] <= c["batch_sync"] for x in sync),
        )
    )
    pickup = max(c["pickups"], key=lambda x: x["seconds"], default={"seconds": 0, "runs": 0})
    rows.append(
        (
            f"Crons, {n:,}: longest pickup (_process_jobs)",
            f"{pickup['seconds']:.0f} s ({pickup['runs']} runs; {len(c['pickups'])} pickups)",
            f"<= {GOAL_PICKUP_S} s",
            pickup["seconds"] <= GOAL_PICKUP_S,
        )
    )
    send_s, send_q = (sum(x[k] for x in send_runs) for k in ("seconds", "queries"))
    rows.append(
        (
            f"Crons, {n:,}: send runs, SQL queries per invoice, whole send",
            f"{send_q / n:.1f} ({send_s * 1000 / n:.1f} ms/invoice; {len(batches)} batches in "
            f"{len(send_runs)} runs)",
            f"<= {GOAL_SEND_QUERIES}",
            send_q / n <= GOAL_SEND_QUERIES,
        )
    )
    synced = c.get("invoices_synced") or n
    sync_s, sync_q = (sum(x[k] for x in sync_runs) for k in ("seconds", "queries"))
    reads = sum(x["reads"] for x in sync_runs)
    rows.append(
        (
            f"Crons, {n:,}: status sync, ms per invoice (its runs / invoices synced)",
            f"{sync_s * 1000 / synced:.2f} ms ({sync_s:.1f} s, {len(sync_runs)} runs, "
            f"{len(sync_runs) - len(sync)} reading nothing; {synced:,} invoices, {reads} reads "
            f"of {c.get('imports_synced', c['imports'])} imports)",
            f"<= {GOAL_SYNC_MS:g} ms",
            sync_s * 1000 / synced <= GOAL_SYNC_MS,
        )
    )
    rows.append(
        (
            f"Crons, {n:,}: status sync, SQL queries per invoice",
            f"{sync_q / synced:.2f} ({sync_q:,} queries)",
            f"<= {GOAL_SYNC_QUERIES:g}",
            sync_q / synced <= GOAL_SYNC_QUERIES,
        )
    )
    b = c["breakdown"]
    rows.extend(
        breakdown_rows(f"Crons, {n:,}: send runs", b["send"], SEND_PARTS, n, (send_s, send_q))
    )
    rows.extend(
        breakdown_rows(
            f"Crons, {n:,}: sync runs",
            b["sync"],
            SYNC_PARTS,
            synced,
            (sync_s, sync_q),
            per="per invoice synced",
        )
    )
    expected_uploads = sum(math.ceil(k / c.get("files_per_zip", 500)) for k in batches if k)
    h = c["http"]
    client_reads = sum(x["reads"] for x in c["runs"])
    rows.append(
        (
            f"Crons, {n:,}: HTTP token + uploads; status reads",
            f"{h['token']}+{h['uploads']}; {h['reads']} reads of {c['imports']} imports",
            f"1+{expected_uploads} (a ZIP per batch); 2 per import",
            h["token"] == 1
            and h["uploads"] == expected_uploads == c["imports"]
            and h["reads"] == 2 * c["imports"] == client_reads
            and h["lists"] == 0,
            CHECK,
        )
    )
    return rows


def queue_goal_rows(cron):
    """The goals set for TARGET_QUEUE invoices queued (the pickup's is in cron_rows, at every
    size): not measured when the run did not queue that many."""
    rows = []
    big = cron.get(TARGET_QUEUE)
    measure = f"Crons, {TARGET_QUEUE:,} queued -> all Accepted: wall time"
    goal = f"<= {GOAL_QUEUE_WALL_S} s"
    if big:
        rows.append(
            (
                measure,
                f"{big['wall_s']:.0f} s; {big['states']}",
                goal,
                big["wall_s"] <= GOAL_QUEUE_WALL_S and big["states"] == {"success": TARGET_QUEUE},
            )
        )
    else:
        rows.append(not_measured(measure, goal))
        rows.append(
            not_measured(f"Crons, {TARGET_QUEUE:,}: longest pickup", f"<= {GOAL_PICKUP_S} s")
        )
    small = min(cron, default=None)
    measure = (
        f"Crons, send runs, SQL queries per invoice, constant {small or 0:,} -> {TARGET_QUEUE:,}"
    )
    goal = f"larger <= smaller x {QUERY_GROWTH_TOLERANCE}"
    if big and small != TARGET_QUEUE:
        per_q = {m: send_queries(c) / m for m, c in ((small, cron[small]), (TARGET_QUEUE, big))}
        rows.append(
            (
                measure,
                f"{per_q[small]:.1f} -> {per_q[TARGET_QUEUE]:.1f}",
                goal,
                per_q[TARGET_QUEUE] <= per_q[small] * QUERY_GROWTH_TOLERANCE,
            )
        )
    else:
        rows.append(not_measured(measure, goal, f"--cron-sizes 1000,{TARGET_QUEUE}"))
    measure = f"Crons, peak RSS of the cron process, {small or 0:,} -> {TARGET_QUEUE:,}"
    goal = f"flat: <= +{GOAL_RSS_GROWTH_MIB} MiB"
    if big and small != TARGET_QUEUE:
        low, high = cron[small]["peak_rss_mib"], big["peak_rss_mib"]
        rows.append(
            (
                measure,
                f"{low:.0f} -> {high:.0f} MiB ({high - low:+.0f})",
                goal,
                high - low <= GOAL_RSS_GROWTH_MIB,
            )
        )
    else:
        rows.append(not_measured(measure, goal, f"--cron-sizes 1000,{TARGET_QUEUE}"))
    return rows


def send_queries(c):
    return sum(x["queries"] for x in c["runs"] if x["cron"] == "send")


def int_keys(mapping):
    """JSON object keys back to the sizes they were (results["bulk"][100])."""
    return {int(k) if k.isdigit() else k: v for k, v in mapping.items()}


def print_table(rows, out=sys.stdout):
    headers = ("measure", "value", "goal", "met")
    table = [
        (m, v, g, "info" if ok is None else ("met" if ok else "NOT MET"))
        for m, v, g, ok, *_c in rows
    ]
    write_grid(headers, table, out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bulk-sizes", default="100,1000", help="bulk sends (default 100,1000)")
    parser.add_argument(
        "--cron-sizes", default="1000,10000", help="queue + cron runs (default 1000,10000)"
    )
    parser.add_argument("--export-sample", type=int, default=200, help="documents (200)")
    parser.add_argument("--pdf-sample", type=int, default=5, help="PDFs rendered, each way (5)")
    parser.add_argument("--pdf-stored", type=int, default=20, help="invoices with a stored PDF")
    parser.add_argument(
        "--pdf-wizard",
        type=int,
        default=100,
        help="invoices without a PDF sent through the bulk wizard in PDF (100)",
    )
    parser.add_argument("--pdf-timeout", type=int, default=300, help="seconds per PDF phase")
    parser.add_argument(
        "--jobs", type=int, default=2, help="processes creating the data at once (2)"
    )
    parser.add_argument("--json", help="also write every measure to this file")
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when a performance goal is not met"
    )
    parser.add_argument("--table-from", help="print the table of a --json file, measure nothing")
    odoo = parser.add_argument_group("set by bench_odoo.sh")
    for name in ("--odoo-bin", "--conf", "--addons-path", "--data-dir", "--db", "--log"):
        odoo.add_argument(name)
    internal = parser.add_argument_group("internal")
    internal.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    internal.add_argument("--orders", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        return serve(args)
    if args.table_from:
        results = json.loads(Path(args.table_from).read_text(), object_hook=int_keys)
    elif not (args.odoo_bin and args.db):
        parser.error("run through bench/bench_odoo.sh (make bench-odoo)")
    else:
        results = measure(args)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))
    rows = rows_of(results, args)
    say(f"\nOdoo bench: {results['total_s'] / 60:.1f} min\n")
    print_table(rows)
    missed = [row[0] for row in rows if row[3] is False and (args.strict or CHECK in row[4:])]
    goals = sum(row[3] is False and CHECK not in row[4:] for row in rows)
    if goals:
        say(f"{goals} performance goal(s) not met (exit status 0 unless --strict).")
    for name in missed:
        say(f"FAILED: {name}")
    return 1 if missed else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
