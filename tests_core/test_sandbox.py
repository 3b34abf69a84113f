"""The Octopia sandbox over real HTTP on 127.0.0.1, spoken to with plain `requests`."""

import hashlib
import io
import os
import re
import time
import zipfile
from datetime import datetime, timedelta, timezone

import pytest
import requests

from octopia import wire
from octopia.sandbox import (
    AUTH_PATH,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_ORDERS,
    DEMO_SELLER_ID,
    SandboxServer,
)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
O1, O2, O3 = DEMO_ORDERS[:3]


def ubl(order_ref=None, root="Invoice", ns=wire.UBL_INVOICE_NS):
    ref = (
        f"<cac:OrderReference><cbc:ID>{order_ref}</cbc:ID></cac:OrderReference>"
        if order_ref
        else ""
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><{root} xmlns="{ns}" xmlns:cac="{CAC}"'
        f' xmlns:cbc="{CBC}"><cbc:ID>INV-1</cbc:ID>{ref}</{root}>'
    ).encode()


def zip_of(entries):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def get_token(srv, client_id=DEMO_CLIENT_ID, secret=DEMO_CLIENT_SECRET, timeout=5):
    return requests.post(
        srv.auth_url,
        data={"grant_type": wire.TOKEN_GRANT_TYPE, "client_id": client_id, "client_secret": secret},
        timeout=timeout,
    )


def headers(srv, seller=DEMO_SELLER_ID, token=None, **extra):
    token = token or get_token(srv).json()[wire.TOKEN_FIELD_ACCESS]
    values = {
        wire.HEADER_AUTHORIZATION: f"Bearer {token}",
        wire.HEADER_SELLER_ID: seller,
        wire.HEADER_ACCEPT: wire.ACCEPT_JSON,
    }
    values.update(extra)
    return values


def upload(srv, order, name, data, hdrs=None, *, timeout=5):
    return requests.post(
        srv.api_url + wire.order_invoice_path(order),
        headers=hdrs or headers(srv),
        files={wire.FIELD_SINGLE_FILE: (name, data)},
        timeout=timeout,
    )


def bulk(srv, parts, hdrs=None):
    files = [(wire.FIELD_BULK_FILES, (name, data)) for name, data in parts]
    return requests.post(
        srv.api_url + wire.PATH_IMPORTS, headers=hdrs or headers(srv), files=files, timeout=5
    )


def read(srv, import_id, hdrs=None):
    return requests.get(
        srv.api_url + wire.import_path(import_id), headers=hdrs or headers(srv), timeout=5
    )


def final(srv, response, hdrs=None):
    """Poll the import of an upload answer until it is final (running_polls=1: two reads)."""
    assert response.status_code == 201, response.text
    hdrs = hdrs or headers(srv)
    for _ in range(5):
        report = read(srv, response.json()[wire.REPORT_IMPORT_ID], hdrs).json()
        if wire.is_final(report[wire.REPORT_STATUS]):
            return report
    raise AssertionError(f"still running: {report}")


def only_file(report):
    (file,) = report[wire.REPORT_FILES]
    return file


def codes(report):
    return {
        f[wire.FILE_NAME]: (
            f[wire.FILE_STATUS],
            f[wire.FILE_INTEGRATION_STATUS],
            [e[wire.ERROR_CODE] for e in f[wire.FILE_ERRORS]],
        )
        for f in report[wire.REPORT_FILES]
    }


def assert_problem(response, status):
    assert response.status_code == status
    assert response.headers["Content-Type"] == wire.PROBLEM_JSON
    body = response.json()
    assert body[wire.PROBLEM_STATUS] == status
    assert body[wire.PROBLEM_TITLE] and body[wire.PROBLEM_DETAIL] and body["type"]
    assert re.fullmatch(r"[0-9a-f]{32}", body[wire.PROBLEM_TRACE_ID])
    return body


# --- server and seeding ---------------------------------------------------------------
def test_urls_keep_octopia_paths_and_swap_only_the_host(sandbox):
    assert sandbox.api_url == f"http://127.0.0.1:{sandbox.port}/seller/v2"
    assert sandbox.auth_url.endswith(wire.DEFAULT_AUTH_URL.split(".net", 1)[1])
    assert sandbox.port > 0


def test_seed_demo_is_idempotent(sandbox):
    demo = sandbox.seed_demo()
    assert demo == {
        "client_id": "demo-client",
        "client_secret": "demo-secret",
        "seller_id": "SELLER-1",
        "orders": [f"CD-{n}" for n in range(1001, 1011)],
    }


