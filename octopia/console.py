"""What the CLI and the demo print: tables, import reports (text or JSON), progress."""

import json
import sys

from . import wire


def format_table(rows, headers):
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=True)]
    lines = ["  ".join(str(h).ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(line.rstrip() for line in lines)


def format_report(report):
    head = f"Import {report.import_id}: {report.status or '?'}"
    if not report.files:
        return head + " (no file results yet)"
    rows = [
        (f.order_id, f.file_name, f.status, f.integration_status, f.error_text)
        for f in report.files
    ]
    return head + "\n" + format_table(rows, ("order", "file", "status", "step", "error"))


def emit(reports, as_json, out=None, single=None):
    """Print reports; as JSON, one object when `single` (default: one report), else a list."""
    out = out or sys.stdout
    if as_json:
        data = [wire.report_to_wire(r) for r in reports]
        single = len(data) == 1 if single is None else single
        out.write(json.dumps(data[0] if single else data, indent=2) + "\n")
    else:
        out.write("\n\n".join(format_report(r) for r in reports) + "\n")


def progress(report, stream=None):
    stream = stream or sys.stderr
    done = sum(1 for f in report.files if f.status != wire.STATUS_RUNNING)
    text = (
        f"waiting for import {report.import_id}: {report.status} "
        f"({done}/{len(report.files)} files processed)"
    )
    end = "\r" if stream.isatty() else "\n"
    stream.write(text + end)
    stream.flush()
