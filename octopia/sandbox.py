"""A local stand-in for Octopia's invoice API: a real HTTP server on 127.0.0.1.

It follows the contract in wire.py (paths, headers, fields, statuses), keeps everything in
memory (sandbox_state.py) and can inject faults -- error statuses, lost answers, slow or
malformed answers -- so the client can be tested over real HTTP. The token endpoint and the API
are served on one host under Octopia's own paths, so a client only swaps the host.

    with SandboxServer() as srv:
        demo = srv.seed_demo()
        srv.inject("status", path="/order-invoice-imports", status=503, retry_after=2)
        srv.inject("slow", path=AUTH_PATH, delay=2)  # faults reach the token endpoint by path
"""

import http
import json
import logging
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP as HTTP_POLICY
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse, urlsplit

from . import wire
from .sandbox_state import (
    AUTH_PATH,
    FAULTS,
    Fault,
    FaultBook,
    Limits,
    SandboxState,
    bulk_part,
    single_file,
)

_logger = logging.getLogger(__name__)

API_PREFIX = urlparse(wire.DEFAULT_API_URL).path.rstrip("/")

DEMO_CLIENT_ID = "demo-client"
DEMO_CLIENT_SECRET = "demo-secret"
DEMO_SELLER_ID = "SELLER-1"
DEMO_ORDERS = tuple(f"CD-{n}" for n in range(1001, 1011))

LIST_DEFAULT_PAGE_SIZE = 50

_ACCEPTABLE = {wire.ACCEPT_JSON, wire.PROBLEM_JSON, "*/*", "application/*"}
_FORM = "application/x-www-form-urlencoded"

__all__ = [
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "DEMO_ORDERS",
    "DEMO_SELLER_ID",
    "FAULTS",
    "SandboxServer",
]


# --- HTTP ----------------------------------------------------------------------------
@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = wire.ACCEPT_JSON
    headers: dict = field(default_factory=dict)


def json_response(status, data, headers=None):
    return Response(status, json.dumps(data).encode(), wire.ACCEPT_JSON, headers or {})


def problem(status, detail, errors=None, headers=None, title=None):
    try:
        title = title or http.HTTPStatus(status).phrase
    except ValueError:
        title = title or "Error"
    body = {
        "type": f"https://httpstatuses.io/{status}",
        wire.PROBLEM_TITLE: title,
        wire.PROBLEM_STATUS: status,
        wire.PROBLEM_DETAIL: detail,
        wire.PROBLEM_TRACE_ID: secrets.token_hex(16),
    }
    if errors:
        body[wire.PROBLEM_ERRORS] = errors
    return Response(status, json.dumps(body).encode(), wire.PROBLEM_JSON, headers or {})


def parse_multipart(content_type, body):
    """[(field name, file name, bytes)], or None when the body is not multipart/form-data."""
    if not content_type.lower().startswith("multipart/form-data"):
        return None
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = BytesParser(policy=HTTP_POLICY).parsebytes(head + body)
    if not message.is_multipart():
        return []
    return [
        (
            part.get_param("name", header="content-disposition"),
            part.get_filename() or "",
            part.get_payload(decode=True) or b"",
        )
        for part in message.iter_parts()
    ]


def _route(template):
    pieces = re.split(r"\{(\w+)\}", template)
    pattern = "".join(
        re.escape(p) if i % 2 == 0 else f"(?P<{p}>[^/]+)" for i, p in enumerate(pieces)
    )
    return re.compile(f"^{pattern}$")


ROUTES = (  # (path pattern relative to the API prefix, {method: handler name})
    (_route(wire.PATH_IMPORTS), {"GET": "list_imports", "POST": "bulk_upload"}),
    (_route(wire.PATH_IMPORT), {"GET": "get_import"}),
    (_route(wire.PATH_ORDER_INVOICE), {"POST": "single_upload"}),
)