def test_start_stop_and_context_manager():
    srv = SandboxServer().start()
    try:
        assert srv.start() is srv
        assert requests.get(srv.api_url + "/nowhere", timeout=5).status_code == 404
    finally:
        srv.stop()
    srv.stop()  # twice is harmless
    with pytest.raises(requests.ConnectionError):
        requests.get(srv.api_url + "/nowhere", timeout=5)


# --- token endpoint -----------------------------------------------------------------
def test_token_ok(sandbox):
    response = get_token(sandbox)
    assert response.status_code == 200
    body = response.json()
    assert body[wire.TOKEN_FIELD_EXPIRES] == 7200 and body["token_type"] == "Bearer"
    assert len(body[wire.TOKEN_FIELD_ACCESS]) > 20


@pytest.mark.parametrize(
    ("client_id", "secret"), [("demo-client", "wrong"), ("nobody", "x"), ("", "")]
)
def test_token_bad_credentials(sandbox, client_id, secret):
    response = get_token(sandbox, client_id, secret)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "wrong" not in response.text


def test_token_wrong_grant(sandbox):
    response = requests.post(sandbox.auth_url, data={"grant_type": "password"}, timeout=5)
    assert response.status_code == 400
    assert response.json() == {"error": "unsupported_grant_type"}


def test_token_lifetime_is_honoured():
    with SandboxServer(token_lifetime=0) as srv:
        srv.seed_demo()
        hdrs = headers(srv)
        assert get_token(srv).json()[wire.TOKEN_FIELD_EXPIRES] == 0
        body = assert_problem(
            requests.get(srv.api_url + wire.PATH_IMPORTS, headers=hdrs, timeout=5), 401
        )
        assert "expired" in body[wire.PROBLEM_DETAIL]


def test_expire_tokens(sandbox):
    hdrs = headers(sandbox)
    url = sandbox.api_url + wire.PATH_IMPORTS
    assert requests.get(url, headers=hdrs, timeout=5).status_code == 200
    sandbox.expire_tokens()
    assert_problem(requests.get(url, headers=hdrs, timeout=5), 401)
    assert requests.get(url, headers=headers(sandbox), timeout=5).status_code == 200


# --- API checks ---------------------------------------------------------------------
def test_missing_or_unknown_token_is_401(sandbox):
    url = sandbox.api_url + wire.PATH_IMPORTS
    assert_problem(
        requests.get(url, headers={wire.HEADER_SELLER_ID: DEMO_SELLER_ID}, timeout=5), 401
    )
    assert_problem(requests.get(url, headers=headers(sandbox, token="forged"), timeout=5), 401)


def test_missing_seller_id_is_400(sandbox):
    hdrs = headers(sandbox)
    del hdrs[wire.HEADER_SELLER_ID]
    body = assert_problem(
        requests.get(sandbox.api_url + wire.PATH_IMPORTS, headers=hdrs, timeout=5), 400
    )
    assert body[wire.PROBLEM_ERRORS] == {wire.HEADER_SELLER_ID: ["required"]}


def test_seller_of_another_client_is_403(sandbox):
    sandbox.add_client("other", "secret", ["SELLER-2"])
    hdrs = headers(sandbox, seller="SELLER-2")  # demo token, other client's seller
    assert_problem(requests.get(sandbox.api_url + wire.PATH_IMPORTS, headers=hdrs, timeout=5), 403)


@pytest.mark.parametrize(
    ("accept", "status"),
    [
        ("text/html", 406),
        ("application/xml, text/plain", 406),
        ("application/json;q=0", 406),
        ("*/*", 200),
        ("application/*", 200),
        ("text/html, application/problem+json", 200),
        ("application/json; charset=utf-8", 200),
    ],
)
def test_accept_header(sandbox, accept, status):
    hdrs = headers(sandbox, **{wire.HEADER_ACCEPT: accept})
    response = requests.get(sandbox.api_url + wire.PATH_IMPORTS, headers=hdrs, timeout=5)
    assert response.status_code == status


def test_unknown_path_is_404_and_wrong_method_is_405(sandbox):
    hdrs = headers(sandbox)
    assert_problem(requests.get(sandbox.api_url + "/orders", headers=hdrs, timeout=5), 404)
    assert_problem(requests.get(sandbox.base_url + "/elsewhere", timeout=5), 404)
    response = requests.delete(sandbox.api_url + wire.PATH_IMPORTS, headers=hdrs, timeout=5)
    assert_problem(response, 405)
    assert response.headers["Allow"] == "GET, POST"
    assert_problem(
        requests.get(sandbox.api_url + wire.order_invoice_path(O1), headers=hdrs, timeout=5), 405
    )


