"""Benchmark of the Octopia core: validate, bundle and upload N invoice files (`make bench`).

    .venv/bin/python bench/bench_core.py [--sizes 100,1000,10000]

Half of the files are ~300 KB PDFs, half ~10 KB UBL invoices, written once to a temporary
folder. For each N a fresh client process builds InvoiceFiles from the paths
(bundle.files_from_paths), writes the ZIPs one at a time under the default limits
(bundle.iter_zips: 500 files / 50 MiB) and uploads each with OctopiaClient.upload_bulk to a
SandboxServer running in another process, so that the peak RSS measured is the client's alone.

The sandbox process is the stock SandboxServer with two bench-only changes: each import is
checked as soon as it is created and then forgets the uploaded bytes (the sandbox otherwise keeps
every upload in memory until it is read), and multipart bodies are split with a plain byte
search instead of the standard library's email parser (about 12 MB/s, which would make the
sandbox, not the client, the bottleneck). `--faithful-sandbox` keeps the email parser.
"""

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from octopia import bundle, samples, wire  # noqa: E402
from octopia import sandbox as sandbox_module  # noqa: E402
from octopia.client import OctopiaClient  # noqa: E402
from octopia.sandbox import (  # noqa: E402
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_SELLER_ID,
    SandboxServer,
)

DEFAULT_SIZES = (100, 1_000, 10_000)
PDF_BYTES = 300_000
TEMPLATE_ORDER = "CD-0000000"  # every order id has this length: substituting keeps offsets
UBL_LINES = tuple(
    (f"Article {n:02d} - description longue du produit", 1 + n % 3, f"{(n * 7) % 90 + 1}.99", 20)
    for n in range(12)
)  # ~10 KB of UBL
MIB = 1024 * 1024


def order_id(index):
    return f"CD-{index:07d}"


def file_name(index):
    """Even indexes are PDFs, odd ones UBL invoices: any first N files are half and half."""
    return order_id(index) + (wire.EXT_PDF if index % 2 == 0 else wire.EXT_XML)


def peak_rss_mib(who=resource.RUSAGE_SELF):
    return resource.getrusage(who).ru_maxrss / 1024  # KiB on Linux


# --- sample files ------------------------------------------------------------------
def write_samples(folder, count):
    """`count` files named <orderId>.pdf|.xml. Each is the template of its kind with the
    order id substituted (same length, so the PDF's xref offsets and /Length stay right):
    byte for byte what samples.pdf_invoice / ubl_invoice give for that order."""
    templates = {
        wire.EXT_PDF: samples.pdf_invoice(TEMPLATE_ORDER, size=PDF_BYTES),
        wire.EXT_XML: samples.ubl_invoice(
            TEMPLATE_ORDER, number=f"INV/2026/{TEMPLATE_ORDER}", lines=UBL_LINES
        ),
    }
    assert templates[wire.EXT_PDF].count(TEMPLATE_ORDER.encode()) == 1
    probe = order_id(1)
    assert samples.pdf_invoice(probe, size=PDF_BYTES) == templates[wire.EXT_PDF].replace(
        TEMPLATE_ORDER.encode(), probe.encode()
    )
    total = 0
    for index in range(count):
        name = file_name(index)
        data = templates[name[-4:]].replace(TEMPLATE_ORDER.encode(), order_id(index).encode())
        (folder / name).write_bytes(data)
        total += len(data)
    return total


# --- the sandbox process -------------------------------------------------------------
def split_multipart(content_type, body):
    """[(field, file name, bytes)] of a multipart/form-data body (the shape requests sends)."""
    if not content_type.lower().startswith("multipart/form-data"):
        return None
    found = re.search(r'boundary="?([^";]+)"?', content_type)
    if not found:
        return []
    parts = []
    for chunk in body.split(b"--" + found.group(1).encode("latin-1"))[1:]:
        if chunk.startswith(b"--"):
            break
        head, _sep, data = chunk.partition(b"\r\n\r\n")
        head = head.decode("latin-1")
        name = re.search(r'[;\s]name="([^"]*)"', head)
        filename = re.search(r'filename="([^"]*)"', head)
        parts.append(
            (
                name.group(1) if name else None,
                filename.group(1) if filename else "",
                data[:-2] if data.endswith(b"\r\n") else data,
            )
        )
    return parts


