"""The sandbox's in-memory model: documents and their checks, imports, tokens, faults.

Used by sandbox.py (the HTTP side). Sandbox choices where Octopia is silent are ASSUMED: the
per-file error codes below, and "an import stays Running for `running_polls` reads by id,
then is finalised": the checks run then, in Octopia's order (order check, then file check).
"""

import hashlib
import io
import re
import secrets
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urlparse

from lxml import etree

from . import wire

AUTH_PATH = urlparse(wire.DEFAULT_AUTH_URL).path

FAULTS = ("status", "expire_token", "slow", "drop", "drop_after_accept", "malformed", "raw")

# Per-file error codes of the sandbox (ASSUMED: Octopia's codes are not public).
CODE_ORDER_NOT_FOUND = "OrderNotFound"
CODE_EMPTY_FILE = "EmptyFile"
CODE_UNSUPPORTED_FORMAT = "UnsupportedFormat"
CODE_INVALID_DOCUMENT = "InvalidDocument"
CODE_INVALID_FILE_NAME = "InvalidFileName"
CODE_INVALID_ARCHIVE = "InvalidArchive"
CODE_ORDER_REFERENCE_MISMATCH = "OrderReferenceMismatch"
CODE_FILE_TOO_LARGE = "FileTooLarge"
CODE_TOO_MANY_FILES = "TooManyFiles"

_DOCUMENT_EXTS = (wire.EXT_PDF, wire.EXT_XML)  # the only documents accepted
_UBL_ORDER_REF = f"{{{wire.UBL_CAC_NS}}}OrderReference/{{{wire.UBL_CBC_NS}}}ID"


def utc_now():
    return datetime.now(timezone.utc)


def _extension(name):
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, ext = base.rpartition(".")
    return f".{ext.lower()}" if dot and stem else ""


# --- Documents: what Octopia checks while processing a file --------------------------
@dataclass
class PendingFile:
    """One file of an import, from upload to its final result."""

    file_name: str
    order_id: str  # the order the file was matched to ("" when its name matches none)
    content: bytes = b""
    error: tuple = ()  # (code, message) known at upload time: FileCheck failure
    status: str = wire.STATUS_RUNNING
    step: str = wire.STEP_ORDER_CHECK
    errors: list = field(default_factory=list)
    history: dict = field(default_factory=dict)  # the order's history entry, if matched

    def settle(self, known_orders):
        """Run the checks in Octopia's order: the order, then the file."""
        if self.order_id and self.order_id not in known_orders:
            return self._fail(
                wire.STEP_ORDER_CHECK,
                CODE_ORDER_NOT_FOUND,
                f"order {self.order_id} is unknown for this seller",
            )
        problem = self.error or check_document(self.order_id, self.file_name, self.content)
        if problem:
            return self._fail(wire.STEP_FILE_CHECK, *problem)
        self.status, self.step = wire.STATUS_SUCCESS, wire.STEP_DONE
        return self

    def _fail(self, step, code, message):
        self.status, self.step = wire.STATUS_FAILURE, step
        self.errors = [{wire.ERROR_CODE: code, wire.ERROR_MESSAGE: message}]
        return self

    def to_wire(self):
        return {
            wire.FILE_NAME: self.file_name,
            wire.FILE_ORDER_ID: self.order_id,
            wire.FILE_STATUS: self.status,
            wire.FILE_INTEGRATION_STATUS: self.step,
            wire.FILE_ERRORS: [dict(e) for e in self.errors],
        }