# --- single upload ------------------------------------------------------------------
def test_single_upload_is_running_then_success(sandbox):
    response = upload(sandbox, O1, "invoice-1.pdf", PDF)
    assert response.status_code == 201
    assert response.headers["Content-Type"] == wire.ACCEPT_JSON
    report = response.json()
    assert report[wire.REPORT_STATUS] == wire.STATUS_RUNNING
    assert only_file(report) == {
        wire.FILE_NAME: "invoice-1.pdf",
        wire.FILE_ORDER_ID: O1,
        wire.FILE_STATUS: wire.STATUS_RUNNING,
        wire.FILE_INTEGRATION_STATUS: wire.STEP_ORDER_CHECK,
        wire.FILE_ERRORS: [],
    }
    import_id = report[wire.REPORT_IMPORT_ID]
    assert response.headers["Location"].endswith(wire.import_path(import_id))
    first = read(sandbox, import_id).json()
    assert first[wire.REPORT_STATUS] == wire.STATUS_RUNNING  # one read still sees it running
    done = read(sandbox, import_id).json()
    assert done[wire.REPORT_STATUS] == wire.STATUS_SUCCESS
    assert only_file(done)[wire.FILE_INTEGRATION_STATUS] == wire.STEP_DONE
    assert done[wire.REPORT_CREATED_AT].endswith("Z") and done[wire.REPORT_UPDATED_AT]
    assert sandbox.get_import(DEMO_SELLER_ID, import_id) == done
    assert sandbox.current_invoice(DEMO_SELLER_ID, O1)["sha256"] == hashlib.sha256(PDF).hexdigest()


def test_unknown_order_fails_at_order_check(sandbox):
    report = final(sandbox, upload(sandbox, "CD-9999", "CD-9999.pdf", PDF))
    assert report[wire.REPORT_STATUS] == wire.STATUS_FAILURE
    assert codes(report) == {
        "CD-9999.pdf": (wire.STATUS_FAILURE, wire.STEP_ORDER_CHECK, ["OrderNotFound"])
    }


@pytest.mark.parametrize(
    ("name", "data", "status", "code"),
    [
        ("a.xml", ubl(), wire.STATUS_SUCCESS, None),
        ("a.xml", ubl(O1), wire.STATUS_SUCCESS, None),
        ("a.xml", ubl(root="CreditNote", ns=wire.UBL_CREDIT_NOTE_NS), wire.STATUS_SUCCESS, None),
        ("a.xml", ubl("CD-1002"), wire.STATUS_FAILURE, "OrderReferenceMismatch"),
        ("a.xml", b"<Invoice><unclosed>", wire.STATUS_FAILURE, "InvalidDocument"),
        ("a.xml", b"<Invoice xmlns='urn:other'/>", wire.STATUS_FAILURE, "InvalidDocument"),
        ("a.pdf", b"not a pdf", wire.STATUS_FAILURE, "InvalidDocument"),
        ("a.pdf", b"", wire.STATUS_FAILURE, "EmptyFile"),
        ("a.bin", PDF, wire.STATUS_SUCCESS, None),
        ("a.bin", b"\x00\x01binary", wire.STATUS_FAILURE, "UnsupportedFormat"),
    ],
)
def test_single_upload_file_checks(sandbox, name, data, status, code):
    file = only_file(final(sandbox, upload(sandbox, O1, name, data)))
    assert file[wire.FILE_STATUS] == status
    if code:
        assert file[wire.FILE_INTEGRATION_STATUS] == wire.STEP_FILE_CHECK
        assert [e[wire.ERROR_CODE] for e in file[wire.FILE_ERRORS]] == [code]
        assert file[wire.FILE_ERRORS][0][wire.ERROR_MESSAGE]


def test_xml_entities_are_not_resolved(sandbox, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    xml = (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]>'
        f'<Invoice xmlns="{wire.UBL_INVOICE_NS}" xmlns:cac="{CAC}" xmlns:cbc="{CBC}">'
        f"<cac:OrderReference><cbc:ID>&x;</cbc:ID></cac:OrderReference></Invoice>"
    ).encode()
    report = final(sandbox, upload(sandbox, O1, "a.xml", xml))
    assert "TOP-SECRET" not in str(report)


def test_single_upload_refusals(sandbox):
    url = sandbox.api_url + wire.order_invoice_path(O1)
    hdrs = headers(sandbox)
    body = assert_problem(
        requests.post(url, headers=hdrs, files={"other": ("a.pdf", PDF)}, timeout=5), 400
    )
    assert wire.FIELD_SINGLE_FILE in body[wire.PROBLEM_ERRORS]
    assert_problem(requests.post(url, headers=hdrs, data=PDF, timeout=5), 415)
    assert_problem(
        requests.post(
            url, headers={**hdrs, "Content-Type": "application/pdf"}, data=PDF, timeout=5
        ),
        415,
    )
    assert sandbox.imports_of(DEMO_SELLER_ID) == []


