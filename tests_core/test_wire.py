"""wire.py: reading Octopia's import reports defensively, and writing them back."""

import json
from datetime import datetime, timedelta, timezone

import pytest

from octopia import wire
from octopia.wire import FileError, FileResult, ImportReport, ReportFormatError

FULL = {
    "importId": "imp-1",
    "status": "PartialSuccess",
    "createdAt": "2026-11-20T10:00:00.000Z",
    "updatedAt": "2026-11-20T10:00:05.000Z",
    "files": [
        {
            "fileName": "CD-1001.pdf",
            "orderId": "CD-1001",
            "status": "Success",
            "integrationStatus": "Integrated",
            "errors": [],
        },
        {
            "fileName": "CD-9999.xml",
            "orderId": "CD-9999",
            "status": "Failure",
            "integrationStatus": "OrderCheck",
            "errors": [{"code": "OrderNotFound", "message": "order CD-9999 is unknown"}],
        },
    ],
}


def report(**changes):
    data = json.loads(json.dumps(FULL))
    data.update(changes)
    return data


def one_file(**fields):
    return wire.parse_report({"importId": "imp-1", "status": "Running", "files": [fields]})


# --- a complete report ------------------------------------------------------------
def test_full_report_is_parsed_field_by_field():
    parsed = wire.parse_report(FULL)
    assert parsed.import_id == "imp-1"
    assert parsed.status == wire.STATUS_PARTIAL
    assert parsed.is_final
    assert parsed.created_at == datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
    assert parsed.updated_at == datetime(2026, 11, 20, 10, 0, 5, tzinfo=timezone.utc)
    assert parsed.created_at_text == "2026-11-20T10:00:00.000Z"
    assert parsed.updated_at_text == "2026-11-20T10:00:05.000Z"
    ok, failed = parsed.files
    assert ok == FileResult("CD-1001.pdf", "CD-1001", "Success", "Integrated", ())
    assert ok.is_success and not ok.is_failure
    assert failed.is_failure and not failed.is_success
    assert failed.errors == (FileError("OrderNotFound", "order CD-9999 is unknown"),)
    assert parsed.file_for_order("CD-9999") is failed
    assert parsed.file_for_order("CD-0000") is None


def test_json_text_and_bytes_give_the_same_report():
    text = json.dumps(FULL)
    assert wire.parse_report(text) == wire.parse_report(text.encode()) == wire.parse_report(FULL)


def test_raw_is_kept_and_serialised_with_sorted_keys():
    parsed = wire.parse_report(FULL)
    assert parsed.raw == FULL
    assert json.loads(parsed.raw_json) == FULL
    assert parsed.raw_json == json.dumps(FULL, sort_keys=True)


def test_raw_is_not_part_of_equality():
    assert wire.parse_report(FULL) == wire.parse_report(report(extra="ignored"))


# --- unknown values are kept as text, never final ------------------------------------
def test_unknown_import_status_is_kept_and_not_final():
    parsed = wire.parse_report(report(status="Queued"))
    assert parsed.status == "Queued"
    assert not parsed.is_final


@pytest.mark.parametrize("status", ["", "success", "SUCCESS", "Cancelled", None])
def test_only_documented_spellings_are_final(status):
    assert not wire.is_final(status)


@pytest.mark.parametrize("status", wire.FINAL_STATUSES)
def test_documented_final_statuses(status):
    assert wire.is_final(status)
    assert wire.parse_report(report(status=status)).is_final


def test_running_is_not_final():
    assert not wire.is_final(wire.STATUS_RUNNING)


def test_unknown_file_status_and_step_are_kept_as_text():
    parsed = one_file(
        fileName="CD-1.pdf", status="Quarantined", integrationStatus="VirusScan", errors=[]
    )
    (file,) = parsed.files
    assert file.status == "Quarantined"
    assert file.integration_status == "VirusScan"
    assert not file.is_success and not file.is_failure


def test_non_text_values_become_json_text():
    parsed = wire.parse_report({"importId": 42, "status": {"code": 1}, "files": []})
    assert parsed.import_id == "42"
    assert parsed.status == '{"code": 1}'
    assert not parsed.is_final


