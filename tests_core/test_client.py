"""OctopiaClient against the sandbox server, over real HTTP on 127.0.0.1."""

import itertools
import socket
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from octopia import auth, wire
from octopia.client import LostUploadSearch, OctopiaClient, parse_retry_after
from octopia.errors import (
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
from octopia.sandbox import AUTH_PATH, SandboxServer

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
UPLOAD = "/invoice-documents"
IMPORTS = "/order-invoice-imports"


@pytest.fixture(autouse=True)
def _fresh_tokens():
    auth.clear_token_cache()
    yield
    auth.clear_token_cache()


@pytest.fixture
def demo(sandbox):
    return sandbox.seed_demo()


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def client(sandbox, demo, sleeps):
    return make_client(sandbox, demo, sleeps)


def make_client(sandbox, demo, sleeps, **kwargs):
    values = {
        "seller_id": demo["seller_id"],
        "client_id": demo["client_id"],
        "client_secret": demo["client_secret"],
        "api_url": sandbox.api_url,
        "auth_url": sandbox.auth_url,
        "sleep": sleeps.append,
    }
    values.update(kwargs)
    return OctopiaClient(**values)


def just_before():
    """The cut-off of an upload made now: its creation time minus the margin."""
    return datetime.now(timezone.utc) - wire.LOST_UPLOAD_MARGIN


def token_requests(sandbox):
    return sandbox.request_count(method="POST", path_prefix="/auth/")


def posts(sandbox):
    return sandbox.request_count(method="POST", path_prefix="/seller/")


# --- tokens -------------------------------------------------------------------------
def test_token_is_fetched_once_and_reused(sandbox, client, demo):
    order = demo["orders"][0]
    client.upload_order_invoice(order, (f"{order}.pdf", PDF))
    client.list_imports()
    other = make_client(sandbox, demo, [])  # a second client shares the cache
    other.list_imports()
    assert token_requests(sandbox) == 1


def test_expired_token_is_refreshed_once(sandbox, client):
    client.list_imports()
    sandbox.expire_tokens()
    client.list_imports()
    assert token_requests(sandbox) == 2
    statuses = [status for method, path, status in sandbox.requests if IMPORTS in path]
    assert statuses == [200, 401, 200]


def test_short_token_lifetime_is_honoured(sandbox, demo, sleeps):
    sandbox.token_lifetime = 1  # the margin shrinks to half a short lifetime
    client = make_client(sandbox, demo, sleeps)
    client.list_imports()
    time.sleep(1.1)
    client.list_imports()
    assert token_requests(sandbox) == 2


def test_401_twice_is_an_authentication_error(sandbox, client):
    sandbox.inject("status", times=2, path=IMPORTS, status=401)
    with pytest.raises(AuthenticationError) as info:
        client.list_imports()
    assert info.value.status == 401
    assert token_requests(sandbox) == 2


def test_wrong_secret_is_a_clear_error_without_the_secret(sandbox, demo):
    client = make_client(sandbox, demo, [], client_secret="s3cr3t-wrong")
    with pytest.raises(AuthenticationError) as info:
        client.list_imports()
    assert "client secret" in str(info.value)
    assert "s3cr3t-wrong" not in str(info.value) + repr(info.value) + repr(client)
    assert "s3cr3t-wrong" not in repr(client.auth)


def test_incomplete_credentials_are_refused_before_any_call():
    with pytest.raises(ConfigurationError):
        OctopiaClient(seller_id="S", client_id="c", client_secret="")
    with pytest.raises(ConfigurationError):
        OctopiaClient(seller_id="", client_id="c", client_secret="x")


# --- token request retries ----------------------------------------------------------------
@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_token_request_is_retried_on_busy_statuses(sandbox, client, sleeps, status):
    sandbox.inject("status", times=2, path=AUTH_PATH, status=status, retry_after=None)
    reports, _total = client.list_imports()
    assert reports == []
    assert token_requests(sandbox) == 3
    assert len(sleeps) == 2
    for attempt, delay in enumerate(sleeps):  # exponential backoff with full jitter
        assert 0 <= delay <= wire.BACKOFF_BASE * 2**attempt
    assert sandbox.request_count(method="GET", path_prefix=IMPORTS) == 1


def test_token_request_honours_retry_after(sandbox, client, sleeps):
    sandbox.inject("status", times=2, path=AUTH_PATH, status=503, retry_after=3)
    client.list_imports()
    assert sleeps == [3.0, 3.0]
    assert token_requests(sandbox) == 3


def test_token_request_timeout_is_retried(sandbox, demo, sleeps):
    client = make_client(sandbox, demo, sleeps, timeout=(2, 0.3))
    sandbox.inject("slow", path=AUTH_PATH, delay=1.0)
    client.list_imports()
    assert token_requests(sandbox) == 2
    assert len(sleeps) == 1


def test_token_request_dropped_connection_is_retried(sandbox, client, sleeps):
    sandbox.inject("drop", path=AUTH_PATH)
    client.list_imports()
    assert token_requests(sandbox) == 2
    assert len(sleeps) == 1


def test_token_request_refused_connection_is_retried_until_the_server_is_back(
    sandbox, client, demo
):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        client.auth.auth_url = f"http://127.0.0.1:{sock.getsockname()[1]}{AUTH_PATH}"
    waits = []

    def back(delay):
        waits.append(delay)
        client.auth.auth_url = sandbox.auth_url

    client._sleep = back
    order = demo["orders"][0]
    report = client.upload_order_invoice(order, (f"{order}.pdf", PDF))
    assert report.import_id and len(waits) == 1
    assert token_requests(sandbox) == 1 and posts(sandbox) == 1


def test_token_request_storm_is_unavailable_within_the_bounds(sandbox, client, sleeps):
    sandbox.inject("status", times=None, path=AUTH_PATH, status=503, retry_after=None)
    with pytest.raises(UnavailableError) as info:
        client.list_imports()
    error = info.value
    assert error.status == 503 and error.retryable
    assert "login service" in str(error) and "503" in str(error)
    assert token_requests(sandbox) == wire.MAX_RETRIES + 1
    assert len(sleeps) == wire.MAX_RETRIES
    assert sum(sleeps) <= wire.MAX_TOTAL_WAIT
    assert sandbox.request_count(path_prefix="/seller/") == 0  # nothing sent without a token


def test_token_request_429_storm_is_unavailable_not_rate_limited(sandbox, client, sleeps):
    sandbox.inject("status", times=None, path=AUTH_PATH, status=429, retry_after=2)
    with pytest.raises(UnavailableError) as info:
        client.list_imports()
    assert info.value.status == 429 and info.value.retry_after == 2
    assert sleeps == [2.0] * wire.MAX_RETRIES


def test_token_request_gives_up_when_retry_after_exceeds_the_total_wait(sandbox, demo, sleeps):
    client = make_client(sandbox, demo, sleeps, max_total_wait=10)
    sandbox.inject("status", times=None, path=AUTH_PATH, status=503, retry_after=4)
    with pytest.raises(UnavailableError):
        client.list_imports()
    assert sleeps == [4.0, 4.0]  # a third wait of 4 s would pass the 10 s bound
    assert token_requests(sandbox) == 3


def test_token_request_timeouts_give_up_after_the_bounded_tries(sandbox, demo, sleeps):
    client = make_client(sandbox, demo, sleeps, timeout=(2, 0.2), max_retries=2)
    sandbox.inject("slow", times=None, path=AUTH_PATH, delay=0.5)
    with pytest.raises(UnavailableError) as info:
        client.list_imports()
    assert info.value.retryable
    assert token_requests(sandbox) == 3 and len(sleeps) == 2


def test_token_retries_and_the_api_call_share_one_budget(sandbox, demo, sleeps):
    client = make_client(sandbox, demo, sleeps, max_retries=3)
    sandbox.inject("status", times=2, path=AUTH_PATH, status=503, retry_after=1)
    sandbox.inject("status", times=None, path=IMPORTS, status=503, retry_after=1)
    with pytest.raises(UnavailableError):
        client.list_imports()
    assert sleeps == [1.0, 1.0, 1.0]  # two for the token, one left for the GET
    assert sandbox.request_count(method="GET", path_prefix=IMPORTS) == 2


@pytest.mark.parametrize("status", [400, 401, 403])
def test_token_refusals_are_never_retried(sandbox, client, sleeps, status):
    sandbox.inject("status", times=None, path=AUTH_PATH, status=status)
    with pytest.raises(AuthenticationError) as info:
        client.list_imports()
    assert info.value.status == status
    assert token_requests(sandbox) == 1 and sleeps == []


def test_wrong_secret_is_asked_once(sandbox, demo, sleeps):
    client = make_client(sandbox, demo, sleeps, client_secret="not-the-secret")
    with pytest.raises(AuthenticationError):
        client.list_imports()
    assert token_requests(sandbox) == 1 and sleeps == []


def test_token_fetched_directly_uses_the_client_retry_settings(sandbox, demo, sleeps):
    client = make_client(sandbox, demo, sleeps, max_retries=1)
    sandbox.inject("status", times=None, path=AUTH_PATH, status=502)
    with pytest.raises(UnavailableError):
        client.check_connection()
    assert token_requests(sandbox) == 2 and len(sleeps) == 1


# --- errors -------------------------------------------------------------------------
def test_403_for_a_seller_of_another_client(sandbox, demo):
    client = make_client(sandbox, demo, [], seller_id="SOMEONE-ELSE")
    with pytest.raises(ForbiddenError) as info:
        client.list_imports()
    assert info.value.status == 403


def test_404_unknown_import(client):
    with pytest.raises(NotFoundError) as info:
        client.get_import("does-not-exist")
    assert info.value.status == 404
    assert info.value.trace_id


def test_422_problem_json_is_exposed(sandbox, client, demo):
    sandbox.inject(
        "raw",
        path=UPLOAD,
        status=422,
        content_type=wire.PROBLEM_JSON,
        body=b'{"title": "Invalid invoice", "detail": "Amounts do not match",'
        b' "status": 422, "errors": {"file": ["total differs"]},'
        b' "traceId": "abc123"}',
    )
    order = demo["orders"][0]
    with pytest.raises(RejectedError) as info:
        client.upload_order_invoice(order, (f"{order}.pdf", PDF))
    error = info.value
    assert (error.status, error.title, error.detail, error.trace_id) == (
        422,
        "Invalid invoice",
        "Amounts do not match",
        "abc123",
    )
    assert error.errors == {"file": ["total differs"]}
    assert "Amounts do not match" in str(error) and "total differs" in str(error)
    assert posts(sandbox) == 1  # refused: never re-sent


# --- retries ------------------------------------------------------------------------
def test_429_with_retry_after_is_honoured(sandbox, client, sleeps):
    sandbox.inject("status", times=2, path=IMPORTS, status=429, retry_after=3)
    reports, _total = client.list_imports()
    assert reports == [] or reports
    assert sleeps == [3.0, 3.0]


def test_429_without_retry_after_backs_off_with_jitter(sandbox, client, sleeps):
    sandbox.inject("status", times=3, path=IMPORTS, status=429, retry_after=None)
    client.list_imports()
    assert len(sleeps) == 3
    for attempt, delay in enumerate(sleeps):
        assert 0 <= delay <= wire.BACKOFF_BASE * 2**attempt


def test_429_storm_gives_up_within_the_bounded_wait(sandbox, demo, sleeps):
    client = make_client(sandbox, demo, sleeps, max_total_wait=10)
    sandbox.inject("status", times=None, path=IMPORTS, status=429, retry_after=4)
    with pytest.raises(RateLimitedError) as info:
        client.list_imports()
    assert sum(sleeps) <= 10
    assert info.value.retry_after == 4
    assert info.value.retryable


def test_429_on_upload_is_resent_since_it_was_not_accepted(sandbox, client, demo, sleeps):
    sandbox.inject("status", times=1, path=UPLOAD, status=429, retry_after=1)
    order = demo["orders"][0]
    report = client.upload_order_invoice(order, (f"{order}.pdf", PDF))
    assert report.status == wire.STATUS_RUNNING
    assert len(sandbox.imports_of(demo["seller_id"])) == 1
    assert sleeps == [1.0]


def test_503_on_upload_is_resent(sandbox, client, demo):
    sandbox.inject("status", times=2, path=UPLOAD, status=503, retry_after=None)
    order = demo["orders"][0]
    client.upload_order_invoice(order, (f"{order}.pdf", PDF))
    assert len(sandbox.imports_of(demo["seller_id"])) == 1


def test_500_on_get_is_retried(sandbox, client):
    sandbox.inject("status", times=2, path=IMPORTS, method="GET", status=500)
    client.list_imports()
    assert sandbox.request_count(method="GET", path_prefix="/seller/") == 3


def test_persistent_5xx_on_get_is_unavailable(sandbox, client, sleeps):
    sandbox.inject("status", times=None, path=IMPORTS, method="GET", status=502)
    with pytest.raises(UnavailableError):
        client.list_imports()
    assert len(sleeps) == wire.MAX_RETRIES


def test_500_on_upload_is_outcome_unknown_not_resent(sandbox, client, demo):
    sandbox.inject("status", times=1, path=UPLOAD, status=500)
    order = demo["orders"][0]
    with pytest.raises(OutcomeUnknownError):
        client.upload_order_invoice(order, (f"{order}.pdf", PDF))
    assert posts(sandbox) == 1


# --- lost answers --------------------------------------------------------------------
def test_dropped_answer_after_accept_is_outcome_unknown_then_reconciled(sandbox, client, demo):
    order = demo["orders"][1]
    sandbox.inject("drop_after_accept", path=UPLOAD)
    with pytest.raises(OutcomeUnknownError):
        client.upload_order_invoice(order, (f"{order}.pdf", PDF))
    assert posts(sandbox) == 1
    found = client.find_lost_upload(order, since=just_before())
    assert [r.import_id for r in found.reports] == [
        i["importId"] for i in sandbox.imports_of(demo["seller_id"])
    ]
    assert found.complete


def test_dropped_connection_before_processing_is_outcome_unknown_too(sandbox, client, demo):
    # The client cannot tell a drop before processing from one after: it must reconcile.
    order = demo["orders"][1]
    sandbox.inject("drop", path=UPLOAD)
    with pytest.raises(OutcomeUnknownError):
        client.upload_order_invoice(order, (f"{order}.pdf", PDF))
    found = client.find_lost_upload(order, since=just_before())
    assert found.reports == () and found.complete


def test_read_timeout_on_upload_is_outcome_unknown(sandbox, demo):
    client = make_client(sandbox, demo, [], timeout=(2, 0.3))
    sandbox.inject("slow", path=UPLOAD, delay=1.0)
    order = demo["orders"][2]
    with pytest.raises(OutcomeUnknownError):
        client.upload_order_invoice(order, (f"{order}.pdf", PDF))
    assert posts(sandbox) == 1


def test_read_timeout_on_get_is_retried(sandbox, demo, sleeps):
    client = make_client(sandbox, demo, sleeps, timeout=(2, 0.3))
    sandbox.inject("slow", path=IMPORTS, method="GET", delay=1.0)
    client.list_imports()
    assert len(sleeps) == 1


def test_malformed_upload_answer_is_outcome_unknown(sandbox, client, demo):
    sandbox.inject("malformed", path=UPLOAD)
    order = demo["orders"][0]
    with pytest.raises(OutcomeUnknownError):
        client.upload_order_invoice(order, (f"{order}.pdf", PDF))


def test_connection_refused_is_unavailable_and_nothing_is_sent(demo, sleeps):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = OctopiaClient(
        seller_id="S",
        client_id="c",
        client_secret="x",
        api_url=f"http://127.0.0.1:{port}/seller/v2",
        auth_url=f"http://127.0.0.1:{port}/token",
        sleep=sleeps.append,
    )
    with pytest.raises(UnavailableError):
        client.upload_order_invoice("CD-1", ("CD-1.pdf", PDF))


def test_connection_refused_on_upload_is_resent_when_the_server_is_back(sandbox, client, demo):
    client.list_imports()  # token cached
    api_url = client.api_url
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/seller/v2"
    client.api_url = dead

    def back(_delay):
        client.api_url = api_url

    client._sleep = back
    order = demo["orders"][0]
    report = client.upload_order_invoice(order, (f"{order}.pdf", PDF))
    assert report.import_id
    assert len(sandbox.imports_of(demo["seller_id"])) == 1


# --- finding a lost upload -------------------------------------------------------------
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)  # when the lost uploads were made
SINCE = T0 - wire.LOST_UPLOAD_MARGIN
LOST, NEVER = "CD-1001", "CD-1002"  # accepted but its answer lost; never received
OTHERS = ("CD-1003", "CD-1004", "CD-1005", "CD-1006", "CD-1007")
OLD, NEWER = 100, 600  # imports an hour before the lost uploads, and after them