def test_binary_content_survives_multipart(sandbox):
    data = b"%PDF-1.7\r\n" + os.urandom(100_000) + b"\r\n--\r\n\n\r"
    final(sandbox, upload(sandbox, O1, f"{O1}.pdf", data))
    assert sandbox.current_invoice(DEMO_SELLER_ID, O1)["sha256"] == hashlib.sha256(data).hexdigest()


def test_file_too_large_and_request_too_large():
    with SandboxServer(max_file_bytes=100, max_request_bytes=1000) as srv:
        srv.seed_demo()
        file = only_file(final(srv, upload(srv, O1, "a.pdf", PDF + b"x" * 200)))
        assert file[wire.FILE_ERRORS][0][wire.ERROR_CODE] == "FileTooLarge"
        assert_problem(upload(srv, O1, "a.pdf", PDF + b"x" * 2000), 413)
        chunked = requests.post(
            srv.api_url + wire.PATH_IMPORTS, headers=headers(srv), data=iter([b"chunk"]), timeout=5
        )
        assert_problem(chunked, 411)


# --- bulk upload --------------------------------------------------------------------
def test_bulk_zip_mixed_is_partial_success(sandbox):
    archive = zip_of(
        {f"{O1}.pdf": PDF, f"{O2}.xml": ubl(O2), "CD-9999.pdf": PDF, f"{O3}.pdf": b"garbage"}
    )
    response = bulk(sandbox, [("bundle.zip", archive)])
    running = response.json()
    assert response.status_code == 201 and running[wire.REPORT_STATUS] == wire.STATUS_RUNNING
    assert {f[wire.FILE_STATUS] for f in running[wire.REPORT_FILES]} == {wire.STATUS_RUNNING}
    report = final(sandbox, response)
    assert report[wire.REPORT_STATUS] == wire.STATUS_PARTIAL
    assert codes(report) == {
        f"{O1}.pdf": (wire.STATUS_SUCCESS, wire.STEP_DONE, []),
        f"{O2}.xml": (wire.STATUS_SUCCESS, wire.STEP_DONE, []),
        "CD-9999.pdf": (wire.STATUS_FAILURE, wire.STEP_ORDER_CHECK, ["OrderNotFound"]),
        f"{O3}.pdf": (wire.STATUS_FAILURE, wire.STEP_FILE_CHECK, ["InvalidDocument"]),
    }
    orders = {f[wire.FILE_NAME]: f[wire.FILE_ORDER_ID] for f in report[wire.REPORT_FILES]}
    assert orders[f"{O2}.xml"] == O2 and orders["CD-9999.pdf"] == "CD-9999"


def test_bulk_bad_zip_entry_names(sandbox):
    archive = zip_of(
        {
            "folder/": b"",
            f"folder/{O1}.pdf": PDF,
            "inner.zip": zip_of({}),
            f"{O1}.txt": b"text",
            "not an order!.pdf": PDF,
            f"{O2}.PDF": PDF,
        }
    )
    report = final(sandbox, bulk(sandbox, [("bundle.zip", archive)]))
    assert report[wire.REPORT_STATUS] == wire.STATUS_PARTIAL
    assert codes(report) == {  # the folder entry itself is no file
        f"folder/{O1}.pdf": (wire.STATUS_FAILURE, wire.STEP_FILE_CHECK, ["InvalidFileName"]),
        "inner.zip": (wire.STATUS_FAILURE, wire.STEP_FILE_CHECK, ["UnsupportedFormat"]),
        f"{O1}.txt": (wire.STATUS_FAILURE, wire.STEP_FILE_CHECK, ["UnsupportedFormat"]),
        "not an order!.pdf": (wire.STATUS_FAILURE, wire.STEP_FILE_CHECK, ["InvalidFileName"]),
        f"{O2}.PDF": (wire.STATUS_SUCCESS, wire.STEP_DONE, []),
    }
    assert sandbox.invoice_history(DEMO_SELLER_ID, O1) == []  # no file matched it


def test_bulk_archive_that_cannot_be_opened(sandbox):
    report = final(sandbox, bulk(sandbox, [("bundle.zip", b"PK\x03\x04 broken")]))
    assert report[wire.REPORT_STATUS] == wire.STATUS_FAILURE
    assert codes(report) == {
        "bundle.zip": (wire.STATUS_FAILURE, wire.STEP_FILE_CHECK, ["InvalidArchive"])
    }