# --- times ------------------------------------------------------------------------------
UTC = timezone.utc


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-20T10:00:00Z", datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
        ("2026-11-20T10:00:00.250Z", datetime(2026, 11, 20, 10, 0, 0, 250000, tzinfo=UTC)),
        ("2026-11-20T10:00:00.1234567Z", datetime(2026, 11, 20, 10, 0, 0, 123456, tzinfo=UTC)),
        ("2026-11-20T10:00:00,5Z", datetime(2026, 11, 20, 10, 0, 0, 500000, tzinfo=UTC)),
        ("2026-11-20T10:00:00+01:00", datetime(2026, 11, 20, 9, 0, tzinfo=UTC)),
        ("2026-11-20T10:00:00.5+01:00", datetime(2026, 11, 20, 9, 0, 0, 500000, tzinfo=UTC)),
        ("2026-11-20T10:00:00-05:30", datetime(2026, 11, 20, 15, 30, tzinfo=UTC)),
        ("2026-11-20T10:00:00+0100", datetime(2026, 11, 20, 9, 0, tzinfo=UTC)),
        ("2026-11-20T00:30:00+01:00", datetime(2026, 11, 19, 23, 30, tzinfo=UTC)),
        ("2026-11-20T10:00:00", datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),  # naive: UTC
        ("2026-11-20 10:00:00.123456", datetime(2026, 11, 20, 10, 0, 0, 123456, tzinfo=UTC)),
        ("2026-11-20t10:00z", datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
        (" 2026-11-20T10:00:00Z ", datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
    ],
)
def test_times_become_aware_utc_datetimes(text, expected):
    moment = wire.parse_time(text)
    assert moment == expected
    assert moment.utcoffset() == timedelta(0)
    parsed = wire.parse_report(report(createdAt=text, updatedAt=text))
    assert parsed.created_at == parsed.updated_at == expected
    assert parsed.created_at_text == parsed.updated_at_text == text


@pytest.mark.parametrize(
    "value",
    [
        "",
        "yesterday",
        "2026-11-20",  # a date alone says nothing of the time
        "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "2026-11-20T25:00:00Z",
        "2026-11-20T10:00:60Z",
        "2026-11-20T10:00:00+24:00",
        "2026-11-20T10:00:00+01:75",
        "0001-01-01T00:00:00+01:00",
        "2026-11-20T10:00:00Zjunk",
        1700000000,
        {"at": "2026-11-20T10:00:00Z"},
        None,
    ],
)
def test_an_unreadable_time_is_none_and_its_text_is_kept(value):
    assert wire.parse_time(value) is None
    parsed = wire.parse_report(report(createdAt=value))
    assert parsed.created_at is None
    assert parsed.created_at_text == ("" if value is None else wire._text(value))
    assert parsed.raw["createdAt"] == value


def test_times_compare_as_moments_not_as_text():
    # Lexically the first is later; as moments it is an hour earlier.
    paris = wire.parse_report(report(createdAt="2026-11-20T10:30:00+01:00"))
    utc = wire.parse_report(report(createdAt="2026-11-20T10:00:00Z"))
    assert paris.created_at_text > utc.created_at_text
    assert paris.created_at < utc.created_at


def test_format_time_is_utc_with_z():
    moment = datetime(2026, 11, 20, 11, 0, 0, 250000, tzinfo=timezone(timedelta(hours=1)))
    assert wire.format_time(moment) == "2026-11-20T10:00:00.250Z"
    assert wire.parse_time(wire.format_time(moment)) == moment


# --- missing optional fields ----------------------------------------------------------
def test_minimal_report_has_defaults():
    parsed = wire.parse_report({"importId": "imp-2"})
    assert parsed == ImportReport("imp-2", "", ())
    assert (parsed.created_at, parsed.updated_at) == (None, None)
    assert (parsed.created_at_text, parsed.updated_at_text) == ("", "")
    assert not parsed.is_final


def test_null_optional_fields_are_empty_text():
    parsed = wire.parse_report(report(createdAt=None, updatedAt=None, status=None, files=None))
    assert (parsed.created_at, parsed.updated_at, parsed.status, parsed.files) == (
        None,
        None,
        "",
        (),
    )
    assert (parsed.created_at_text, parsed.updated_at_text) == ("", "")


def test_missing_file_fields_are_empty_and_order_comes_from_the_file_name():
    (file,) = one_file(fileName="CD-1002.xml").files
    assert file == FileResult("CD-1002.xml", "CD-1002", "", "", ())
    assert file.error_text == ""