def serve(args):
    """Run a sandbox; print its URLs, wait for stdin to close, print its statistics."""
    if not args.faithful_sandbox:
        sandbox_module.parse_multipart = split_multipart
    server = SandboxServer(running_polls=0).start()
    server.seed_demo()
    server.add_orders(DEMO_SELLER_ID, [order_id(i) for i in range(args.orders)])
    state, create = server.state, server.state.create_import

    def create_and_settle(seller_id, files):
        report = create(seller_id, files)  # the 201 answer: Running
        with state.lock:
            imp = state.imports[report[wire.REPORT_IMPORT_ID]]
            imp.finalise(state.orders.get(seller_id, set()))  # Octopia's checks, now
            for pending in imp.files:
                pending.content = b""  # keep the results, not the bytes
        return report

    state.create_import = create_and_settle
    print(json.dumps({"api_url": server.api_url, "auth_url": server.auth_url}), flush=True)
    sys.stdin.read()
    files = [f for imp in server.imports_of(DEMO_SELLER_ID) for f in imp[wire.REPORT_FILES]]
    print(
        json.dumps(
            {
                "requests": server.request_count(),
                "token_requests": server.request_count("POST", "/auth/"),
                "uploads": server.request_count("POST", wire.PATH_IMPORTS),
                "statuses": sorted({s for _m, _p, s in server.requests}, key=str),
                "files": len(files),
                "files_ok": sum(f[wire.FILE_STATUS] == wire.STATUS_SUCCESS for f in files),
                "first_error": next((f for f in files if f[wire.FILE_ERRORS]), None),
                "rss_mib": peak_rss_mib(),
            }
        ),
        flush=True,
    )
    server.stop()


# --- the client process --------------------------------------------------------------
def work(args):
    """Validate, bundle and upload the first N files; print the measures as JSON."""
    folder = Path(args.folder)
    paths = [str(folder / file_name(i)) for i in range(args.n)]
    counts = {"token": 0, "upload": 0, "other": 0}

    def count(response, *_args, **_kwargs):
        url = response.request.url
        if url == args.auth_url:
            counts["token"] += 1
        else:
            counts["upload" if wire.PATH_IMPORTS in url else "other"] += 1

    session = requests.Session()
    session.hooks["response"].append(count)
    client = OctopiaClient(
        seller_id=DEMO_SELLER_ID,
        client_id=DEMO_CLIENT_ID,
        client_secret=DEMO_CLIENT_SECRET,
        api_url=args.api_url,
        auth_url=args.auth_url,
        session=session,
    )
    start = time.perf_counter()
    files = bundle.files_from_paths(paths)
    validated = time.perf_counter()
    zip_s = upload_s = 0.0
    zips, zip_bytes, largest, imports = 0, 0, 0, []
    with (
        tempfile.TemporaryDirectory(prefix="octopia-bench-zips-") as zip_dir,
        bundle.iter_zips(files, directory=zip_dir) as stream,
    ):
        while True:
            t0 = time.perf_counter()
            try:
                path, _orders = next(stream)  # writes the next ZIP, deletes the previous one
            except StopIteration:
                break
            t1 = time.perf_counter()
            size = os.path.getsize(path)
            imports.append(client.upload_bulk([path]).import_id)
            upload_s += time.perf_counter() - t1
            zip_s += t1 - t0
            zips, zip_bytes, largest = zips + 1, zip_bytes + size, max(largest, size)
    done = time.perf_counter()
    print(
        json.dumps(
            {
                "n": args.n,
                "file_bytes": sum(f.size for f in files),
                "validate_s": validated - start,
                "zip_s": zip_s,
                "upload_s": upload_s,
                "total_s": done - start,
                "zips": zips,
                "zip_bytes": zip_bytes,
                "largest_zip": largest,
                "imports": len(set(imports)),
                "requests": counts,
                "rss_mib": peak_rss_mib(),
                "children_rss_mib": peak_rss_mib(resource.RUSAGE_CHILDREN),
            }
        ),
        flush=True,
    )