def test_bulk_several_parts_all_ok_or_all_failed(sandbox):
    ok = final(
        sandbox,
        bulk(
            sandbox,
            [(f"{O1}.pdf", PDF), (f"{O2}.xml", ubl()), ("more.zip", zip_of({f"{O3}.pdf": PDF}))],
        ),
    )
    assert ok[wire.REPORT_STATUS] == wire.STATUS_SUCCESS
    assert [f[wire.FILE_ORDER_ID] for f in ok[wire.REPORT_FILES]] == [O1, O2, O3]
    bad = final(sandbox, bulk(sandbox, [("CD-9998.pdf", PDF), ("x.doc", PDF)]))
    assert bad[wire.REPORT_STATUS] == wire.STATUS_FAILURE


def test_bulk_too_many_files_in_zip():
    with SandboxServer(max_files_per_zip=2) as srv:
        srv.seed_demo()
        archive = zip_of({f"{order}.pdf": PDF for order in DEMO_ORDERS[:3]})
        report = final(srv, bulk(srv, [("big.zip", archive)]))
        assert codes(report)["big.zip"][2] == ["TooManyFiles"]


def test_bulk_refusals(sandbox):
    url = sandbox.api_url + wire.PATH_IMPORTS
    hdrs = headers(sandbox)
    body = assert_problem(
        requests.post(url, headers=hdrs, files={"file": ("a.pdf", PDF)}, timeout=5), 400
    )
    assert wire.FIELD_BULK_FILES in body[wire.PROBLEM_ERRORS]
    assert_problem(requests.post(url, headers=hdrs, json={"files": []}, timeout=5), 415)


# --- replace rule, asynchronism, listing ------------------------------------------------
def test_replace_rule_keeps_history(sandbox):
    first = final(sandbox, upload(sandbox, O1, "v1.pdf", PDF))
    second = final(sandbox, bulk(sandbox, [(f"{O1}.xml", ubl(O1))]))
    failed = final(sandbox, upload(sandbox, O1, "v3.pdf", b"broken"))
    history = sandbox.invoice_history(DEMO_SELLER_ID, O1)
    assert [(h["importId"], h["fileName"], h["status"]) for h in history] == [
        (first[wire.REPORT_IMPORT_ID], "v1.pdf", wire.STATUS_SUCCESS),
        (second[wire.REPORT_IMPORT_ID], f"{O1}.xml", wire.STATUS_SUCCESS),
        (failed[wire.REPORT_IMPORT_ID], "v3.pdf", wire.STATUS_FAILURE),
    ]
    current = sandbox.current_invoice(DEMO_SELLER_ID, O1)
    assert current["fileName"] == f"{O1}.xml"
    assert current["sha256"] == hashlib.sha256(ubl(O1)).hexdigest()
    assert sandbox.current_invoice(DEMO_SELLER_ID, O2) is None


def test_running_until_polls_and_seconds():
    with SandboxServer(running_polls=0, running_seconds=0.3) as srv:
        srv.seed_demo()
        hdrs = headers(srv)
        import_id = upload(srv, O1, "a.pdf", PDF, hdrs).json()[wire.REPORT_IMPORT_ID]
        assert read(srv, import_id, hdrs).json()[wire.REPORT_STATUS] == wire.STATUS_RUNNING
        time.sleep(0.35)
        assert read(srv, import_id, hdrs).json()[wire.REPORT_STATUS] == wire.STATUS_SUCCESS


def test_set_running_for_new_imports_and_one_import(sandbox):
    hdrs = headers(sandbox)
    sandbox.set_running(polls=3)
    import_id = upload(sandbox, O1, "a.pdf", PDF, hdrs).json()[wire.REPORT_IMPORT_ID]
    statuses = [read(sandbox, import_id, hdrs).json()[wire.REPORT_STATUS] for _ in range(4)]
    assert statuses == [wire.STATUS_RUNNING] * 3 + [wire.STATUS_SUCCESS]
    other = upload(sandbox, O2, "b.pdf", PDF, hdrs).json()[wire.REPORT_IMPORT_ID]
    sandbox.set_running(polls=0, import_id=other)
    assert read(sandbox, other, hdrs).json()[wire.REPORT_STATUS] == wire.STATUS_SUCCESS


def test_import_of_another_seller_is_404(sandbox):
    sandbox.add_client(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, [DEMO_SELLER_ID, "SELLER-2"])
    import_id = upload(sandbox, O1, "a.pdf", PDF).json()[wire.REPORT_IMPORT_ID]
    assert_problem(read(sandbox, import_id, headers(sandbox, seller="SELLER-2")), 404)
    assert_problem(read(sandbox, "no-such-import"), 404)
    assert sandbox.imports_of("SELLER-2") == []