def upload_at(client, sandbox, moment, order):
    sandbox.clock = lambda: moment
    return client.upload_order_invoice(order, (f"{order}.pdf", PDF))


@pytest.fixture(scope="module")
def crowded():
    """A sandbox that ignores the order filter, with OLD imports an hour before T0 (LOST and
    NEVER among them), at T0 LOST's accepted upload whose answer was lost and NEVER's upload
    dropped unread, then NEWER imports of other orders, one a second. Searches only read it.
    -> (sandbox, client, import id of LOST's lost upload)."""
    with SandboxServer(ignore_order_filter=True) as srv:
        demo = srv.seed_demo()
        client = make_client(srv, demo, [])
        for n, order in enumerate(itertools.islice(itertools.cycle((LOST, NEVER, *OTHERS)), OLD)):
            upload_at(client, srv, T0 - timedelta(hours=1, seconds=n), order)
        srv.inject("drop_after_accept", path=UPLOAD)
        with pytest.raises(OutcomeUnknownError):
            upload_at(client, srv, T0, LOST)
        lost = srv.imports_of(demo["seller_id"])[-1]
        srv.inject("drop", path=UPLOAD)
        with pytest.raises(OutcomeUnknownError):
            upload_at(client, srv, T0, NEVER)
        for n in range(NEWER):
            upload_at(client, srv, T0 + timedelta(seconds=n + 1), OTHERS[n % len(OTHERS)])
        yield srv, client, lost["importId"]


