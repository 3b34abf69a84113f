"""`make demo`: the whole upload flow against an embedded sandbox, end to end over HTTP."""

import sys
import tempfile
from pathlib import Path

from . import bundle, samples, wire
from .client import OctopiaClient
from .console import emit, progress
from .errors import BundleError
from .sandbox import SandboxServer

UNKNOWN_ORDER = "CD-9999"  # locally valid, but Octopia knows no such order: it must fail


def _write_samples(folder, orders):
    """One UBL invoice, one PDF, one credit note and one invoice for an unknown order."""
    documents = {
        f"{orders[0]}.xml": samples.ubl_invoice(orders[0], number="INV/2026/0001"),
        f"{orders[1]}.pdf": samples.pdf_invoice(orders[1]),
        f"{orders[2]}.xml": samples.ubl_invoice(orders[2], number="INV/2026/0003"),
        f"{UNKNOWN_ORDER}.xml": samples.ubl_invoice(UNKNOWN_ORDER, number="INV/2026/0004"),
    }
    for name, data in documents.items():
        (folder / name).write_bytes(data)
    return sorted(folder / name for name in documents)


def _refused_locally(folder, out):
    """A file that lies about its format is refused before anything is sent."""
    path = folder / "CD-1005.pdf"
    path.write_bytes(samples.bad_pdf("CD-1005"))
    try:
        bundle.files_from_paths([str(path)])
    except BundleError as exc:
        out.write(f"Refused locally, nothing sent: {exc}\n\n")
        return True
    return False


def _check(reports):
    files = [f for r in reports for f in r.files]
    failed = [f for f in files if f.status == wire.STATUS_FAILURE]
    ok = [f for f in files if f.status == wire.STATUS_SUCCESS]
    return (
        len(failed) == 1
        and failed[0].order_id == UNKNOWN_ORDER
        and len(ok) == len(files) - 1
        and all(r.is_final for r in reports)
    )


def run_demo(as_json=False, out=None):
    out = out or sys.stdout
    with SandboxServer(running_polls=2) as server, tempfile.TemporaryDirectory() as tmp:
        demo = server.seed_demo()
        client = OctopiaClient(
            seller_id=demo["seller_id"],
            client_id=demo["client_id"],
            client_secret=demo["client_secret"],
            api_url=server.api_url,
            auth_url=server.auth_url,
        )
        out.write(f"Octopia sandbox on {server.api_url}, seller {demo['seller_id']}\n\n")
        folder = Path(tmp)
        refused = _refused_locally(folder, out)
        first, *rest = _write_samples(folder, demo["orders"])
        order_id = wire.order_id_from_file_name(first.name)
        reports = [
            client.upload_order_invoice(order_id, bundle.make_file(order_id, path=str(first)))
        ]
        files = bundle.files_from_paths([str(p) for p in rest])
        reports += [client.upload_bulk([path]) for path, _ in bundle.iter_zips(files)]
        out.write("Uploaded: " + ", ".join(f"{r.import_id} ({r.status})" for r in reports) + "\n")
        finals = [
            client.wait_for_import(r.import_id, timeout=30, interval=0.2, on_progress=progress)
            for r in reports
        ]
        out.write("\n")
        emit(finals, as_json, out)
        good = refused and _check(finals)
        out.write(
            "\nDemo "
            + (
                "OK: one file failed as expected, the rest succeeded.\n"
                if good
                else "FAILED: unexpected results.\n"
            )
        )
        return 0 if good else 1