def test_list_paging_newest_first_and_order_filter(sandbox):
    hdrs = headers(sandbox)
    ids = [
        upload(sandbox, order, "a.pdf", PDF, hdrs).json()[wire.REPORT_IMPORT_ID]
        for order in (O1, O2, O1)
    ]
    url = sandbox.api_url + wire.PATH_IMPORTS

    def page(**params):
        return requests.get(url, headers=hdrs, params=params, timeout=5)

    first = page(pageIndex=1, pageSize=2).json()
    assert first[wire.LIST_TOTAL] == 3
    assert [r[wire.REPORT_IMPORT_ID] for r in first[wire.LIST_ITEMS]] == ids[::-1][:2]
    second = page(pageIndex=2, pageSize=2).json()
    assert [r[wire.REPORT_IMPORT_ID] for r in second[wire.LIST_ITEMS]] == ids[:1]
    assert page().json()[wire.LIST_TOTAL] == 3
    assert page(pageIndex=9).json()[wire.LIST_ITEMS] == []
    filtered = page(orderId=O1).json()
    assert [r[wire.REPORT_IMPORT_ID] for r in filtered[wire.LIST_ITEMS]] == [ids[2], ids[0]]
    for bad in ({"pageSize": 101}, {"pageSize": 0}, {"pageIndex": 0}, {"pageIndex": "x"}):
        assert_problem(page(**bad), 400)
    assert [i[wire.REPORT_IMPORT_ID] for i in sandbox.imports_of(DEMO_SELLER_ID)] == ids


def test_list_is_newest_first_by_creation_time(sandbox):
    hdrs = headers(sandbox)
    t0 = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
    made = []
    for order, minutes in ((O1, 0), (O2, -30), (O3, 5), (O1, 5)):  # made in this order
        sandbox.clock = lambda m=minutes: t0 + timedelta(minutes=m)
        made.append(upload(sandbox, order, "a.pdf", PDF, hdrs).json())
    assert made[1][wire.REPORT_CREATED_AT] == "2026-11-20T09:30:00.000Z"
    page = requests.get(sandbox.api_url + wire.PATH_IMPORTS, headers=hdrs, timeout=5).json()
    listed = [r[wire.REPORT_IMPORT_ID] for r in page[wire.LIST_ITEMS]]
    ids = [r[wire.REPORT_IMPORT_ID] for r in made]
    assert listed == [ids[3], ids[2], ids[0], ids[1]]  # equal times: the latest made first
    times = [wire.parse_time(r[wire.LIST_ORDER_FIELD]) for r in page[wire.LIST_ITEMS]]
    assert times == sorted(times, reverse=True)


def test_list_ignores_unknown_filters_and_can_ignore_the_order_filter(sandbox):
    hdrs = headers(sandbox)
    ids = [
        upload(sandbox, order, "a.pdf", PDF, hdrs).json()[wire.REPORT_IMPORT_ID]
        for order in (O1, O2)
    ]
    url = sandbox.api_url + wire.PATH_IMPORTS

    def listed(**params):
        page = requests.get(url, headers=hdrs, params=params, timeout=5).json()
        return [r[wire.REPORT_IMPORT_ID] for r in page[wire.LIST_ITEMS]]

    assert listed(sort="createdAt asc", createdAfter="2099-01-01", status="Failure") == ids[::-1]
    assert listed(**{wire.LIST_FILTER_ORDER_ID: O1}) == ids[:1]
    sandbox.ignore_order_filter = True
    assert listed(**{wire.LIST_FILTER_ORDER_ID: O1}) == ids[::-1]
    assert SandboxServer(ignore_order_filter=True).ignore_order_filter


def test_requests_log_and_count(sandbox):
    hdrs = headers(sandbox)
    requests.get(
        sandbox.api_url + wire.PATH_IMPORTS, headers=hdrs, params={"pageSize": 5}, timeout=5
    )
    upload(sandbox, O1, "a.pdf", PDF, hdrs)
    assert sandbox.requests == [
        ("POST", "/auth/realms/maas/protocol/openid-connect/token", 200),
        ("GET", "/seller/v2/order-invoice-imports", 200),
        ("POST", "/seller/v2/orders/CD-1001/invoice-documents", 201),
    ]
    assert sandbox.request_count() == 3
    assert sandbox.request_count(method="POST") == 2
    assert sandbox.request_count(method="post", path_prefix="/seller/") == 1
    assert sandbox.request_count(path_prefix=wire.PATH_IMPORTS) == 1  # relative to the API


