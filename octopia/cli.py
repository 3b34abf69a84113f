"""`python -m octopia`: talk to Octopia (or the local sandbox) from a terminal."""
# pylint: disable=print-used

import argparse
import getpass
import json
import os
import sys
import time

from . import bundle, wire
from .client import OctopiaClient
from .console import emit, format_table, progress
from .errors import OctopiaError

SECRET_ENV = "OCTOPIA_CLIENT_SECRET"
ENV = {
    "client_id": "OCTOPIA_CLIENT_ID",
    "client_secret": SECRET_ENV,
    "seller_id": "OCTOPIA_SELLER_ID",
    "api_url": "OCTOPIA_API_URL",
    "auth_url": "OCTOPIA_AUTH_URL",
}
# Settings that may be options too. Never the secret: the arguments of a process are visible
# to every user of the machine (ps, /proc/<pid>/cmdline).
OPTIONS = ("client_id", "seller_id", "api_url", "auth_url")
SECRET_FLAGS = ("--client-secret", "--client_secret", "--secret")
SECRET_PROMPT = "Octopia client secret: "


class _RefuseSecretFlag(argparse.Action):
    """A secret given as an option: refused (its value is never repeated)."""

    def __call__(self, parser, namespace, values, option_string=None):
        parser.error(
            "the client secret is not accepted as an option (other users of this machine can "
            f"read a command line): set {SECRET_ENV} in the environment instead, or leave it "
            "unset to be asked for it at the terminal"
        )


def _add_common(parser, defaults=True):
    """The options every command takes, before or after the command name.

    Under a command their default is SUPPRESS, so that they do not overwrite a value
    given before the command name."""

    def default(value):
        return value if defaults else argparse.SUPPRESS

    for name in OPTIONS:
        parser.add_argument(
            f"--{name.replace('_', '-')}",
            dest=name,
            default=default(None),
            help=f"default: ${ENV[name]}",
        )
    parser.add_argument(
        *SECRET_FLAGS,
        dest="secret_flag",
        nargs="?",
        action=_RefuseSecretFlag,
        default=argparse.SUPPRESS,
        help=argparse.SUPPRESS,
    )
    parser.add_argument(
        "--json",
        action="store_true",
        default=default(False),
        help="print import reports as JSON with Octopia's field names",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=default(300.0),
        help="seconds --wait may poll (default 300)",
    )


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m octopia",
        description="Upload Cdiscount invoices to Octopia and follow their imports.",
    )
    _add_common(parser)
    common = argparse.ArgumentParser(add_help=False)
    _add_common(common, defaults=False)
    sub = parser.add_subparsers(dest="command", required=True)
    _add_sandbox(sub)
    sub.add_parser("demo", parents=[common], help="run the whole flow against an embedded sandbox")
    up = sub.add_parser("upload", parents=[common], help="upload the invoice of one order")
    up.add_argument("order_id")
    up.add_argument("file")
    up.add_argument("--wait", action="store_true", help="poll until the import is final")
    bulk = sub.add_parser(
        "bulk", parents=[common], help="upload <orderId>.pdf|.xml files (or one ZIP)"
    )
    bulk.add_argument("files", nargs="+")
    bulk.add_argument("--wait", action="store_true")
    bulk.add_argument("--max-files", type=int, default=wire.MAX_FILES_PER_ZIP)
    bulk.add_argument("--max-bytes", type=int, default=wire.MAX_REQUEST_BYTES)
    status = sub.add_parser("status", parents=[common], help="show one import")
    status.add_argument("import_id")
    status.add_argument("--wait", action="store_true")
    imports = sub.add_parser("imports", parents=[common], help="list imports, newest first")
    imports.add_argument("--page", type=int, default=1)
    imports.add_argument("--page-size", type=int, default=20)
    imports.add_argument("--order", help="only imports holding this order id")
    return parser


def _add_sandbox(sub):
    sandbox = sub.add_parser("sandbox", help="serve the local Octopia sandbox")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8765)
    sandbox.add_argument(
        "--running-polls", type=int, default=1, help="reads an import stays Running (default 1)"
    )


def read_secret(stdin=None):
    """The client secret: $OCTOPIA_CLIENT_SECRET, else typed at a prompt when stdin is a
    terminal (not echoed), else ""."""
    secret = os.environ.get(SECRET_ENV)
    if secret:
        return secret
    stdin = sys.stdin if stdin is None else stdin
    if stdin is not None and stdin.isatty():
        try:
            return getpass.getpass(SECRET_PROMPT)
        except EOFError:  # Ctrl-D: nothing typed
            return ""
    return ""