# --- the orchestrator ------------------------------------------------------------------
def run_size(n, folder, script, faithful):
    python = [sys.executable, str(script)]
    server = subprocess.Popen(
        [*python, "--serve", "--orders", str(n), *(["--faithful-sandbox"] if faithful else [])],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        urls = json.loads(server.stdout.readline())
        urls = ["--api-url", urls["api_url"], "--auth-url", urls["auth_url"]]
        done = subprocess.run(
            [*python, "--work", "--n", str(n), "--folder", str(folder), *urls],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            raise SystemExit(f"N={n}: the client failed:\n{done.stderr}")
        server.stdin.close()
        sandbox = json.loads(server.stdout.readline())
    finally:
        if server.stdin and not server.stdin.closed:
            server.stdin.close()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    client = json.loads(done.stdout)
    client["sandbox"] = sandbox
    return client


def print_table(rows, out=sys.stdout):
    headers = (
        "N",
        "files MiB",
        "validate s",
        "zip s",
        "upload s",
        "total s",
        "ZIPs",
        "HTTP (token+uploads)",
        "client peak RSS MiB",
        "sandbox peak RSS MiB",
    )
    table = [
        (
            f"{r['n']:,}",
            f"{r['file_bytes'] / MIB:,.0f}",
            f"{r['validate_s']:.1f}",
            f"{r['zip_s']:.1f}",
            f"{r['upload_s']:.1f}",
            f"{r['total_s']:.1f}",
            str(r["zips"]),
            f"{sum(r['requests'].values())} ({r['requests']['token']}+{r['requests']['upload']})",
            f"{r['rss_mib']:.0f}",
            f"{r['sandbox']['rss_mib']:.0f}",
        )
        for r in rows
    ]
    write_grid(headers, table, out, align=str.rjust)


def write_grid(headers, table, out, align=str.ljust):
    """An RST grid table of strings: headers left-aligned, values by `align` (bench_odoo too)."""
    widths = [max(len(x) for x in col) for col in zip(headers, *table, strict=True)]
    line = "+".join("-" * (w + 2) for w in widths)
    out.write(f"+{line}+\n")
    out.write("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |\n")
    out.write(f"+{line.replace('-', '=')}+\n")
    for row in table:
        out.write("| " + " | ".join(align(v, w) for v, w in zip(row, widths, strict=True)) + " |\n")
        out.write(f"+{line}+\n")


def check(row):
    """The numbers only count if every file arrived and passed the sandbox's checks."""
    sandbox, n = row["sandbox"], row["n"]
    problems = []
    if sandbox["files"] != n or sandbox["files_ok"] != n:
        problems.append(f"{sandbox['files_ok']} of {n} files accepted ({sandbox['first_error']})")
    if row["requests"]["other"] or sandbox["requests"] != sum(row["requests"].values()):
        problems.append(f"requests: client {row['requests']}, sandbox {sandbox['requests']}")
    if row["imports"] != row["zips"] or sandbox["statuses"] not in ([200, 201], [201, 200]):
        problems.append(f"imports {row['imports']}, statuses {sandbox['statuses']}")
    return problems


def orchestrate(args):
    sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    if not sizes or sizes[0] < 1:
        raise SystemExit("--sizes: positive integers, e.g. 100,1000")
    work_dir = Path(tempfile.mkdtemp(prefix="octopia-bench-"))
    try:
        started = time.perf_counter()
        total = write_samples(work_dir, sizes[-1])
        print(
            f"Wrote {sizes[-1]:,} sample files ({total / MIB:,.0f} MiB, half ~{PDF_BYTES // 1000}"
            f" KB PDFs, half ~10 KB UBL) in {time.perf_counter() - started:.1f} s to {work_dir}",
            flush=True,
        )
        rows = []
        for n in sizes:
            row = run_size(n, work_dir, Path(__file__).resolve(), args.faithful_sandbox)
            rows.append(row)
            print(
                f"  N={n:,}: {row['total_s']:.1f} s, largest ZIP {row['largest_zip'] / MIB:.1f}"
                f" MiB, {row['sandbox']['files_ok']:,}/{n:,} files accepted by the sandbox",
                flush=True,
            )
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    print()
    print_table(rows)
    problems = [f"N={r['n']}: {p}" for r in rows for p in check(r)]
    for problem in problems:
        print("PROBLEM " + problem)
    return 1 if problems else 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default=",".join(str(s) for s in DEFAULT_SIZES),
        help="comma-separated numbers of files (default 100,1000,10000)",
    )
    parser.add_argument(
        "--faithful-sandbox",
        action="store_true",
        help="parse uploads with the sandbox's own (slow) email-based multipart parser",
    )
    internal = parser.add_argument_group("internal (one process per role)")
    internal.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    internal.add_argument("--orders", type=int, default=0, help=argparse.SUPPRESS)
    internal.add_argument("--work", action="store_true", help=argparse.SUPPRESS)
    internal.add_argument("--n", type=int, help=argparse.SUPPRESS)
    internal.add_argument("--folder", help=argparse.SUPPRESS)
    internal.add_argument("--api-url", help=argparse.SUPPRESS)
    internal.add_argument("--auth-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        return serve(args)
    if args.work:
        return work(args)
    return orchestrate(args)


if __name__ == "__main__":
    sys.exit(main())