@pytest.mark.parametrize("order_id", [None, ""])
def test_empty_order_id_is_derived_from_the_file_name(order_id):
    (file,) = one_file(fileName="CD-1003.PDF", orderId=order_id).files
    assert file.order_id == "CD-1003"


def test_order_id_given_by_octopia_wins_over_the_file_name():
    (file,) = one_file(fileName="invoice.pdf", orderId="CD-1004").files
    assert file.order_id == "CD-1004"


def test_file_entry_without_a_name_or_order():
    (file,) = one_file(status="Failure").files
    assert (file.file_name, file.order_id) == ("", "")


# --- errors ---------------------------------------------------------------------------
@pytest.mark.parametrize("errors", [[], None, {}, ""])
def test_errors_present_but_empty(errors):
    (file,) = one_file(fileName="CD-1.pdf", status="Failure", errors=errors).files
    assert file.errors == ()
    assert file.error_text == ""
    assert file.is_failure


def test_an_error_entry_that_is_a_plain_string():
    (file,) = one_file(fileName="CD-1.pdf", errors=["the PDF is encrypted"]).files
    assert file.errors == (FileError("", "the PDF is encrypted"),)
    assert file.error_text == "the PDF is encrypted"


def test_a_single_error_object_instead_of_a_list():
    (file,) = one_file(fileName="CD-1.pdf", errors={"code": "E1", "message": "bad"}).files
    assert file.errors == (FileError("E1", "bad"),)


def test_a_single_error_string_instead_of_a_list():
    (file,) = one_file(fileName="CD-1.pdf", errors="bad").files
    assert file.errors == (FileError("", "bad"),)


def test_error_entries_of_other_shapes_are_kept_as_text():
    (file,) = one_file(
        fileName="CD-1.pdf",
        errors=[{"message": "no code"}, {"code": "C"}, 17, {"code": 5, "message": ["a", "b"]}],
    ).files
    assert file.errors == (
        FileError("", "no code"),
        FileError("C", ""),
        FileError("", "17"),
        FileError("5", '["a", "b"]'),
    )


def test_error_text_joins_code_and_message():
    file = FileResult(
        "CD-1.pdf",
        "CD-1",
        "Failure",
        "FileCheck",
        (FileError("InvalidDocument", "not a PDF"), FileError("", "second problem")),
    )
    assert file.error_text == "InvalidDocument: not a PDF; second problem"


# --- what is refused ------------------------------------------------------------------
@pytest.mark.parametrize("files", ["CD-1.pdf", {"fileName": "CD-1.pdf"}, 3, True])
def test_files_not_a_list_is_refused(files):
    with pytest.raises(ReportFormatError, match="'files' is not a list"):
        wire.parse_report(report(files=files))


@pytest.mark.parametrize("entry", ["CD-1.pdf", 7, None, ["CD-1.pdf"]])
def test_a_file_entry_that_is_not_an_object_is_refused(entry):
    with pytest.raises(ReportFormatError, match="file entry is not an object"):
        wire.parse_report(report(files=[entry]))


@pytest.mark.parametrize(
    "data",
    [
        {"status": "Running", "files": []},
        {"importId": "", "status": "Running"},
        {"importId": None},
        {},
        [],
        ["imp-1"],
        "null",
        '"imp-1"',
        "[]",
        17,
        None,
    ],
)
def test_a_report_without_import_id_is_refused(data):
    with pytest.raises(ReportFormatError, match="without importId"):
        wire.parse_report(data)


@pytest.mark.parametrize(
    "text",
    ["", "not json", "<html>502 Bad Gateway</html>", '{"importId": "x", "sta', b"\xff\xfe\x00"],
)
def test_non_json_text_is_refused(text):
    with pytest.raises(ReportFormatError, match="not JSON"):
        wire.parse_report(text)


def test_report_format_error_is_a_value_error():
    assert issubclass(ReportFormatError, ValueError)


# --- list pages -----------------------------------------------------------------------
def test_list_page_with_items_and_total_count():
    page = {"items": [FULL, report(importId="imp-2", status="Running")], "totalCount": 57}
    reports, total = wire.parse_report_list(page)
    assert [r.import_id for r in reports] == ["imp-1", "imp-2"]
    assert total == 57


def test_bare_list_page():
    reports, total = wire.parse_report_list([FULL, report(importId="imp-2")])
    assert [r.import_id for r in reports] == ["imp-1", "imp-2"]
    assert total == 2