def make_client(args):
    values = {name: getattr(args, name, None) or os.environ.get(ENV[name]) for name in OPTIONS}
    missing = [
        f"--{n.replace('_', '-')} / ${ENV[n]}" for n in ("client_id", "seller_id") if not values[n]
    ]
    # Asked only when nothing else is missing: no prompt before an error.
    values["client_secret"] = os.environ.get(SECRET_ENV) if missing else read_secret()
    if not values["client_secret"]:
        missing.insert(1, f"${SECRET_ENV} (or type it at the prompt, from a terminal)")
    if missing:
        raise OctopiaError("Missing settings: " + ", ".join(missing))
    values["api_url"] = values["api_url"] or wire.DEFAULT_API_URL
    values["auth_url"] = values["auth_url"] or wire.DEFAULT_AUTH_URL
    return OctopiaClient(**values)


# --- commands -----------------------------------------------------------------------
def wait_all(client, reports, timeout):
    return [
        client.wait_for_import(r.import_id, timeout=timeout, on_progress=progress) for r in reports
    ]


def cmd_upload(args):
    client = make_client(args)
    # A .pdf/.xml name claims a kind: content of another kind is refused, as in bulk.
    kind = bundle.KIND_BY_EXT.get(os.path.splitext(args.file)[1].lower())
    file = bundle.make_file(args.order_id, path=args.file, kind=kind)
    reports = [client.upload_order_invoice(args.order_id, file)]
    return wait_all(client, reports, args.timeout) if args.wait else reports


def cmd_bulk(args):
    client = make_client(args)
    selection = bundle.files_from_paths(args.files)  # a single ZIP comes back as its path
    reports = []
    try:
        if isinstance(selection, str):
            reports.append(client.upload_bulk([selection]))
        else:
            with bundle.iter_zips(selection, args.max_files, args.max_bytes) as zips:
                for path, _orders in zips:
                    reports.append(client.upload_bulk([path]))
    except OctopiaError:
        if reports:  # say what was accepted before the failure, so nothing is re-sent blindly
            print("Accepted before the error:", file=sys.stderr)
            emit(reports, args.json, sys.stderr, single=False)
        raise
    return wait_all(client, reports, args.timeout) if args.wait else reports


def cmd_status(args):
    client = make_client(args)
    if args.wait:
        return wait_all(client, [client.get_import(args.import_id)], args.timeout)
    return [client.get_import(args.import_id)]


def cmd_imports(args):
    reports, total = make_client(args).list_imports(args.page, args.page_size, args.order)
    if args.json:  # always a list page, with Octopia's field names
        page = {wire.LIST_ITEMS: [wire.report_to_wire(r) for r in reports], wire.LIST_TOTAL: total}
        print(json.dumps(page, indent=2))
    else:
        rows = [(r.import_id, r.status, len(r.files), r.created_at_text) for r in reports]
        print(format_table(rows, ("import", "status", "files", "created")))
        print(f"{len(reports)} of {total} imports")


def cmd_sandbox(args):
    from .sandbox import SandboxServer  # noqa: PLC0415 (only this command serves)

    server = SandboxServer(host=args.host, port=args.port, running_polls=args.running_polls)
    server.start()
    demo = server.seed_demo()
    print(f"Octopia sandbox on {server.api_url}")
    print(f"  export OCTOPIA_API_URL={server.api_url}")
    print(f"  export OCTOPIA_AUTH_URL={server.auth_url}")
    print(
        f"  export OCTOPIA_CLIENT_ID={demo['client_id']} "
        f"OCTOPIA_CLIENT_SECRET={demo['client_secret']} "
        f"OCTOPIA_SELLER_ID={demo['seller_id']}"
    )
    print("  known orders: " + ", ".join(demo["orders"]))
    print("Ctrl-C to stop.", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


def cmd_demo(args):
    from .demo import run_demo  # noqa: PLC0415 (only this command runs the embedded sandbox)

    return run_demo(as_json=args.json)


COMMANDS = {
    "upload": cmd_upload,
    "bulk": cmd_bulk,
    "status": cmd_status,
    "imports": cmd_imports,
    "sandbox": cmd_sandbox,
    "demo": cmd_demo,
}


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        result = COMMANDS[args.command](args)
    except OctopiaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {exc.strerror or exc}: {exc.filename or ''}", file=sys.stderr)
        return 1
    if isinstance(result, int):
        return result
    if result:
        # upload and status show one import (a JSON object); bulk may make several (a list)
        emit(result, args.json, single=args.command != "bulk")
    return 0