def check_document(order_id, name, content):
    """None when the document is acceptable, else (code, message)."""
    if not content:
        return CODE_EMPTY_FILE, "the file is empty"
    kind = _extension(name)
    if kind not in _DOCUMENT_EXTS:
        kind = (
            wire.EXT_PDF
            if content.startswith(wire.PDF_MAGIC)
            else (wire.EXT_XML if content.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<") else "")
        )
    if kind == wire.EXT_PDF:
        return (
            None
            if content.startswith(wire.PDF_MAGIC)
            else (CODE_INVALID_DOCUMENT, "the file is not a PDF document")
        )
    if kind == wire.EXT_XML:
        return _check_ubl(order_id, content)
    return CODE_UNSUPPORTED_FORMAT, "only PDF and UBL 2.1 XML invoices are accepted"


def _check_ubl(order_id, content):
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as exc:
        return CODE_INVALID_DOCUMENT, f"the XML cannot be read: {exc}"
    if root.tag not in wire.UBL_ROOTS:
        return CODE_INVALID_DOCUMENT, "the XML is not a UBL 2.1 Invoice or CreditNote"
    reference = (root.findtext(_UBL_ORDER_REF) or "").strip()
    if reference and reference != order_id:
        return CODE_ORDER_REFERENCE_MISMATCH, (
            f"the document references order {reference}, not {order_id}"
        )
    return None


def name_error(name):
    """Why a bulk file name designates no order, or ()."""
    if not name:
        return CODE_INVALID_FILE_NAME, "the file has no name"
    if "/" in name or "\\" in name:
        return CODE_INVALID_FILE_NAME, f"{name}: files inside folders are not matched"
    ext = _extension(name)
    if ext == wire.EXT_ZIP:
        return CODE_UNSUPPORTED_FORMAT, f"{name}: nested archives are not supported"
    if ext not in _DOCUMENT_EXTS:
        return CODE_UNSUPPORTED_FORMAT, f"{name}: only .pdf and .xml files are accepted"
    if not re.match(wire.ORDER_ID_PATTERN, wire.order_id_from_file_name(name)):
        return CODE_INVALID_FILE_NAME, f"{name}: the file name is not an order id"
    return ()


def _size_error(size, limit):
    return (CODE_FILE_TOO_LARGE, f"the file exceeds {limit} bytes") if size > limit else ()


@dataclass(frozen=True)
class Limits:
    file_bytes: int = wire.MAX_FILE_BYTES
    request_bytes: int = wire.MAX_REQUEST_BYTES
    files_per_zip: int = wire.MAX_FILES_PER_ZIP


def single_file(order_id, file_name, content, limits):
    return [PendingFile(file_name, order_id, content, _size_error(len(content), limits.file_bytes))]


def bulk_part(file_name, content, limits):
    """One uploaded part -> its files: itself, or every entry of a ZIP."""
    if _extension(file_name) == wire.EXT_ZIP:
        return _zip_files(file_name, content, limits)
    error = name_error(file_name)
    if error:
        return [PendingFile(file_name, "", error=error)]
    return [
        PendingFile(
            file_name,
            wire.order_id_from_file_name(file_name),
            content,
            _size_error(len(content), limits.file_bytes),
        )
    ]


def _zip_files(zip_name, content, limits):
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        infos = [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        return [
            PendingFile(
                zip_name, "", error=(CODE_INVALID_ARCHIVE, f"the archive cannot be opened: {exc}")
            )
        ]
    if not infos:
        return [PendingFile(zip_name, "", error=(CODE_INVALID_ARCHIVE, "the archive is empty"))]
    if len(infos) > limits.files_per_zip:
        return [
            PendingFile(
                zip_name,
                "",
                error=(
                    CODE_TOO_MANY_FILES,
                    f"the archive holds more than {limits.files_per_zip} files",
                ),
            )
        ]
    return [_zip_entry(archive, info, limits) for info in infos]


def _zip_entry(archive, info, limits):
    error = name_error(info.filename)
    if error:
        return PendingFile(info.filename, "", error=error)
    pending = PendingFile(
        info.filename,
        wire.order_id_from_file_name(info.filename),
        error=_size_error(info.file_size, limits.file_bytes),
    )
    if not pending.error:
        try:
            pending.content = archive.read(info)
        except (
            RuntimeError,
            NotImplementedError,
            zipfile.BadZipFile,
            ValueError,
            OSError,
            EOFError,
        ) as exc:
            pending.error = (CODE_INVALID_ARCHIVE, f"the entry cannot be read: {exc}")
    return pending


# --- In-memory model -----------------------------------------------------------------
class Import:
    def __init__(self, seller_id, files, polls, seconds, clock=None):
        self.import_id = str(uuid.uuid4())
        self.seller_id = seller_id
        self.files = files
        self.status = wire.STATUS_RUNNING
        self.started = time.monotonic()
        self.clock = clock or utc_now
        self.created = self.clock()  # aware datetime: the list is sorted by it
        self.created_at = self.updated_at = wire.format_time(self.created)
        self.reads = 0
        self.running_polls = polls
        self.running_seconds = seconds

    def due(self):
        return (
            self.status == wire.STATUS_RUNNING
            and self.reads >= self.running_polls
            and time.monotonic() - self.started >= self.running_seconds
        )

    def finalise(self, known_orders):
        ok = sum(f.settle(known_orders).status == wire.STATUS_SUCCESS for f in self.files)
        self.status = (
            wire.STATUS_SUCCESS
            if self.files and ok == len(self.files)
            else wire.STATUS_FAILURE
            if not ok
            else wire.STATUS_PARTIAL
        )
        self.updated_at = wire.format_time(self.clock())
        for file in self.files:
            if file.history:
                file.history["status"] = file.status

    def has_order(self, order_id):
        return any(f.order_id == order_id for f in self.files)

    def to_wire(self):
        return {
            wire.REPORT_IMPORT_ID: self.import_id,
            wire.REPORT_STATUS: self.status,
            wire.REPORT_FILES: [f.to_wire() for f in self.files],
            wire.REPORT_CREATED_AT: self.created_at,
            wire.REPORT_UPDATED_AT: self.updated_at,
        }


class SandboxState:
    """Clients, orders, tokens, imports and invoices, behind one lock."""

    def __init__(self, running_polls, running_seconds, token_lifetime):
        self.lock = threading.RLock()
        self.running_polls = running_polls
        self.running_seconds = running_seconds
        self.token_lifetime = token_lifetime
        self.clock = utc_now  # -> aware datetime: when an import is made, then processed
        self.clients = {}  # client id -> (secret, set of seller ids)
        self.orders = {}  # seller id -> set of order ids
        self.reset()

    def reset(self):
        with self.lock:
            self.tokens = {}  # token -> (client id, monotonic expiry)
            self.imports = {}  # import id -> Import, in creation order
            self.history = {}  # (seller id, order id) -> [entry]

    def now(self):
        """The sandbox's time: `clock` as it is set now."""
        return self.clock()

    # tokens
    def issue_token(self, client_id, secret):
        with self.lock:
            known = self.clients.get(client_id)
            if not known or not secrets.compare_digest(known[0], secret):
                return None
            token = secrets.token_urlsafe(32)
            self.tokens[token] = (client_id, time.monotonic() + self.token_lifetime)
            return token

    def token_client(self, token):
        """(client id, "") or (None, why the token is refused)."""
        with self.lock:
            client_id, expiry = self.tokens.get(token, (None, 0))
        if client_id is None:
            return None, "the access token is unknown"
        if time.monotonic() >= expiry:
            return None, "the access token has expired"
        return client_id, ""

    def expire_tokens(self):
        with self.lock:
            self.tokens = {t: (c, 0) for t, (c, _e) in self.tokens.items()}

    def seller_allowed(self, client_id, seller_id):
        with self.lock:
            return seller_id in self.clients.get(client_id, ("", set()))[1]

    # imports
    def create_import(self, seller_id, files):
        with self.lock:
            imp = Import(seller_id, files, self.running_polls, self.running_seconds, self.now)
            self.imports[imp.import_id] = imp
            for file in files:
                if file.order_id:
                    file.history = {
                        "importId": imp.import_id,
                        "fileName": file.file_name,
                        "status": file.status,
                        "sha256": hashlib.sha256(file.content).hexdigest(),
                    }
                    self.history.setdefault((seller_id, file.order_id), []).append(file.history)
            return imp.to_wire()

    def find(self, seller_id, import_id):
        imp = self.imports.get(import_id)
        return imp if imp and imp.seller_id == seller_id else None

    def _settle(self, imp):
        if imp.due():
            imp.finalise(self.orders.get(imp.seller_id, set()))

    def read_import(self, seller_id, import_id):
        """GET by id: counts as one read of a running import."""
        with self.lock:
            imp = self.find(seller_id, import_id)
            if imp is None:
                return None
            self._settle(imp)
            imp.reads += 1
            return imp.to_wire()

    def list_imports(self, seller_id, order_id=None):
        """Newest first by creation time (wire.LIST_ORDER_FIELD; the latest made first among
        equal times); settles the imports that are due, without counting a read."""
        with self.lock:
            found = [
                i
                for i in reversed(self.imports.values())
                if i.seller_id == seller_id and (order_id is None or i.has_order(order_id))
            ]
            found.sort(key=lambda i: i.created, reverse=True)  # stable: ties keep their order
            for imp in found:
                self._settle(imp)
            return [i.to_wire() for i in found]


# --- Faults --------------------------------------------------------------------------
@dataclass
class Fault:
    kind: str
    times: int | None
    method: str | None
    path: object
    params: dict

    def matches(self, method, path):
        if self.method and self.method.upper() != method:
            return False
        if self.path is None:
            return path != AUTH_PATH
        if isinstance(self.path, re.Pattern):
            return bool(self.path.search(path))
        try:
            return self.path in path or bool(re.search(self.path, path))
        except re.error:
            return False


class FaultBook:
    def __init__(self):
        self._lock = threading.Lock()
        self._faults = []

    def add(self, fault):
        if fault.kind not in FAULTS:
            raise ValueError(f"unknown fault {fault.kind!r}; known: {', '.join(FAULTS)}")
        if fault.kind in ("status", "raw") and "status" not in fault.params:
            raise ValueError(f"fault {fault.kind!r} needs status=")
        if fault.times is not None and fault.times < 1:
            raise ValueError("times must be at least 1, or None for ever")
        with self._lock:
            self._faults.append(fault)

    def take(self, method, path):
        """The first fault matching this request, consumed once."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times == 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def clear(self):
        with self._lock:
            self._faults.clear()
