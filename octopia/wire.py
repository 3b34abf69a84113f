"""Everything we know -- or assume -- about Octopia's invoice API, in one place.

Each constant says whether Octopia documents it (DOC) or we assume it (ASSUMED).
A correction after the first real call must be a one-line change here; no other
module spells a path, a header, a field name or an enum value of Octopia.
"""

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

# --- Hosts and authentication -------------------------------------------------------
DEFAULT_API_URL = "https://api.octopia-io.net/seller/v2"  # DOC
DEFAULT_AUTH_URL = (  # DOC
    "https://auth.octopia-io.net/auth/realms/maas/protocol/openid-connect/token"
)
TOKEN_GRANT_TYPE = "client_credentials"  # DOC
TOKEN_FIELD_ACCESS = "access_token"  # DOC
TOKEN_FIELD_EXPIRES = "expires_in"  # DOC (standard OpenID Connect)
TOKEN_DEFAULT_LIFETIME = 7200  # DOC: two hours when expires_in is missing
TOKEN_REFRESH_MARGIN = 300  # ASSUMED: refresh five minutes before expiry

HEADER_AUTHORIZATION = "Authorization"  # DOC
HEADER_SELLER_ID = "SellerId"  # DOC
HEADER_ACCEPT = "Accept"  # DOC
HEADER_RETRY_AFTER = "Retry-After"  # DOC (HTTP)
ACCEPT_JSON = "application/json"  # DOC
PROBLEM_JSON = "application/problem+json"  # DOC

# --- Endpoints (relative to the API base URL) ---------------------------------------
PATH_ORDER_INVOICE = "/orders/{order_id}/invoice-documents"  # DOC
PATH_IMPORTS = "/order-invoice-imports"  # DOC
PATH_IMPORT = "/order-invoice-imports/{import_id}"  # DOC

# --- Multipart field names ----------------------------------------------------------
FIELD_SINGLE_FILE = "file"  # ASSUMED: not public
FIELD_BULK_FILES = "files"  # ASSUMED: not public

# --- Listing ------------------------------------------------------------------------
LIST_PAGE_INDEX = "pageIndex"  # ASSUMED (from 1)
LIST_PAGE_SIZE = "pageSize"  # ASSUMED
LIST_MAX_PAGE_SIZE = 100  # ASSUMED
LIST_ITEMS = "items"  # ASSUMED
LIST_TOTAL = "totalCount"  # ASSUMED

# --- Import report fields -----------------------------------------------------------
REPORT_IMPORT_ID = "importId"  # DOC
REPORT_STATUS = "status"  # DOC
REPORT_FILES = "files"  # ASSUMED (DOC that a list of files exists)
REPORT_CREATED_AT = "createdAt"  # ASSUMED, optional, ISO 8601 (see parse_time)
REPORT_UPDATED_AT = "updatedAt"  # ASSUMED, optional, ISO 8601 (see parse_time)
FILE_NAME = "fileName"  # DOC
FILE_ORDER_ID = "orderId"  # DOC (field), position ASSUMED
FILE_STATUS = "status"  # DOC
FILE_INTEGRATION_STATUS = "integrationStatus"  # DOC (field); spellings unknown
FILE_ERRORS = "errors"  # ASSUMED
ERROR_CODE = "code"  # ASSUMED
ERROR_MESSAGE = "message"  # ASSUMED

# --- Listing, and looking up a lost upload in the list ----------------------------------
# ASSUMED: a filter by the order id of the files (same spelling as the field). Only a hint:
# the client filters every page again itself, so a server that ignores it changes nothing.
LIST_FILTER_ORDER_ID = FILE_ORDER_ID
# ASSUMED: the list comes newest first by createdAt without being asked (no sort parameter is
# sent: an unknown one might be refused). The look-up of a lost upload stops at a cut-off on
# that basis, and checks it as it reads: a report out of that order, or one without createdAt,
# makes it read on to the end of the list instead.
LIST_ORDER_FIELD = REPORT_CREATED_AT
# ASSUMED: pages a look-up of a lost upload may read (2,000 imports newer than it, at 100).
LOST_UPLOAD_MAX_PAGES = 20
# ASSUMED: how much earlier than the upload's own record its import may be dated (clocks apart,
# time in flight). Callers subtract it to make the cut-off.
LOST_UPLOAD_MARGIN = timedelta(minutes=5)

# --- Status values ------------------------------------------------------------------
STATUS_RUNNING = "Running"  # DOC
STATUS_SUCCESS = "Success"  # DOC
STATUS_PARTIAL = "PartialSuccess"  # DOC
STATUS_FAILURE = "Failure"  # DOC
FINAL_STATUSES = (STATUS_SUCCESS, STATUS_PARTIAL, STATUS_FAILURE)