def accept_ok(value):
    if not value or not value.strip():
        return True
    for item in value.split(","):
        media, _sep, params = item.partition(";")
        zero = re.search(r"(^|;)\s*q\s*=\s*0(\.0*)?\s*($|;)", params)
        if media.strip().lower() in _ACCEPTABLE and not zero:
            return True
    return False


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "OctopiaSandbox/1.0"
    timeout = 30  # an idle keep-alive connection is closed after this
    disable_nagle_algorithm = True

    def log_message(self, format, *args):
        _logger.debug("sandbox: " + format, *args)

    def do_GET(self):
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    @property
    def sandbox(self):
        return self.server.sandbox

    # --- request cycle
    def _serve(self):
        split = urlsplit(self.path)
        path, self.query = split.path, parse_qs(split.query, keep_blank_values=True)
        self.entry = self.sandbox.record(self.command, path)  # seen, even if never answered
        refusal = self._read_body()
        if refusal:
            self.close_connection = True  # the body was not read: the connection is unusable
            return self._answer(refusal)
        fault = self.sandbox.faults.take(self.command, path)
        kind = fault.kind if fault else ""
        if kind == "drop":
            return self._drop()
        response = self._faulty(fault) if kind in ("status", "malformed", "raw") else None
        if response is None:
            response = self._process(path, fault)
        if kind == "drop_after_accept":
            return self._drop()
        return self._answer(response)

    def _read_body(self):
        """Read the body into self.body; a problem response when it cannot be read."""
        length = self.headers.get("Content-Length") or "0"
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return problem(411, "send a Content-Length, not a chunked body")
        if not length.isdigit():
            return problem(400, "invalid Content-Length")
        if int(length) > self.sandbox.limits.request_bytes:
            return problem(413, f"the request exceeds {self.sandbox.limits.request_bytes} bytes")
        self.body = self.rfile.read(int(length))
        return None

    def _process(self, path, fault):
        kind = fault.kind if fault else ""
        if kind == "expire_token":
            self.sandbox.expire_tokens()
        response = self._handle(path)
        if kind == "slow":
            time.sleep(float(fault.params.get("delay", 1.0)))
        return response

    def _faulty(self, fault):
        params = fault.params
        if fault.kind == "status":
            headers = {}
            if params.get("retry_after") is not None:
                headers[wire.HEADER_RETRY_AFTER] = str(params["retry_after"])
            return problem(
                params["status"],
                params.get("detail", "injected fault"),
                params.get("errors"),
                headers,
            )
        default = 201 if self.command == "POST" else 200
        if fault.kind == "malformed":
            return Response(
                params.get("status", default), params.get("body", b'{"importId": "x", "sta')
            )
        body = params.get("body", b"")
        if not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        return Response(
            params["status"],
            body.encode() if isinstance(body, str) else body,
            params.get("content_type", wire.ACCEPT_JSON),
            dict(params.get("headers") or {}),
        )

    def _drop(self):
        self.close_connection = True  # no answer at all: its status stays None in the log

    def _answer(self, response):
        self.sandbox.record_status(self.entry, response.status)
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(response.body)

    # --- routing and checks
    def _handle(self, path):
        if path == AUTH_PATH:
            return self._token()
        if not path.startswith(API_PREFIX + "/"):
            return problem(404, f"no resource at {path}")
        relative = path[len(API_PREFIX) :]
        for pattern, methods in ROUTES:
            match = pattern.match(relative)
            if match:
                return self._dispatch(methods, match)
        return problem(404, f"no resource at {path}")

    def _dispatch(self, methods, match):
        if self.command not in methods:
            return problem(
                405, f"{self.command} is not allowed here", headers={"Allow": ", ".join(methods)}
            )
        seller_id, refusal = self._authorize()
        if refusal:
            return refusal
        args = {name: unquote(value) for name, value in match.groupdict().items()}
        return getattr(self, methods[self.command])(seller_id, **args)

    def _authorize(self):
        """(seller id, None) or (None, problem response)."""
        scheme, _sep, token = (self.headers.get(wire.HEADER_AUTHORIZATION) or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None, self._unauthorized("a bearer access token is required")
        client_id, why = self.sandbox.state.token_client(token.strip())
        if client_id is None:
            return None, self._unauthorized(why)
        seller_id = (self.headers.get(wire.HEADER_SELLER_ID) or "").strip()
        if not seller_id:
            return None, problem(
                400,
                f"the {wire.HEADER_SELLER_ID} header is missing",
                {wire.HEADER_SELLER_ID: ["required"]},
            )
        if not self.sandbox.state.seller_allowed(client_id, seller_id):
            return None, problem(403, f"these credentials may not act for seller {seller_id}")
        if not accept_ok(self.headers.get(wire.HEADER_ACCEPT)):
            return None, problem(406, f"only {wire.ACCEPT_JSON} can be produced")
        return seller_id, None

    @staticmethod
    def _unauthorized(detail):
        return problem(401, detail, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})

    # --- token endpoint
    def _token(self):
        if self.command != "POST":
            return problem(405, "use POST", headers={"Allow": "POST"})
        if not (self.headers.get("Content-Type") or "").lower().startswith(_FORM):
            return json_response(
                400, {"error": "invalid_request", "error_description": f"expected {_FORM}"}
            )
        form = {k: v[0] for k, v in parse_qs(self.body.decode("utf-8", "replace")).items()}
        if form.get("grant_type") != wire.TOKEN_GRANT_TYPE:
            return json_response(400, {"error": "unsupported_grant_type"})
        token = self.sandbox.state.issue_token(
            form.get("client_id", ""), form.get("client_secret", "")
        )
        if token is None:
            return json_response(
                401, {"error": "invalid_client", "error_description": "invalid client credentials"}
            )
        return json_response(
            200,
            {
                wire.TOKEN_FIELD_ACCESS: token,
                wire.TOKEN_FIELD_EXPIRES: self.sandbox.token_lifetime,
                "token_type": "Bearer",
            },
        )

    # --- API endpoints
    def _parts(self, field_name):
        """([(file name, bytes)], None) or (None, problem response)."""
        parts = parse_multipart(self.headers.get("Content-Type") or "", self.body)
        if parts is None:
            return None, problem(415, "the body must be multipart/form-data")
        found = [(name, data) for key, name, data in parts if key == field_name]
        if not found:
            return None, problem(
                400, f"the multipart part {field_name!r} is missing", {field_name: ["required"]}
            )
        return found, None

    def _created(self, seller_id, files):
        report = self.sandbox.state.create_import(seller_id, files)
        location = API_PREFIX + wire.import_path(report[wire.REPORT_IMPORT_ID])
        return json_response(201, report, {"Location": location})

    def single_upload(self, seller_id, order_id):
        found, refusal = self._parts(wire.FIELD_SINGLE_FILE)
        if refusal:
            return refusal
        if len(found) > 1:
            return problem(
                400,
                "send exactly one file",
                {wire.FIELD_SINGLE_FILE: ["exactly one file is expected"]},
            )
        name, data = found[0]
        return self._created(seller_id, single_file(order_id, name, data, self.sandbox.limits))

    def bulk_upload(self, seller_id):
        found, refusal = self._parts(wire.FIELD_BULK_FILES)
        if refusal:
            return refusal
        files = [f for name, data in found for f in bulk_part(name, data, self.sandbox.limits)]
        return self._created(seller_id, files)

    def get_import(self, seller_id, import_id):
        report = self.sandbox.state.read_import(seller_id, import_id)
        if report is None:
            return problem(404, f"no import {import_id} for seller {seller_id}")
        return json_response(200, report)

    def list_imports(self, seller_id):
        try:
            index = int(self._query(wire.LIST_PAGE_INDEX, "1"))
            size = int(self._query(wire.LIST_PAGE_SIZE, str(LIST_DEFAULT_PAGE_SIZE)))
        except ValueError:
            index = size = 0
        if index < 1 or not 1 <= size <= wire.LIST_MAX_PAGE_SIZE:
            return problem(
                400,
                "invalid paging",
                {
                    wire.LIST_PAGE_INDEX: ["an integer from 1"],
                    wire.LIST_PAGE_SIZE: [f"an integer from 1 to {wire.LIST_MAX_PAGE_SIZE}"],
                },
            )
        order_id = self._query(wire.LIST_FILTER_ORDER_ID, None)
        if self.sandbox.ignore_order_filter:
            order_id = None  # as a server that does not know the filter: the whole list
        reports = self.sandbox.state.list_imports(seller_id, order_id)
        page = reports[(index - 1) * size : index * size]
        return json_response(200, {wire.LIST_ITEMS: page, wire.LIST_TOTAL: len(reports)})

    def _query(self, name, default):
        values = self.query.get(name)
        return values[0] if values else default


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        _logger.debug("sandbox: connection error with %s", client_address, exc_info=True)


