"""Benchmark of the addon inside Odoo 18.0 or 19.0 (`make bench-odoo`, or `make bench`).

    make bench-odoo [BENCH_ODOO_ARGS="--bulk-sizes 100,1000 --cron-sizes 1000,10000"]

bench/bench_odoo.sh creates a fresh database with the addon and calls this script, which
drives every phase in its own `odoo shell` process (bench/bench_odoo_worker.py) against a
SandboxServer running in another process on 127.0.0.1, then prints one table: each measure,
its goal, met or not. The data: a French company (generic chart, 20 / 10 / 5.5 % VAT), buyers
and products, confirmed sale orders of 1-5 lines invoiced and posted in batches, one order in
12 also credited (its credit note is the document sent for that order).

Phases, in order: UBL export of the same documents by our builder and by Odoo's BIS 3; bulk
sends (`cdiscount.sender._send_bulk`) at each --bulk-sizes; PDF: stored PDFs (no render) and
rendered ones, ours and Odoo's Send & Print side by side; then for each --cron-sizes the
documents are reset to "to send", queued, and sent and synced by the real cron runner
(`ir.cron._process_jobs`) in a fresh process whose peak RSS is measured. The sandbox keeps
each import Running for one status read, like a real processing delay; waiting for the sync
(one minute after an upload, then every 15 minutes) is simulated by moving the cron to now.

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

GOAL_EXPORT_RATIO = 1.15
GOAL_SEND_RATIO = 3.0
GOAL_RSS_GROWTH_MIB = 300
QUERY_GROWTH_TOLERANCE = 1.10
CHECK = "check"  # marks a correctness row: the run is wrong, not slow, when it fails
BREAKDOWN = (  # (label, step measured by the worker)
    ("export", "ubl export"),
    ("history", "history + stored files"),
    ("chatter", "chatter"),
    ("commits", "commit"),
)  # "constant": the larger run may not cost more per invoice


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
    pdf_count = 2 * args.pdf_sample + args.pdf_stored if args.pdf_sample or args.pdf_stored else 0
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


def pdf(odoo, args):
    """Stored PDFs are reused (no render); missing ones are rendered, ours and Odoo's.

    wkhtmltopdf loads the report's CSS from Odoo over HTTP, and `odoo shell` serves none: an
    Odoo HTTP server (no cron) runs on a free local port meanwhile, and report.url points to it."""
    n, stored = args.pdf_sample, args.pdf_stored
    out = {"stored": odoo.run("bulk", tag=PDF_TAG, offset=2 * n, count=stored, format="pdf",
                              store_pdfs=True)}  # fmt: skip
    if not n:
        return out
    with odoo.server() as url:
        if url:
            odoo.run("param", key="report.url", value=url)
        timeout = args.pdf_timeout
        out["ours"] = odoo.run("bulk", timeout, tag=PDF_TAG, offset=0, count=n, format="pdf")
        out["odoo"] = odoo.run("odoo_pdf", timeout, tag=PDF_TAG, offset=n, count=n)
        out["http_server"] = bool(url)
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
    per_q = {}
    for n, b in r["bulk"].items():
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
                f"<= {GOAL_SEND_RATIO:g} x",
                ratio <= GOAL_SEND_RATIO,
            )
        )
        rows.append(
            (
                f"Bulk send of {n:,}: where it goes, ms (queries) per invoice",
                ", ".join(
                    f"{label} {b['breakdown'][key]['seconds'] * 1000 / n:.1f} "
                    f"({b['breakdown'][key]['queries'] / n:.1f})"
                    for label, key in BREAKDOWN
                    if key in b["breakdown"]
                ),
                "",
                None,
            )
        )
        per_q[n] = b["queries"] / n
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
    if per_q:
        small, large = min(per_q), max(per_q)
        text = " / ".join(f"{per_q[n]:.1f} (N={n:,})" for n in sorted(per_q))
        rows.append(
            (
                "Bulk send, SQL queries per invoice",
                text,
                "constant",
                per_q[large] <= per_q[small] * QUERY_GROWTH_TOLERANCE if large != small else None,
            )
        )
    if "pdf" in r:
        rows.extend(pdf_rows(r["pdf"]))
    rss = {}
    for n, c in r["cron"].items():
        rows.extend(cron_rows(n, c))
        rss[n] = c["peak_rss_mib"]
    if len(rss) > 1:
        small, large = min(rss), max(rss)
        per_q = {
            n: sum(x["queries"] for x in c["runs"] if x["done"] or x["reads"]) / n
            for n, c in r["cron"].items()
        }
        rows.append(
            (
                f"Crons, SQL queries per invoice, {small:,} -> {large:,}",
                f"{per_q[small]:.1f} -> {per_q[large]:.1f}",
                "constant",
                per_q[large] <= per_q[small] * QUERY_GROWTH_TOLERANCE,
            )
        )
        small, large = min(rss), max(rss)
        growth = rss[large] - rss[small]
        rows.append(
            (
                f"Crons, peak RSS growth {small:,} -> {large:,} invoices",
                f"{rss[small]:.0f} -> {rss[large]:.0f} MiB (+{growth:.0f})",
                f"<= {GOAL_RSS_GROWTH_MIB} MB",
                growth <= GOAL_RSS_GROWTH_MIB,
            )
        )
    return rows


def pdf_rows(p):
    rows = []
    stored = p["stored"]
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
    return rows


def cron_rows(n, c):
    rows = []
    send = [x for x in c["runs"] if x["cron"] == "send" and x["done"]]
    sync = [x for x in c["runs"] if x["cron"] == "sync" and x["reads"]]
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
            f"Crons, {n:,}: peak RSS of the Odoo process",
            f"{c['peak_rss_mib']:.0f} MiB (at start {c['rss_start_mib']:.0f})",
            "flat",
            None,
        )
    )
    busy = send + sync
    longest = max(busy, key=lambda x: x["seconds"]) if busy else {"cron": "-", "seconds": 0}
    within = all(x["done"] <= c["batch_send"] for x in send) and all(
        x["reads"] <= c["batch_sync"] for x in sync
    )
    rows.append(
        (
            f"Crons, {n:,}: most items in one run; longest run",
            f"send {max((x['done'] for x in send), default=0)} invoices, sync "
            f"{max((x['reads'] for x in sync), default=0)} imports; "
            f"{longest['cron']} {longest['seconds']:.1f} s",
            f"one batch per run ({c['batch_send']} / {c['batch_sync']})",
            within,
        )
    )
    pickup = max(c["pickups"], key=lambda x: x["seconds"])
    rows.append(
        (
            f"Crons, {n:,}: longest pickup (_process_jobs: <= 10 runs/job)",
            f"{pickup['seconds']:.0f} s ({pickup['runs']} runs)",
            f"< {c['cron_limit_s']} s (cron worker limit)",
            pickup["seconds"] < c["cron_limit_s"],
        )
    )
    send_q = sum(x["queries"] for x in send) / n
    sync_q = sum(x["queries"] for x in sync) / n
    send_ms = sum(x["seconds"] for x in send) * 1000 / n
    sync_ms = sum(x["seconds"] for x in sync) * 1000 / n
    rows.append(
        (
            f"Crons, {n:,}: per invoice, send / sync",
            f"{send_ms:.1f} / {sync_ms:.1f} ms; {send_q:.1f} / {sync_q:.1f} queries",
            "constant",
            None,
        )
    )
    steps = (("export", "ubl export"), ("chatter", "chatter"), ("file results", "file results"))
    rows.append(
        (
            f"Crons, {n:,}: where it goes, ms (queries) per invoice",
            ", ".join(
                f"{label} {c['breakdown'][key]['seconds'] * 1000 / n:.1f} "
                f"({c['breakdown'][key]['queries'] / n:.1f})"
                for label, key in steps
                if key in c["breakdown"]
            ),
            "",
            None,
        )
    )
    expected_uploads = math.ceil(n / c["batch_send"])  # one ZIP per run of <= 500
    h = c["http"]
    client_reads = sum(x["reads"] for x in c["runs"])
    rows.append(
        (
            f"Crons, {n:,}: HTTP token + uploads; status reads",
            f"{h['token']}+{h['uploads']}; {h['reads']} reads of {c['imports']} imports",
            f"1+{expected_uploads}; 2 per import",
            h["token"] == 1
            and h["uploads"] == expected_uploads == c["imports"]
            and h["reads"] == 2 * c["imports"] == client_reads
            and h["lists"] == 0,
            CHECK,
        )
    )
    return rows


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