# Processing steps a file goes through (DOC: order check -> file check -> extract/upload).
# The exact spellings are ASSUMED: the parser keeps whatever text Octopia sends.
STEP_ORDER_CHECK = "OrderCheck"
STEP_FILE_CHECK = "FileCheck"
STEP_UPLOAD = "Upload"
STEP_DONE = "Integrated"

# --- Problem+json error bodies (DOC, fields partly ASSUMED) --------------------------
PROBLEM_TITLE = "title"
PROBLEM_DETAIL = "detail"
PROBLEM_STATUS = "status"
PROBLEM_ERRORS = "errors"
PROBLEM_TRACE_ID = "traceId"

# --- Files ------------------------------------------------------------------------
# DOC: in bulk the file name is the order id; the extension handling is ASSUMED.
EXT_PDF = ".pdf"
EXT_XML = ".xml"
EXT_ZIP = ".zip"
MIME_PDF = "application/pdf"
MIME_XML = "application/xml"
MIME_ZIP = "application/zip"
MIME_BY_EXT = {EXT_PDF: MIME_PDF, EXT_XML: MIME_XML, EXT_ZIP: MIME_ZIP}
PDF_MAGIC = b"%PDF-"  # ISO 32000: how a PDF file begins
UBL_INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"  # OASIS
UBL_CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"  # OASIS
UBL_CAC_NS = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"  # OASIS
UBL_CBC_NS = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"  # OASIS
UBL_ROOTS = (f"{{{UBL_INVOICE_NS}}}Invoice", f"{{{UBL_CREDIT_NOTE_NS}}}CreditNote")

# ASSUMED limits (not published); every one is configurable by the caller.
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_REQUEST_BYTES = 50 * 1024 * 1024
MAX_FILES_PER_ZIP = 500
# ASSUMED: what an order id may look like so that it can be a file name.
ORDER_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"

# --- HTTP behaviour (ASSUMED numbers: none are published) ----------------------------
DEFAULT_TIMEOUT = (5.0, 60.0)  # connect, read (seconds)
RETRY_STATUSES = (429, 500, 502, 503, 504)
# A POST that got one of these answers was certainly not accepted: safe to re-send.
POST_SAFE_RETRY_STATUSES = (429, 503)
MAX_RETRIES = 4
BACKOFF_BASE = 0.5  # seconds, doubled each attempt, with full jitter
BACKOFF_CAP = 30.0
MAX_TOTAL_WAIT = 60.0  # seconds one call may spend waiting before it gives up


def order_invoice_path(order_id):
    return PATH_ORDER_INVOICE.format(order_id=order_id)


def import_path(import_id):
    return PATH_IMPORT.format(import_id=import_id)


def is_final(status):
    """A known final status; an unknown value is not final (keep polling, never crash)."""
    return status in FINAL_STATUSES


# --- Parsed reports -------------------------------------------------------------
@dataclass(frozen=True)
class FileError:
    code: str
    message: str


@dataclass(frozen=True)
class FileResult:
    file_name: str
    order_id: str
    status: str
    integration_status: str
    errors: tuple = ()

    @property
    def is_success(self):
        return self.status == STATUS_SUCCESS

    @property
    def is_failure(self):
        return self.status == STATUS_FAILURE

    @property
    def error_text(self):
        return "; ".join(f"{e.code}: {e.message}" if e.code else e.message for e in self.errors)


@dataclass(frozen=True)
class ImportReport:
    """`created_at`/`updated_at`: aware UTC datetimes, None when missing or unreadable;
    `*_text`: what Octopia sent, as it sent it."""

    import_id: str
    status: str
    files: tuple = ()
    created_at: datetime | None = None
    updated_at: datetime | None = None
    created_at_text: str = ""
    updated_at_text: str = ""
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_final(self):
        return is_final(self.status)

    @property
    def raw_json(self):
        return json.dumps(self.raw, sort_keys=True)

    def file_for_order(self, order_id):
        return next((f for f in self.files if f.order_id == order_id), None)


class ReportFormatError(ValueError):
    """The answer is not an import report we can read."""


def _text(value):
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


# ISO 8601 date and time: "T" or a space, optional seconds and fraction, "Z", an offset or none.
_ISO_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"\s*(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?",
    re.ASCII,
)