def list_gets(sandbox):
    return sandbox.request_count(method="GET", path_prefix=IMPORTS)


def test_lost_upload_found_behind_600_newer_imports_of_other_orders(crowded):
    sandbox, client, lost_id = crowded
    before = list_gets(sandbox)
    found = client.find_lost_upload(LOST, since=SINCE)
    assert isinstance(found, LostUploadSearch)
    assert [r.import_id for r in found.reports] == [lost_id]  # not LOST's import of an hour ago
    assert found.complete
    # 601 imports from T0 on, 100 a page: it stopped on page 7, the first older than the cut-off
    assert found.pages == 7 == list_gets(sandbox) - before


def test_lost_upload_beyond_the_page_budget_is_not_declared_never_received(crowded):
    _sandbox, client, _lost_id = crowded
    found = client.find_lost_upload(LOST, since=SINCE, max_pages=5)
    assert found.reports == ()
    assert not found.complete
    assert found.pages == 5


def test_never_received_is_complete_once_past_the_cut_off(crowded):
    _sandbox, client, _lost_id = crowded
    found = client.find_lost_upload(NEVER, since=SINCE)
    assert found.reports == ()  # its import of an hour ago is older than the cut-off
    assert found.complete and found.pages == 7


def test_an_honoured_order_filter_gives_the_same_answer_sooner(crowded):
    sandbox, client, lost_id = crowded
    sandbox.ignore_order_filter = False
    try:
        found = client.find_lost_upload(LOST, since=SINCE)
    finally:
        sandbox.ignore_order_filter = True
    assert [r.import_id for r in found.reports] == [lost_id]
    assert found.complete and found.pages == 1