def test_reset_keeps_clients_and_orders(sandbox):
    hdrs = headers(sandbox)
    final(sandbox, upload(sandbox, O1, "a.pdf", PDF, hdrs))
    sandbox.inject("status", times=None, status=500)
    sandbox.reset()
    assert sandbox.imports_of(DEMO_SELLER_ID) == [] and sandbox.requests == []
    assert sandbox.invoice_history(DEMO_SELLER_ID, O1) == []
    assert_problem(
        requests.get(sandbox.api_url + wire.PATH_IMPORTS, headers=hdrs, timeout=5), 401
    )  # tokens forgotten, no fault left
    report = final(sandbox, upload(sandbox, O1, "a.pdf", PDF))
    assert report[wire.REPORT_STATUS] == wire.STATUS_SUCCESS


# --- fault injection ----------------------------------------------------------------
def test_fault_status_with_retry_after_is_not_processed(sandbox):
    hdrs = headers(sandbox)
    sandbox.inject("status", times=2, path="/invoice-documents", status=503, retry_after=7)
    for _ in range(2):
        response = upload(sandbox, O1, "a.pdf", PDF, hdrs)
        assert_problem(response, 503)
        assert response.headers[wire.HEADER_RETRY_AFTER] == "7"
    assert sandbox.imports_of(DEMO_SELLER_ID) == []
    assert upload(sandbox, O1, "a.pdf", PDF, hdrs).status_code == 201


def test_fault_status_variants(sandbox):
    hdrs = headers(sandbox)
    url = sandbox.api_url + wire.PATH_IMPORTS
    date = "Wed, 21 Oct 2037 07:28:00 GMT"
    sandbox.inject("status", status=429, retry_after=date)
    response = requests.get(url, headers=hdrs, timeout=5)
    assert response.status_code == 429 and response.headers[wire.HEADER_RETRY_AFTER] == date
    sandbox.inject("status", status=500, retry_after=None)
    response = requests.get(url, headers=hdrs, timeout=5)
    assert_problem(response, 500)
    assert wire.HEADER_RETRY_AFTER not in response.headers
    sandbox.inject("status", status=422, errors={"file": ["bad"]}, detail="nope")
    body = assert_problem(requests.get(url, headers=hdrs, timeout=5), 422)
    assert body[wire.PROBLEM_ERRORS] == {"file": ["bad"]} and body[wire.PROBLEM_DETAIL] == "nope"


def test_fault_filters_method_path_and_token_endpoint(sandbox):
    hdrs = headers(sandbox)
    url = sandbox.api_url + wire.PATH_IMPORTS
    sandbox.inject("status", method="POST", status=502)  # path None: never the token endpoint
    assert get_token(sandbox).status_code == 200
    assert requests.get(url, headers=hdrs, timeout=5).status_code == 200
    assert upload(sandbox, O1, "a.pdf", PDF, hdrs).status_code == 502
    sandbox.inject("status", path=r"/orders/CD-10\d+/", status=409)
    assert requests.get(url, headers=hdrs, timeout=5).status_code == 200
    assert upload(sandbox, O2, "a.pdf", PDF, hdrs).status_code == 409
    sandbox.inject("status", path=re.compile("openid-connect"), status=503)
    assert get_token(sandbox).status_code == 503
    assert get_token(sandbox).status_code == 200


def test_faults_on_the_token_endpoint(sandbox):
    sandbox.inject("status", path=AUTH_PATH, status=503, retry_after=2)
    response = get_token(sandbox)
    assert_problem(response, 503)
    assert response.headers[wire.HEADER_RETRY_AFTER] == "2"
    sandbox.inject("drop", path=AUTH_PATH)
    with pytest.raises(requests.ConnectionError):
        get_token(sandbox)
    sandbox.inject("slow", path=AUTH_PATH, delay=1.0)
    with pytest.raises(requests.ReadTimeout):
        get_token(sandbox, timeout=(5, 0.2))
    sandbox.inject("malformed", path=AUTH_PATH)
    with pytest.raises(ValueError):
        get_token(sandbox).json()
    assert len(sandbox.state.tokens) == 1  # handled: only the slow one, as for the API
    assert get_token(sandbox).status_code == 200
    assert sandbox.request_count(path_prefix=AUTH_PATH) == 5


def test_fault_forever_until_cleared(sandbox):
    hdrs = headers(sandbox)
    url = sandbox.api_url + wire.PATH_IMPORTS
    sandbox.inject("status", times=None, status=500)
    assert [requests.get(url, headers=hdrs, timeout=5).status_code for _ in range(3)] == [500] * 3
    sandbox.clear_faults()
    assert requests.get(url, headers=hdrs, timeout=5).status_code == 200


