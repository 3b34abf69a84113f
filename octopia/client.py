"""Octopia invoice API client: plain values in, ImportReport or a typed error out."""

import io
import logging
import os
import time
from dataclasses import dataclass

import requests

from . import wire
from .auth import TokenProvider
from .errors import (
    AuthenticationError,
    ConfigurationError,
    ForbiddenError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
    RejectedError,
    ResponseFormatError,
    UnavailableError,
)
from .retry import RetryBudget, parse_retry_after

_logger = logging.getLogger(__name__)

# Exception classes (urllib3's, seen through requests) that prove the request never left.
_NOT_SENT_MARKERS = ("ConnectTimeoutError", "NewConnectionError", "ConnectionRefusedError")


def _never_sent(exc):
    """True when a transport error happened before the request reached the server."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    seen, todo = set(), [exc]
    while todo:
        item = todo.pop()
        if id(item) in seen or item is None:
            continue
        seen.add(id(item))
        if any(cls.__name__ in _NOT_SENT_MARKERS for cls in type(item).__mro__):
            return True
        todo.extend(a for a in getattr(item, "args", ()) if isinstance(a, BaseException))
        todo.extend([getattr(item, "reason", None), item.__cause__, item.__context__])
    return False


def _newest_first(report):
    """Sort key: the newest creation time first, reports without one last."""
    moment = report.created_at
    return (moment is None, -moment.timestamp() if moment else 0.0)


@dataclass(frozen=True)
class LostUploadSearch:
    """What `find_lost_upload` found.

    `reports`: the imports holding a file for the order, created at or after the cut-off (or
    of unknown creation time), newest first. `complete`: True only when the list was read
    down past the cut-off, or to its end -- then an empty `reports` proves that Octopia never
    received the upload. False when the page budget ran out first, or when reports without a
    creation time (or out of newest-first order) left the cut-off unproven.
    `pages`: list pages read."""

    reports: tuple = ()
    complete: bool = False
    pages: int = 0


class _ListScan:
    """The running state of a look-up through the import list, page after page."""

    def __init__(self, order_id, since):
        self.order_id, self.since = order_id, since
        self.found = {}  # import id -> report: a page shift may show one twice
        self.seen = set()
        self.oldest = None  # the oldest creation time read so far
        self.ordered = True  # every report so far dated, and newest first
        self.past_cutoff = self.at_end = False

    @property
    def complete(self):
        return self.at_end or (self.past_cutoff and self.ordered)

    def add_page(self, reports, total):
        for report in reports:
            if report.import_id not in self.seen:  # one seen again: newer imports shifted it
                self._check_order(report.created_at)
                self.seen.add(report.import_id)
            if report.created_at is not None and report.created_at < self.since:
                self.past_cutoff = True
            elif report.file_for_order(self.order_id):
                self.found[report.import_id] = report
        # Counting distinct ids, not pages: a server may serve fewer per page than asked.
        self.at_end = not reports or (total is not None and len(self.seen) >= total)

    def _check_order(self, moment):
        if moment is None or (self.oldest is not None and moment > self.oldest):
            self.ordered = False
        else:
            self.oldest = moment

    def result(self, pages):
        reports = tuple(sorted(self.found.values(), key=_newest_first))
        return LostUploadSearch(reports, self.complete, pages)


class _Part:
    """One multipart file: a name, a MIME type and a way to (re)open its bytes."""

    def __init__(self, name, opener, mime):
        self.name, self.opener, self.mime = name, opener, mime

    @classmethod
    def of(cls, item):
        if hasattr(item, "file_name") and hasattr(item, "open"):  # bundle.InvoiceFile
            return cls(item.file_name, item.open, item.mime)
        if isinstance(item, (str, os.PathLike)):
            path = os.fspath(item)
            name = os.path.basename(path)
            return cls(name, lambda: open(path, "rb"), _mime(name))
        name, data = item
        return cls(name, lambda: io.BytesIO(data), _mime(name))


def _mime(name):
    return wire.MIME_BY_EXT.get(os.path.splitext(name)[1].lower(), "application/octet-stream")


class OctopiaClient:
    """The four invoice endpoints, with retries that never upload twice.

    GETs are retried on 429/5xx and transport errors. A POST is re-sent only when it
    certainly was not accepted (refused connection, 429, 503, 401 before a token refresh);
    a POST whose answer was lost raises OutcomeUnknownError so that the caller reconciles.
    """

    def __init__(
        self,
        *,
        seller_id,
        client_id,
        client_secret,
        api_url=wire.DEFAULT_API_URL,
        auth_url=wire.DEFAULT_AUTH_URL,
        timeout=wire.DEFAULT_TIMEOUT,
        max_retries=wire.MAX_RETRIES,
        max_total_wait=wire.MAX_TOTAL_WAIT,
        session=None,
        sleep=time.sleep,
    ):
        if not seller_id:
            raise ConfigurationError("The Octopia seller id is missing.")
        if not api_url:
            raise ConfigurationError("The Octopia API URL is missing.")
        self.seller_id = str(seller_id)
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_total_wait = max_total_wait
        self.session = session or requests.Session()
        self.auth = TokenProvider(
            auth_url,
            client_id,
            client_secret,
            session=self.session,
            timeout=timeout,
            new_budget=self._budget,
        )
        self._sleep = sleep

    def __repr__(self):
        return f"<OctopiaClient {self.api_url} seller={self.seller_id!r}>"

    # --- public calls -------------------------------------------------------------
    def check_connection(self):
        """Fetch a token and read one page of imports: proves credentials and SellerId."""
        self.auth.token()
        self.list_imports(page_size=1)
        return True

    def upload_order_invoice(self, order_id, file):
        """Upload the invoice of one order. `file`: an InvoiceFile, a path or (name, bytes)."""
        part = _Part.of(file)
        return self._post_files(wire.order_invoice_path(order_id), [(wire.FIELD_SINGLE_FILE, part)])

    def upload_bulk(self, files):
        """Upload several files (named `<orderId>.pdf|.xml`) or ZIPs as one import."""
        parts = [(wire.FIELD_BULK_FILES, _Part.of(f)) for f in files]
        if not parts:
            raise ConfigurationError("Nothing to upload: the bulk import has no file.")
        return self._post_files(wire.PATH_IMPORTS, parts)

    def get_import(self, import_id):
        return self._report(self._call("GET", wire.import_path(import_id)))

    def list_imports(self, page_index=1, page_size=50, order_id=None):
        """One page of imports: (reports, total count). `order_id`: a filter Octopia may
        ignore (ASSUMED, wire.LIST_FILTER_ORDER_ID)."""
        reports, total = self._list_page(page_index, page_size, order_id)
        return reports, len(reports) if total is None else total

    def find_lost_upload(
        self,
        order_id,
        since,
        *,
        page_size=wire.LIST_MAX_PAGE_SIZE,
        max_pages=wire.LOST_UPLOAD_MAX_PAGES,
    ):
        """The imports of `order_id` created since `since`, for an upload whose answer was lost.

        `since`: the upload's own creation time minus a margin (wire.LOST_UPLOAD_MARGIN); an
        aware datetime, or a naive one in UTC. Reads the list newest first until it reaches
        imports created before `since` (or its end, or `max_pages`), keeping the imports that
        hold a file for the order. Returns a LostUploadSearch: trust an empty result only
        when it is `complete`."""
        scan = _ListScan(order_id, wire.as_utc(since))
        pages = 0
        while pages < max_pages and not scan.complete:
            pages += 1
            scan.add_page(*self._list_page(pages, page_size, order_id))
        return scan.result(pages)

    def wait_for_import(self, import_id, timeout=300.0, interval=1.0, on_progress=None):
        """Poll one import until its status is final (or `timeout` seconds pass)."""
        deadline = time.monotonic() + timeout
        while True:
            report = self.get_import(import_id)
            if on_progress:
                on_progress(report)
            if report.is_final or time.monotonic() >= deadline:
                return report
            self._sleep(interval)

    # --- transport ----------------------------------------------------------------
    def _list_page(self, page_index, page_size, order_id=None):
        """One list page: (reports, total count or None when Octopia gives none)."""
        params = {
            wire.LIST_PAGE_INDEX: page_index,
            wire.LIST_PAGE_SIZE: min(page_size, wire.LIST_MAX_PAGE_SIZE),
        }
        if order_id:
            params[wire.LIST_FILTER_ORDER_ID] = order_id
        body = self._json(self._call("GET", wire.PATH_IMPORTS, params=params))
        try:
            return wire.parse_report_page(body)
        except wire.ReportFormatError as exc:
            raise ResponseFormatError(f"Octopia's import list is unreadable: {exc}") from None

    def _post_files(self, path, parts):
        try:
            response = self._call("POST", path, parts=parts)
            return self._report(response)
        except ResponseFormatError as exc:
            # Accepted (2xx) but unreadable: the import exists and we lack its id.
            raise OutcomeUnknownError(
                f"Octopia accepted the upload but its answer is unreadable ({exc}); "
                "the import will be looked up before any new upload."
            ) from None

    def _report(self, response):
        try:
            return wire.parse_report(self._json(response))
        except wire.ReportFormatError as exc:
            raise ResponseFormatError(f"Octopia's import report is unreadable: {exc}") from None

    @staticmethod
    def _json(response):
        try:
            return response.json()
        except ValueError:
            raise ResponseFormatError(
                f"Octopia answered HTTP {response.status_code} with a body that is not JSON."
            ) from None

    def _budget(self):
        """A fresh retry budget with this client's settings (read now: tests change them)."""
        return RetryBudget(self.max_retries, self.max_total_wait, self._sleep)

    def _call(self, method, path, params=None, parts=None):
        # One budget for the whole call, token request included.
        state = {"refreshed": False, "budget": self._budget()}
        while True:
            response, retry_after = self._attempt(method, path, params, parts, state)
            if response is not None:
                return response
            state["budget"].wait(retry_after)

    def _attempt(self, method, path, params, parts, state):
        """One try: the response to return, or (None, retry_after) to try again."""
        token = self.auth.token(state["budget"])
        try:
            response = self._send(method, path, params, parts, token)
        except requests.RequestException as exc:
            self._on_transport_error(method, path, exc, state)
            return None, None
        status = response.status_code
        _logger.debug("Octopia %s %s -> %s", method, path, status)
        if status == 401 and not state["refreshed"]:
            self.auth.invalidate(token)
            state["refreshed"] = True
            return None, 0.0
        if status < 400:
            return response, None
        error = self._error_for(response)
        retryable = status in (
            wire.POST_SAFE_RETRY_STATUSES if method == "POST" else wire.RETRY_STATUSES
        )
        if method == "POST" and status >= 500 and not retryable:
            raise OutcomeUnknownError(
                f"Octopia answered HTTP {status} to the upload: it may or may not have "
                "accepted it; the import will be looked up before any new upload.",
                status=status,
                trace_id=error.trace_id,
            )
        if not retryable or not state["budget"].allows(error.retry_after):
            raise error
        return None, error.retry_after

    def _send(self, method, path, params, parts, token):
        headers = {
            wire.HEADER_AUTHORIZATION: f"Bearer {token}",
            wire.HEADER_SELLER_ID: self.seller_id,
            wire.HEADER_ACCEPT: wire.ACCEPT_JSON,
        }
        url = self.api_url + path
        if not parts:
            return self.session.request(
                method, url, params=params, headers=headers, timeout=self.timeout
            )
        opened = []
        try:
            files = []
            for field, part in parts:
                handle = part.opener()
                opened.append(handle)
                files.append((field, (part.name, handle, part.mime)))
            return self.session.request(
                method, url, params=params, headers=headers, files=files, timeout=self.timeout
            )
        finally:
            for handle in opened:
                handle.close()

    def _on_transport_error(self, method, path, exc, state):
        kind = type(exc).__name__
        if method == "POST" and not _never_sent(exc):
            raise OutcomeUnknownError(
                f"The answer to the upload was lost ({kind}): Octopia may have accepted it; "
                "the import will be looked up before any new upload."
            ) from None
        _logger.info("Octopia %s %s: %s, will retry", method, path, kind)
        if not state["budget"].allows():
            raise UnavailableError(
                f"Octopia could not be reached ({kind}). Nothing was sent; try again later."
            ) from None

    def _error_for(self, response):
        """A typed error from a problem+json answer (or any other body)."""
        problem = self._problem(response)
        status = response.status_code
        title = str(problem.get(wire.PROBLEM_TITLE) or "")
        detail = str(problem.get(wire.PROBLEM_DETAIL) or "")
        errors = problem.get(wire.PROBLEM_ERRORS)
        kwargs = {
            "status": status,
            "title": title,
            "detail": detail,
            "errors": errors if isinstance(errors, dict) else {},
            "trace_id": str(problem.get(wire.PROBLEM_TRACE_ID) or ""),
            "retry_after": parse_retry_after(response.headers.get(wire.HEADER_RETRY_AFTER)),
        }
        if kwargs["trace_id"]:
            _logger.info("Octopia HTTP %s traceId=%s", status, kwargs["trace_id"])
        cls, prefix = _ERRORS.get(status, (None, None))
        if cls is None:
            cls, prefix = (
                (UnavailableError, "Octopia is unavailable")
                if status >= 500
                else (RejectedError, "Octopia refused the request")
            )
        return cls(_describe(prefix, status, title, detail, kwargs["errors"]), **kwargs)

    @staticmethod
    def _problem(response):
        try:
            body = response.json()
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}


_ERRORS = {
    401: (AuthenticationError, "Octopia refused the credentials"),
    403: (ForbiddenError, "These Octopia credentials may not upload invoices for this seller"),
    404: (NotFoundError, "Octopia does not know this order or import"),
    429: (RateLimitedError, "Octopia asks to slow down"),
}


def _describe(prefix, status, title, detail, errors):
    words = [f"{prefix} (HTTP {status})"]
    said = ": ".join(x for x in (title, detail) if x)
    if said:
        words.append(said)
    for field, messages in (errors or {}).items():
        listed = messages if isinstance(messages, (list, tuple)) else [messages]
        words.append(f"{field}: " + ", ".join(str(m) for m in listed))
    return ". ".join(words) + "."