def test_search_reads_down_to_the_cut_off_and_no_further(sandbox, client, demo):
    order = demo["orders"][0]
    for n in range(4):  # two pages of two, all before the cut-off
        upload_at(client, sandbox, T0 - timedelta(hours=2, minutes=n), order)
    newest = [upload_at(client, sandbox, T0 + timedelta(seconds=n), order) for n in range(3)]
    before = list_gets(sandbox)
    found = client.find_lost_upload(order, since=SINCE, page_size=2)
    assert [r.import_id for r in found.reports] == [r.import_id for r in reversed(newest)]
    assert found.complete
    assert found.pages == 2 == list_gets(sandbox) - before  # 4 pages in the list


def test_search_reads_to_the_end_of_a_short_list(sandbox, client, demo):
    order = demo["orders"][0]
    made = [upload_at(client, sandbox, T0 + timedelta(seconds=n), order) for n in range(3)]
    found = client.find_lost_upload(order, since=SINCE, page_size=2)
    assert [r.import_id for r in found.reports] == [r.import_id for r in reversed(made)]
    assert found.complete and found.pages == 2


def test_search_of_an_empty_list_is_complete(client):
    found = client.find_lost_upload("CD-1001", since=SINCE)
    assert found == LostUploadSearch(reports=(), complete=True, pages=1)