@pytest.mark.parametrize("page", [{}, {"items": None}, {"items": [], "totalCount": 0}, []])
def test_empty_list_pages(page):
    assert wire.parse_report_list(page) == ([], 0)


@pytest.mark.parametrize("total", [None, "12", 3.0, [1]])
def test_list_total_count_missing_or_not_an_integer_counts_the_items(total):
    page = {"items": [FULL], "totalCount": total}
    if total is None:
        del page["totalCount"]
    assert wire.parse_report_list(page)[1] == 1


@pytest.mark.parametrize("page", ["items", 3, None])
def test_list_page_that_is_not_an_object_is_refused(page):
    with pytest.raises(ReportFormatError, match="not an object"):
        wire.parse_report_list(page)


@pytest.mark.parametrize(
    ("page", "total"),
    [
        ({"items": [FULL], "totalCount": 57}, 57),
        ({"items": [FULL]}, None),
        ({"items": [FULL], "totalCount": "57"}, None),
        ({"items": [FULL], "totalCount": True}, None),
        ([FULL], None),  # a bare list says nothing of what follows
    ],
)
def test_list_page_says_when_it_gives_no_total(page, total):
    reports, given = wire.parse_report_page(page)
    assert [r.import_id for r in reports] == ["imp-1"]
    assert given == total


def test_a_bad_report_in_a_list_page_is_refused():
    with pytest.raises(ReportFormatError, match="without importId"):
        wire.parse_report_list({"items": [FULL, {"status": "Running"}], "totalCount": 2})


# --- writing back ---------------------------------------------------------------------
def test_report_to_wire_returns_the_raw_answer_untouched():
    data = report(extra={"kept": True})
    assert wire.report_to_wire(wire.parse_report(data)) == data


def test_report_to_wire_without_raw_uses_octopia_field_names():
    built = ImportReport(
        "imp-3",
        "Failure",
        (FileResult("CD-1.xml", "CD-1", "Failure", "FileCheck", (FileError("E", "bad"),)),),
    )
    assert wire.report_to_wire(built) == {
        "importId": "imp-3",
        "status": "Failure",
        "files": [
            {
                "fileName": "CD-1.xml",
                "orderId": "CD-1",
                "status": "Failure",
                "integrationStatus": "FileCheck",
                "errors": [{"code": "E", "message": "bad"}],
            }
        ],
    }


def test_report_to_wire_without_raw_writes_the_times():
    moment = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    built = ImportReport("imp-5", "Running", created_at=moment, updated_at_text="later")
    data = wire.report_to_wire(built)
    assert (data["createdAt"], data["updatedAt"]) == ("2026-11-20T10:00:00.000Z", "later")
    assert wire.parse_report(data).created_at == moment


def test_report_to_wire_round_trip():
    built = ImportReport(
        "imp-4",
        "PartialSuccess",
        (
            FileResult("CD-1.pdf", "CD-1", "Success", "Integrated"),
            FileResult("CD-2.xml", "CD-2", "Failure", "OrderCheck", (FileError("", "gone"),)),
        ),
    )
    data = wire.report_to_wire(built)
    assert wire.parse_report(json.dumps(data)) == built
    parsed = wire.parse_report(FULL)
    assert wire.parse_report(json.dumps(wire.report_to_wire(parsed))) == parsed


# --- order ids from file names ----------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "order_id"),
    [
        ("CD-1001.pdf", "CD-1001"),
        ("CD-1001.xml", "CD-1001"),
        ("CD-1001.zip", "CD-1001"),
        ("CD-1001.PDF", "CD-1001"),
        ("CD-1001.Xml", "CD-1001"),
        ("folder/sub/CD-1001.pdf", "CD-1001"),
        ("CD-1001", "CD-1001"),
        ("CD-1001.txt", "CD-1001.txt"),  # unknown extension: the whole name
        ("CD.1001.pdf", "CD.1001"),  # only the last extension goes
        ("CD-1001.pdf.pdf", "CD-1001.pdf"),
        ("CD-1001.", "CD-1001."),
        (".pdf", ""),
        ("folder/", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_order_id_from_file_name(name, order_id):
    assert wire.order_id_from_file_name(name) == order_id


# --- paths --------------------------------------------------------------------------
def test_paths():
    assert wire.order_invoice_path("CD-1") == "/orders/CD-1/invoice-documents"
    assert wire.import_path("imp-1") == "/order-invoice-imports/imp-1"