# --- Public facade -------------------------------------------------------------------
class SandboxServer:
    """Start with `start()` (returns self) or as a context manager; see the module doc."""

    def __init__(
        self,
        host="127.0.0.1",
        port=0,
        running_polls=1,
        running_seconds=0.0,
        token_lifetime=wire.TOKEN_DEFAULT_LIFETIME,
        *,
        max_file_bytes=wire.MAX_FILE_BYTES,
        max_request_bytes=wire.MAX_REQUEST_BYTES,
        max_files_per_zip=wire.MAX_FILES_PER_ZIP,
        ignore_order_filter=False,
    ):
        self.host, self.port = host, port
        self.ignore_order_filter = ignore_order_filter
        self.state = SandboxState(running_polls, running_seconds, token_lifetime)
        self.faults = FaultBook()
        self.limits = Limits(max_file_bytes, max_request_bytes, max_files_per_zip)
        self.requests = []  # (method, path without query, status; None: not answered)
        self._httpd = self._thread = None

    # --- life cycle
    def start(self):
        if self._httpd is None:
            self._httpd = _HTTPServer((self.host, self.port), _Handler)
            self._httpd.sandbox = self
            self.port = self._httpd.server_address[1]
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="octopia-sandbox",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self):
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
            self._thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def base_url(self):
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        return f"http://{host}:{self.port}"

    @property
    def api_url(self):
        return self.base_url + API_PREFIX

    @property
    def auth_url(self):
        return self.base_url + AUTH_PATH

    @property
    def clock(self):
        """A callable -> aware datetime, read when an import is made and when it is processed
        (set it to date imports in the past or the future; the list is sorted by it)."""
        return self.state.clock

    @clock.setter
    def clock(self, now):
        self.state.clock = now

    @property
    def token_lifetime(self):
        return self.state.token_lifetime

    @token_lifetime.setter
    def token_lifetime(self, seconds):
        self.state.token_lifetime = seconds

    # --- seeding
    def add_client(self, client_id, client_secret, seller_ids):
        sellers = {seller_ids} if isinstance(seller_ids, str) else set(seller_ids)
        with self.state.lock:
            self.state.clients[client_id] = (client_secret, sellers)

    def add_orders(self, seller_id, order_ids):
        orders = {order_ids} if isinstance(order_ids, str) else set(order_ids)
        with self.state.lock:
            self.state.orders.setdefault(seller_id, set()).update(orders)

    def seed_demo(self):
        """The demo client, seller and orders (idempotent)."""
        self.add_client(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, [DEMO_SELLER_ID])
        self.add_orders(DEMO_SELLER_ID, DEMO_ORDERS)
        return {
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
            "seller_id": DEMO_SELLER_ID,
            "orders": list(DEMO_ORDERS),
        }

    # --- knobs
    def inject(self, fault, times=1, method=None, path=None, **params):
        self.faults.add(Fault(fault, times, method, path, params))

    def clear_faults(self):
        self.faults.clear()

    def set_running(self, polls=None, seconds=None, import_id=None):
        """How long imports stay Running: new imports, or one existing import by id."""
        with self.state.lock:
            target = self.state.imports[import_id] if import_id else self.state
            if polls is not None:
                target.running_polls = polls
            if seconds is not None:
                target.running_seconds = seconds

    def expire_tokens(self):
        self.state.expire_tokens()

    def reset(self):
        """Forget imports, invoices, tokens, faults and the request log; keep clients, orders."""
        self.state.reset()
        self.faults.clear()
        with self.state.lock:
            self.requests.clear()

    # --- observation
    def record(self, method, path):
        """Log a request on arrival; its status stays None until it is answered."""
        entry = (method, path, None)
        with self.state.lock:
            self.requests.append(entry)
        return entry

    def record_status(self, entry, status):
        with self.state.lock:
            for index in range(len(self.requests) - 1, -1, -1):
                if self.requests[index] is entry:  # gone after a reset: nothing to do
                    self.requests[index] = (*entry[:2], status)
                    return

    def request_count(self, method=None, path_prefix=None):
        """Requests seen; `path_prefix` matches the full path or the path under the API."""

        def hit(path):
            return (
                path_prefix is None
                or path.startswith(path_prefix)
                or (path.startswith(API_PREFIX) and path[len(API_PREFIX) :].startswith(path_prefix))
            )

        with self.state.lock:
            return sum(
                1
                for m, p, _s in self.requests
                if (method is None or m == method.upper()) and hit(p)
            )

    def get_import(self, seller_id, import_id):
        with self.state.lock:
            imp = self.state.find(seller_id, import_id)
            if imp is None:
                raise KeyError(import_id)
            return imp.to_wire()

    def imports_of(self, seller_id):
        """Reports of the seller's imports, oldest first (no read is counted)."""
        with self.state.lock:
            return [i.to_wire() for i in self.state.imports.values() if i.seller_id == seller_id]

    def invoice_history(self, seller_id, order_id):
        with self.state.lock:
            return [dict(e) for e in self.state.history.get((seller_id, order_id), [])]

    def current_invoice(self, seller_id, order_id):
        """Replace rule: the latest uploaded file that succeeded is the order's invoice."""
        done = [
            e
            for e in self.invoice_history(seller_id, order_id)
            if e["status"] == wire.STATUS_SUCCESS
        ]
        return done[-1] if done else None