def parse_time(value):
    """ISO 8601 text -> aware UTC datetime; a value without offset is UTC (ASSUMED).

    None when missing or unreadable: the caller keeps the text."""
    match = _ISO_TIME.fullmatch(value.strip()) if isinstance(value, str) else None
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, _z, sign, off_h, off_m = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    if int(off_m or 0) >= 60:
        return None
    try:
        offset = timedelta(hours=int(off_h or 0), minutes=int(off_m or 0))
        zone = timezone(-offset if sign == "-" else offset)
        moment = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro, zone
        )
        return moment.astimezone(timezone.utc)
    except (ValueError, OverflowError):  # month 13, second 60, an offset of a day, year 1 - 1h
        return None


def as_utc(moment):
    """An aware datetime in UTC; a naive one is taken as UTC (the rule of parse_time)."""
    if not isinstance(moment, datetime):
        raise TypeError(f"a datetime is needed, not {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def format_time(moment):
    """Aware datetime -> ISO 8601 text in UTC with a "Z" (how the sandbox writes times)."""
    text = moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def order_id_from_file_name(name):
    """`<orderId>.pdf` -> orderId (bulk matching rule, DOC)."""
    base = (name or "").rsplit("/", 1)[-1]
    stem, dot, ext = base.rpartition(".")
    return stem if dot and f".{ext.lower()}" in MIME_BY_EXT else base


def parse_error(data):
    if isinstance(data, dict):
        return FileError(_text(data.get(ERROR_CODE)), _text(data.get(ERROR_MESSAGE)))
    return FileError("", _text(data))


def parse_file(data):
    if not isinstance(data, dict):
        raise ReportFormatError(f"file entry is not an object: {data!r:.80}")
    name = _text(data.get(FILE_NAME))
    errors = data.get(FILE_ERRORS) or []
    if not isinstance(errors, list):
        errors = [errors]
    return FileResult(
        file_name=name,
        order_id=_text(data.get(FILE_ORDER_ID)) or order_id_from_file_name(name),
        status=_text(data.get(FILE_STATUS)),
        integration_status=_text(data.get(FILE_INTEGRATION_STATUS)),
        errors=tuple(parse_error(e) for e in errors),
    )


def parse_report(data):
    """A report dict (or its JSON text) -> ImportReport. Tolerant of missing optional fields
    and unknown enum values; refuses only what has no import id."""
    if isinstance(data, (bytes, str)):
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise ReportFormatError(f"import report is not JSON: {exc}") from exc
    if not isinstance(data, dict) or not data.get(REPORT_IMPORT_ID):
        raise ReportFormatError("import report without importId")
    files = data.get(REPORT_FILES) or []
    if not isinstance(files, list):
        raise ReportFormatError("import report 'files' is not a list")
    created, updated = data.get(REPORT_CREATED_AT), data.get(REPORT_UPDATED_AT)
    return ImportReport(
        import_id=_text(data[REPORT_IMPORT_ID]),
        status=_text(data.get(REPORT_STATUS)),
        files=tuple(parse_file(f) for f in files),
        created_at=parse_time(created),
        updated_at=parse_time(updated),
        created_at_text=_text(created),
        updated_at_text=_text(updated),
        raw=data,
    )


def parse_report_page(data):
    """A list page -> (reports, total count, or None when the page does not give one)."""
    if isinstance(data, list):  # tolerate a bare list
        return [parse_report(item) for item in data], None
    if not isinstance(data, dict):
        raise ReportFormatError("import list is not an object")
    items = data.get(LIST_ITEMS) or []
    total = data.get(LIST_TOTAL)
    reports = [parse_report(item) for item in items]
    return reports, total if isinstance(total, int) and not isinstance(total, bool) else None


def parse_report_list(data):
    """A list page -> (reports, total count; the page's own count when it gives none)."""
    reports, total = parse_report_page(data)
    return reports, len(reports) if total is None else total


def report_to_wire(report):
    """ImportReport -> dict with Octopia's own field names (raw when we have it)."""
    if report.raw:
        return report.raw
    return {
        REPORT_IMPORT_ID: report.import_id,
        REPORT_STATUS: report.status,
        REPORT_FILES: [
            {
                FILE_NAME: f.file_name,
                FILE_ORDER_ID: f.order_id,
                FILE_STATUS: f.status,
                FILE_INTEGRATION_STATUS: f.integration_status,
                FILE_ERRORS: [{ERROR_CODE: e.code, ERROR_MESSAGE: e.message} for e in f.errors],
            }
            for f in report.files
        ],
        **_time_field(REPORT_CREATED_AT, report.created_at, report.created_at_text),
        **_time_field(REPORT_UPDATED_AT, report.updated_at, report.updated_at_text),
    }


def _time_field(name, moment, text):
    """{name: the text Octopia sent, else the datetime as ISO 8601}, or {} when neither."""
    if text:
        return {name: text}
    return {name: format_time(moment)} if moment else {}