def test_fault_expire_token(sandbox):
    hdrs = headers(sandbox)
    url = sandbox.api_url + wire.PATH_IMPORTS
    sandbox.inject("expire_token", path=wire.PATH_IMPORTS)
    body = assert_problem(requests.get(url, headers=hdrs, timeout=5), 401)
    assert "expired" in body[wire.PROBLEM_DETAIL]
    assert requests.get(url, headers=headers(sandbox), timeout=5).status_code == 200


def test_fault_slow_is_processed(sandbox):
    hdrs = headers(sandbox)
    sandbox.inject("slow", path="/invoice-documents", delay=0.3)
    started = time.monotonic()
    assert upload(sandbox, O1, "a.pdf", PDF, hdrs).status_code == 201
    assert time.monotonic() - started >= 0.3
    sandbox.inject("slow", path="/invoice-documents", delay=1.0)
    with pytest.raises(requests.ReadTimeout):
        upload(sandbox, O2, "a.pdf", PDF, hdrs, timeout=(5, 0.2))
    assert sandbox.requests[-1] == (
        "POST",
        "/seller/v2/orders/CD-1002/invoice-documents",
        None,
    )  # seen, not answered yet
    assert len(sandbox.imports_of(DEMO_SELLER_ID)) == 2  # the slow one was created too


def test_fault_drop_creates_nothing(sandbox):
    hdrs = headers(sandbox)
    sandbox.inject("drop", path="/invoice-documents")
    with pytest.raises(requests.ConnectionError):
        upload(sandbox, O1, "a.pdf", PDF, hdrs)
    assert sandbox.imports_of(DEMO_SELLER_ID) == []
    assert sandbox.requests[-1] == ("POST", "/seller/v2/orders/CD-1001/invoice-documents", None)
    assert upload(sandbox, O1, "a.pdf", PDF, hdrs).status_code == 201


def test_fault_drop_after_accept_creates_the_import(sandbox):
    hdrs = headers(sandbox)
    sandbox.inject("drop_after_accept", path=wire.PATH_IMPORTS, method="POST")
    with pytest.raises(requests.ConnectionError):
        bulk(sandbox, [(f"{O1}.pdf", PDF)], hdrs)
    (report,) = sandbox.imports_of(DEMO_SELLER_ID)
    assert report[wire.REPORT_STATUS] == wire.STATUS_RUNNING
    assert sandbox.request_count(method="POST", path_prefix=wire.PATH_IMPORTS) == 1


def test_fault_malformed_is_not_processed(sandbox):
    hdrs = headers(sandbox)
    sandbox.inject("malformed", path="/invoice-documents")
    response = upload(sandbox, O1, "a.pdf", PDF, hdrs)
    assert response.status_code == 201
    assert response.headers["Content-Type"] == wire.ACCEPT_JSON
    with pytest.raises(ValueError):
        response.json()
    assert sandbox.imports_of(DEMO_SELLER_ID) == []
    sandbox.inject("malformed", method="GET", body=b"[")
    response = requests.get(sandbox.api_url + wire.PATH_IMPORTS, headers=hdrs, timeout=5)
    assert (response.status_code, response.content) == (200, b"[")


def test_fault_raw_is_verbatim(sandbox):
    hdrs = headers(sandbox)
    body = b'{"importId": "imp-1", "status": "Quarantined"}'
    sandbox.inject("raw", path=wire.PATH_IMPORTS, status=200, body=body)
    response = read(sandbox, "imp-1", hdrs)
    assert (response.status_code, response.content) == (200, body)
    sandbox.inject("raw", status=502, body="<html>bad gateway</html>", content_type="text/html")
    response = read(sandbox, "imp-1", hdrs)
    assert response.status_code == 502 and response.headers["Content-Type"] == "text/html"
    assert response.text == "<html>bad gateway</html>"
    sandbox.inject("raw", status=200, body={"items": [], "totalCount": 0})
    assert read(sandbox, "imp-1", hdrs).json() == {"items": [], "totalCount": 0}


def test_inject_refuses_unknown_or_incomplete_faults(sandbox):
    with pytest.raises(ValueError):
        sandbox.inject("explode")
    with pytest.raises(ValueError):
        sandbox.inject("status")
    with pytest.raises(ValueError):
        sandbox.inject("slow", times=0, delay=1)


def test_keep_alive_connection_is_reused(sandbox):
    with requests.Session() as session:
        session.headers.update(headers(sandbox))
        for _ in range(3):
            assert session.get(sandbox.api_url + wire.PATH_IMPORTS, timeout=5).status_code == 200
        final(
            sandbox,
            session.post(
                sandbox.api_url + wire.order_invoice_path(O1),
                files={wire.FIELD_SINGLE_FILE: ("a.pdf", PDF)},
                timeout=5,
            ),
            dict(session.headers),
        )