def test_search_since_must_be_a_datetime_and_naive_is_utc(sandbox, client, demo):
    order = demo["orders"][0]
    upload_at(client, sandbox, T0, order)
    with pytest.raises(TypeError):
        client.find_lost_upload(order, since="2026-11-20T09:55:00Z")
    naive = client.find_lost_upload(order, since=SINCE.replace(tzinfo=None))
    paris = client.find_lost_upload(order, since=T0.astimezone(timezone(timedelta(hours=1))))
    assert len(naive.reports) == len(paris.reports) == 1
    later = client.find_lost_upload(order, since=T0 + timedelta(seconds=1))
    assert later.reports == () and later.complete


# Pages as another server could serve them, injected verbatim.
def entry(import_id, order, created_at=None):
    data = {"importId": import_id, "status": "Success", "files": [{"fileName": f"{order}.pdf"}]}
    if created_at is not None:
        data["createdAt"] = created_at
    return data


def serve_pages(sandbox, *pages):
    for items, total in pages:
        body = {"items": items} if total is None else {"items": items, "totalCount": total}
        sandbox.inject("raw", method="GET", path=IMPORTS, status=200, body=body)


def test_results_are_sorted_by_moment_not_by_text(sandbox, client):
    serve_pages(
        sandbox,
        (
            [
                entry("late", "CD-1", "2026-11-20T10:00:00Z"),
                entry("early", "CD-1", "2026-11-20T10:30:00+01:00"),  # 09:30 UTC
                entry("old", "CD-1", "2026-11-20T09:50:00.5-00:30"),  # 10:20 UTC: disorder
            ],
            3,
        ),
    )
    found = client.find_lost_upload("CD-1", since=datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc))
    assert [r.import_id for r in found.reports] == ["old", "late", "early"]
    assert found.complete  # the whole list was read


def test_undated_reports_leave_the_cut_off_unproven(sandbox, client):
    old = "2026-11-20T08:00:00Z"
    serve_pages(
        sandbox,
        ([entry("u1", "CD-9"), entry("o1", "CD-9", old)], 50),
        ([entry("u2", "CD-1"), entry("o2", "CD-9", old)], 50),
    )
    found = client.find_lost_upload("CD-1", since=SINCE, page_size=2, max_pages=2)
    assert [r.import_id for r in found.reports] == ["u2"]  # unknown time: still a candidate
    assert not found.complete


def test_undated_reports_read_to_the_end_are_complete(sandbox, client):
    serve_pages(sandbox, ([entry("u1", "CD-9"), entry("u2", "CD-1")], 2))
    found = client.find_lost_upload("CD-1", since=SINCE)
    assert [r.import_id for r in found.reports] == ["u2"]
    assert found.complete and found.pages == 1


def test_a_list_out_of_newest_first_order_is_read_on(sandbox, client):
    # Oldest first: stopping at the first report older than the cut-off would miss the upload.
    serve_pages(
        sandbox,
        (
            [
                entry("a", "CD-9", "2026-11-20T08:00:00Z"),
                entry("b", "CD-9", "2026-11-20T08:01:00Z"),
            ],
            3,
        ),
        ([entry("lost", "CD-1", "2026-11-20T10:00:01Z")], 3),
    )
    found = client.find_lost_upload("CD-1", since=SINCE, page_size=2)
    assert [r.import_id for r in found.reports] == ["lost"]
    assert found.complete and found.pages == 2


def test_a_page_shifted_by_new_imports_is_not_disorder(sandbox, client):
    n3, n2 = (
        entry("n3", "CD-9", "2026-11-20T10:03:00Z"),
        entry("n2", "CD-1", "2026-11-20T10:02:00Z"),
    )
    serve_pages(
        sandbox,
        ([n3, n2], 3),
        ([n3, n2], 5),  # two imports made meanwhile pushed both onto page 2
        ([entry("o", "CD-9", "2026-11-20T08:00:00Z")], 5),
    )
    found = client.find_lost_upload("CD-1", since=SINCE, page_size=2, max_pages=3)
    assert [r.import_id for r in found.reports] == ["n2"]
    assert found.complete and found.pages == 3


def test_fewer_per_page_than_asked_is_not_the_end(sandbox, client):
    serve_pages(
        sandbox,
        (
            [
                entry("n3", "CD-9", "2026-11-20T10:03:00Z"),
                entry("n2", "CD-9", "2026-11-20T10:02:00Z"),
            ],
            3,
        ),
        ([entry("n1", "CD-1", "2026-11-20T10:01:00Z")], 3),
    )
    found = client.find_lost_upload("CD-1", since=SINCE)  # asks 100 a page, gets 2
    assert [r.import_id for r in found.reports] == ["n1"]
    assert found.complete and found.pages == 2


def test_pages_without_total_are_read_until_an_empty_one(sandbox, client):
    serve_pages(
        sandbox,
        ([entry("u1", "CD-1")], None),
        ([], None),
    )
    found = client.find_lost_upload("CD-1", since=SINCE)
    assert [r.import_id for r in found.reports] == ["u1"]
    assert found.complete and found.pages == 2


# --- reports ------------------------------------------------------------------------
def test_single_upload_then_success(sandbox, client, demo):
    order = demo["orders"][0]
    report = client.upload_order_invoice(order, (f"{order}.pdf", PDF))
    assert report.status == wire.STATUS_RUNNING and not report.is_final
    final = client.wait_for_import(report.import_id, interval=0.01)
    assert final.status == wire.STATUS_SUCCESS
    assert final.files[0].order_id == order
    assert final.files[0].is_success


def test_unknown_status_values_are_kept_as_text(sandbox, client):
    body = (
        b'{"importId": "imp-1", "status": "Quarantined", "files": [{"fileName":'
        b' "CD-1.pdf", "status": "Paused", "integrationStatus": "VirusScan"}]}'
    )
    sandbox.inject("raw", path=IMPORTS, status=200, body=body)
    report = client.get_import("imp-1")
    assert report.status == "Quarantined" and not report.is_final
    file = report.files[0]
    assert (file.order_id, file.status, file.integration_status) == ("CD-1", "Paused", "VirusScan")
    assert report.raw["status"] == "Quarantined"


def test_report_without_file_list_is_accepted(sandbox, client):
    sandbox.inject(
        "raw", path=IMPORTS, status=200, body=b'{"importId": "imp-2", "status": "Running"}'
    )
    report = client.get_import("imp-2")
    assert report.files == () and report.created_at is None


def test_report_that_is_not_json_is_a_format_error(sandbox, client):
    sandbox.inject(
        "raw", path=IMPORTS, status=200, body=b"<html>oops</html>", content_type="text/html"
    )
    with pytest.raises(ResponseFormatError):
        client.get_import("imp-3")


def test_parse_retry_after_forms():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_no_token_or_secret_in_logs(sandbox, demo, caplog):
    caplog.set_level("DEBUG")
    client = make_client(sandbox, demo, [])
    sandbox.inject("status", times=1, path=IMPORTS, status=401)
    client.list_imports()
    token = client.auth.token()
    text = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert demo["client_secret"] not in text
    assert token not in text


def test_requests_session_has_no_secret_in_repr(client, demo):
    assert demo["client_secret"] not in repr(client) + repr(client.auth)
    assert isinstance(client.session, requests.Session)
