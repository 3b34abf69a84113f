"""Upload files and ZIP bundles: every refusal, the splitting, and the temporary files."""

import hashlib
import os
import time
import zipfile

import pytest

from octopia import bundle, samples, wire
from octopia.errors import BundleError

UBL_ROOT_INVOICE = wire.UBL_ROOTS[0]


def pdf_file(order_id, size=None):
    return bundle.make_file(order_id, data=samples.pdf_invoice(order_id, size=size))


def xml_file(order_id, **kwargs):
    return bundle.make_file(order_id, data=samples.ubl_invoice(order_id, **kwargs))


def refused(order_id, match, **kwargs):
    """make_file must refuse with a BundleError naming the order id."""
    with pytest.raises(BundleError, match=match) as info:
        bundle.make_file(order_id, **kwargs)
    assert info.value.culprit == order_id
    assert order_id in info.value.message
    return info.value


# --- Order ids ---------------------------------------------------------------------
@pytest.mark.parametrize("order_id", ["CD-1", "2611201234ABCD", "a_b-C", "9" * 64])
def test_usable_order_ids(order_id):
    assert bundle.check_order_id(order_id) == order_id


@pytest.mark.parametrize(
    "order_id",
    [
        "CD 1",
        "CD/1",
        "CD\\1",
        "CD.1",
        "..",
        "CDé1",
        "ＣＤ1",
        "-CD1",
        "_CD1",
        "CD-1\n",
        "CD:1",
        "a" * 65,
    ],
)
def test_unusable_order_ids_are_refused_by_name(order_id):
    with pytest.raises(BundleError, match="cannot be used as a file name") as info:
        bundle.check_order_id(order_id)
    assert repr(order_id) in info.value.message
    assert info.value.culprit == order_id


def test_message_for_spaces_and_slashes():
    with pytest.raises(BundleError) as info:
        bundle.check_order_id("CD 1/2")
    assert str(info.value).startswith(
        "Order 'CD 1/2' cannot be used as a file name: use letters, digits, '-' or '_' only"
    )


@pytest.mark.parametrize("order_id", ["", None])
def test_empty_order_id_is_refused(order_id):
    with pytest.raises(BundleError, match="empty order id"):
        bundle.check_order_id(order_id)


def test_longest_order_id_follows_the_wire_pattern():
    assert bundle.MAX_ORDER_ID_LENGTH == 64
    with pytest.raises(BundleError, match="at most 64 characters"):
        bundle.check_order_id("a" * 65)


def test_make_file_checks_the_order_id_first():
    with pytest.raises(BundleError, match="cannot be used as a file name"):
        bundle.make_file("CD 1", data=samples.pdf_invoice("CD-1"))


# --- Sniffing -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "head, kind",
    [
        (b"%PDF-1.7\n", "pdf"),
        (b"<?xml version='1.0'?><a/>", "xml"),
        (b"\xef\xbb\xbf<?xml version='1.0'?>", "xml"),
        (b"\n  <Invoice/>", "xml"),
        ("<a/>".encode("utf-16"), "xml"),
        (b" %PDF-1.4", None),  # strict: the magic must come first
        (b"\xef\xbb\xbf%PDF-1.4", None),
        (b"PK\x03\x04", None),
        (b"", None),
    ],
)
def test_sniff_kind(head, kind):
    assert bundle.sniff_kind(head) == kind


# --- Valid files --------------------------------------------------------------------
def test_pdf_from_bytes():
    data = samples.pdf_invoice("CD-1")
    f = bundle.make_file("CD-1", data=data, kind="pdf")
    assert (f.kind, f.file_name, f.mime, f.size) == ("pdf", "CD-1.pdf", wire.MIME_PDF, len(data))
    assert f.read() == data
    assert f.sha256 == hashlib.sha256(data).hexdigest()
    with f.open() as fh:
        assert fh.read() == data


@pytest.mark.parametrize("credit_note", [False, True])
def test_ubl_from_bytes_kind_inferred(credit_note):
    f = xml_file("CD-2", credit_note=credit_note)
    assert (f.kind, f.file_name, f.mime) == ("xml", "CD-2.xml", wire.MIME_XML)


def test_kind_is_case_insensitive():
    assert bundle.make_file("CD-1", data=samples.pdf_invoice("CD-1"), kind="PDF").kind == "pdf"


def test_repr_does_not_dump_the_content():
    f = pdf_file("CD-1", size=50_000)
    assert len(repr(f)) < 200


def test_invoice_file_needs_exactly_one_source():
    with pytest.raises(ValueError):
        bundle.InvoiceFile("CD-1", "pdf")
    with pytest.raises(ValueError):
        bundle.InvoiceFile("CD-1", "pdf", data=b"x", path="/x")
    with pytest.raises(ValueError):
        bundle.InvoiceFile("CD-1", "zip", data=b"x")
    with pytest.raises(ValueError):
        bundle.make_file("CD-1")


def test_path_file_is_read_lazily(tmp_path):
    path = tmp_path / "anything.bin"
    path.write_bytes(samples.pdf_invoice("CD-1"))
    f = bundle.make_file("CD-1", path=str(path))
    assert f.data is None and f.kind == "pdf" and f.file_name == "CD-1.pdf"
    replaced = samples.pdf_invoice("CD-1", size=5000)
    path.write_bytes(replaced)  # nothing was kept in memory: the new content is what is read
    assert f.size == 5000
    assert f.read() == replaced
    assert f.sha256 == hashlib.sha256(replaced).hexdigest()


def test_path_xml_is_validated(tmp_path):
    path = tmp_path / "CD-1.xml"
    path.write_bytes(samples.ubl_invoice("CD-1"))
    assert bundle.make_file("CD-1", path=str(path)).kind == "xml"
    path.write_bytes(b"<Foo/>")
    refused("CD-1", "not a UBL 2.1 Invoice or CreditNote", path=str(path))


def test_missing_path_is_refused(tmp_path):
    refused("CD-1", "file not found", path=str(tmp_path / "nope.pdf"))


# --- Refusals -----------------------------------------------------------------------
def test_empty_file_is_refused():
    error = refused("CD-1", "the file is empty", data=b"")
    assert str(error) == "Order CD-1: the file is empty"


def test_empty_path_is_refused(tmp_path):
    path = tmp_path / "CD-1.pdf"
    path.write_bytes(b"")
    refused("CD-1", "the file is empty", path=str(path))


def test_oversize_file_is_refused_and_the_limit_is_inclusive():
    data = samples.pdf_invoice("CD-1", size=2000)
    assert bundle.make_file("CD-1", data=data, max_file_bytes=2000).size == 2000
    refused(
        "CD-1", "too large .*2,000 bytes; the limit is 1,999 bytes", data=data, max_file_bytes=1999
    )


def test_default_size_limit_is_the_wire_one():
    data = b"%PDF-1.4\n" + b"0" * wire.MAX_FILE_BYTES
    refused("CD-1", "too large", data=data)


def test_sizes_are_said_in_mb():
    data = b"%PDF-1.4\n" + b"0" * (12 * 1024 * 1024)
    refused("CD-1", r"too large \(12\.0 MB; the limit is 10\.0 MB\)", data=data)


def test_pdf_that_is_not_a_pdf_is_refused():
    refused(
        "CD-1",
        r"not a PDF \(it does not start with %PDF-\)",
        data=samples.bad_pdf("CD-1"),
        kind="pdf",
    )
    refused("CD-1", "not a PDF", data=b"  %PDF-1.4 leading blanks", kind="pdf")


def test_content_of_unknown_kind_is_refused():
    refused("CD-1", "neither a PDF nor an XML", data=b"PK\x03\x04 a zip")


def test_unknown_claimed_kind_is_refused():
    refused("CD-1", "unknown file kind 'docx'", data=samples.pdf_invoice("CD-1"), kind="docx")


def test_kind_mismatch_is_refused():
    refused(
        "CD-1",
        "claims to be XML but its content is a PDF",
        data=samples.pdf_invoice("CD-1"),
        kind="xml",
    )
    refused("CD-1", "not a PDF", data=samples.ubl_invoice("CD-1"), kind="pdf")
    refused("CD-1", "not an XML document", data=b"plain text", kind="xml")


def test_xml_that_is_not_ubl_is_refused():
    error = refused(
        "CD-1",
        "not a UBL 2.1 Invoice or CreditNote",
        data=b'<?xml version="1.0"?><Foo xmlns="urn:x"><a/></Foo>',
    )
    assert str(error) == (
        "Order CD-1: the XML is not a UBL 2.1 Invoice or CreditNote (root element: {urn:x}Foo)"
    )


def test_ubl_root_without_its_namespace_is_refused():
    refused("CD-1", r"root element: Invoice\)", data=b"<Invoice><ID>1</ID></Invoice>")


def test_other_ubl_document_is_refused():
    order = b'<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2"/>'
    refused("CD-1", "not a UBL 2.1 Invoice", data=order)


def test_malformed_xml_is_refused():
    data = samples.ubl_invoice("CD-1")[:-40]  # truncated after a valid root
    refused("CD-1", "the XML cannot be read", data=data)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE Invoice [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&lol9;</Invoice>
"""


def refused_quickly_for_our_reason(data, reason="DOCTYPE declaration"):
    """Refused by our own check (whatever libxml2 says), naming the order, expanding nothing."""
    started = time.perf_counter()
    error = refused("CD-1", reason, data=data)
    assert time.perf_counter() - started < 1.0
    assert "lollol" not in str(error)
    return error


def test_billion_laughs_is_refused_without_expanding():
    refused_quickly_for_our_reason(BILLION_LAUGHS)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (b"", b""),
        (b"\xef\xbb\xbf", b""),
        (b"", b"<!-- a comment -->\n"),
        (b"", b"<?pi x?>\n<!--c--><!--d-->  \n"),
    ],
    ids=["plain", "utf8-bom", "after-comment", "after-pi-and-comments"],
)
def test_doctype_anywhere_in_the_prolog_is_refused(before, after):
    declaration, rest = BILLION_LAUGHS.split(b"\n", 1)
    refused_quickly_for_our_reason(before + declaration + b"\n" + after + rest)


def test_utf16_doctype_is_refused():
    refused_quickly_for_our_reason(
        BILLION_LAUGHS.decode().replace('"1.0"', '"1.0" encoding="UTF-16"').encode("utf-16")
    )


def test_doctype_behind_a_long_comment_is_still_refused():
    declaration, rest = BILLION_LAUGHS.split(b"\n", 1)
    padding = b"<!--" + b"x" * (100 * 1024) + b"-->"
    refused_quickly_for_our_reason(
        declaration + b"\n" + padding + rest, reason="more than 64 KiB before its root element"
    )


def test_doctype_word_inside_a_comment_is_not_a_doctype():
    data = samples.ubl_invoice("CD-1").replace(b"?>", b"?><!-- <!DOCTYPE x> -->", 1)
    assert bundle.make_file("CD-1", data=data).kind == "xml"


def test_absurdly_deep_xml_is_refused_for_our_reason():
    root = b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">'
    depth = 5000  # beyond libxml2's own limit too: our reason must come first
    data = root + b"<a>" * depth + b"</a>" * depth + b"</Invoice>"
    refused_quickly_for_our_reason(data, reason=f"more than {bundle.MAX_XML_DEPTH} levels deep")


def test_external_entity_is_refused_without_reading(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE Invoice [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&x;</Invoice>'
    ).encode()
    error = refused_quickly_for_our_reason(xxe)
    assert "TOP-SECRET" not in str(error)


# --- Files from paths (CLI) -----------------------------------------------------------
def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_files_from_paths(tmp_path):
    paths = [
        write(tmp_path, "CD-1.pdf", samples.pdf_invoice("CD-1")),
        write(tmp_path, "CD-2.xml", samples.ubl_invoice("CD-2")),
        write(tmp_path, "CD-3.PDF", samples.pdf_invoice("CD-3")),
    ]
    files = bundle.files_from_paths(paths)
    assert [(f.order_id, f.kind, f.file_name) for f in files] == [
        ("CD-1", "pdf", "CD-1.pdf"),
        ("CD-2", "xml", "CD-2.xml"),
        ("CD-3", "pdf", "CD-3.pdf"),
    ]
    assert all(f.data is None and f.path for f in files)


def test_files_from_paths_refuses_other_extensions(tmp_path):
    path = write(tmp_path, "CD-1.txt", b"hello")
    with pytest.raises(BundleError, match=r"CD-1\.txt: only <orderId>\.pdf") as info:
        bundle.files_from_paths([path])
    assert info.value.culprit == path


def test_files_from_paths_checks_content_against_extension(tmp_path):
    path = write(tmp_path, "CD-1.pdf", samples.bad_pdf("CD-1"))
    with pytest.raises(BundleError, match="Order CD-1: the file is not a PDF"):
        bundle.files_from_paths([path])


def test_files_from_paths_refuses_bad_order_id_in_name(tmp_path):
    path = write(tmp_path, "CD 1.pdf", samples.pdf_invoice("CD-1"))
    with pytest.raises(BundleError, match="'CD 1' cannot be used as a file name"):
        bundle.files_from_paths([path])


def test_files_from_paths_refuses_two_files_for_one_order(tmp_path):
    paths = [
        write(tmp_path, "CD-1.pdf", samples.pdf_invoice("CD-1")),
        write(tmp_path, "CD-1.xml", samples.ubl_invoice("CD-1")),
    ]
    with pytest.raises(BundleError, match="Order CD-1: more than one file") as info:
        bundle.files_from_paths(paths)
    assert info.value.culprit == "CD-1"


def test_single_zip_is_returned_untouched(tmp_path):
    zip_path = tmp_path / "bundle.ZIP"
    with zipfile.ZipFile(zip_path, "w") as archive:
        archive.writestr("CD-1.pdf", samples.pdf_invoice("CD-1"))
    assert bundle.files_from_paths([str(zip_path)]) == str(zip_path)


def test_zip_must_be_alone(tmp_path):
    zip_path = tmp_path / "bundle.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        archive.writestr("CD-1.pdf", samples.pdf_invoice("CD-1"))
    pdf = write(tmp_path, "CD-2.pdf", samples.pdf_invoice("CD-2"))
    with pytest.raises(BundleError, match="must be uploaded alone"):
        bundle.files_from_paths([pdf, str(zip_path)])


def test_fake_zip_is_refused(tmp_path):
    path = write(tmp_path, "bundle.zip", b"not a zip")
    with pytest.raises(BundleError, match="not a readable ZIP") as info:
        bundle.files_from_paths([path])
    assert info.value.culprit == path


# --- Planning -----------------------------------------------------------------------
def many_files(n, size=None, kinds=("pdf",)):
    files = []
    for i in range(n):
        order_id = f"CD-{i:05d}"
        if kinds[i % len(kinds)] == "pdf":
            files.append(pdf_file(order_id, size=size))
        else:
            files.append(xml_file(order_id))
    return files


def assert_plan(groups, files, max_files, max_bytes):
    assert [f for g in groups for f in g] == list(files)  # all files, input order
    for group in groups:
        assert 1 <= len(group) <= max_files
        estimate = bundle.ZIP_END_RECORD + sum(bundle.entry_cost(f) for f in group)
        assert estimate <= max_bytes


def test_plan_empty():
    assert bundle.plan_bundles([]) == []


def test_plan_splits_by_count():
    files = many_files(12, kinds=("pdf", "xml"))
    groups = bundle.plan_bundles(files, max_files=5)
    assert [len(g) for g in groups] == [5, 5, 2]
    assert_plan(groups, files, 5, wire.MAX_REQUEST_BYTES)


def test_plan_default_count_limit():
    f = pdf_file("CD-1")
    files = [
        bundle.InvoiceFile(f"CD-{i}", "pdf", data=f.data) for i in range(wire.MAX_FILES_PER_ZIP + 1)
    ]
    assert [len(g) for g in bundle.plan_bundles(files)] == [wire.MAX_FILES_PER_ZIP, 1]


def test_plan_splits_by_bytes(tmp_path):
    files = many_files(9, size=40_000, kinds=("pdf", "xml", "pdf"))
    max_bytes = 100_000
    groups = bundle.plan_bundles(files, max_files=100, max_bytes=max_bytes)
    assert len(groups) > 1
    assert_plan(groups, files, 100, max_bytes)
    for group in groups:  # the real ZIP is never larger than the estimate
        path = bundle.write_zip(group, directory=str(tmp_path))
        estimate = bundle.ZIP_END_RECORD + sum(bundle.entry_cost(f) for f in group)
        assert os.path.getsize(path) <= estimate <= max_bytes
        os.remove(path)


def test_plan_exact_fit_stays_in_one_group():
    files = many_files(3, size=10_000)
    exact = bundle.ZIP_END_RECORD + sum(bundle.entry_cost(f) for f in files)
    assert len(bundle.plan_bundles(files, max_bytes=exact)) == 1
    assert len(bundle.plan_bundles(files, max_bytes=exact - 1)) == 2


def test_estimate_is_an_upper_bound_for_incompressible_xml(tmp_path):
    noise = os.urandom(200_000).hex().encode()  # text that deflate barely shrinks
    xml = samples.ubl_invoice("CD-1").replace(b"Casque audio Bluetooth", noise)
    f = bundle.make_file("CD-1", data=xml)
    path = bundle.write_zip([f], directory=str(tmp_path))
    assert os.path.getsize(path) <= bundle.ZIP_END_RECORD + bundle.entry_cost(f)


def test_plan_refuses_duplicate_order_ids():
    files = [pdf_file("CD-1"), pdf_file("CD-2"), xml_file("CD-1")]
    with pytest.raises(BundleError, match="Order CD-1: more than one file") as info:
        bundle.plan_bundles(files)
    assert info.value.culprit == "CD-1"


def test_plan_refuses_a_file_larger_than_a_request():
    files = [pdf_file("CD-1"), pdf_file("CD-2", size=60_000)]
    with pytest.raises(BundleError, match=r"Order CD-2: .*cannot fit in one upload") as info:
        bundle.plan_bundles(files, max_bytes=50_000)
    assert info.value.culprit == "CD-2"


def test_plan_rejects_nonsense_limits():
    with pytest.raises(ValueError):
        bundle.plan_bundles([pdf_file("CD-1")], max_files=0)


# --- Writing ------------------------------------------------------------------------
def test_write_zip_entries(tmp_path):
    files = [pdf_file("CD-1"), xml_file("CD-2"), pdf_file("CD-3", size=30_000)]
    path = bundle.write_zip(files, directory=str(tmp_path))
    assert os.path.dirname(path) == str(tmp_path) and path.endswith(wire.EXT_ZIP)
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        infos = archive.infolist()
        assert [i.filename for i in infos] == ["CD-1.pdf", "CD-2.xml", "CD-3.pdf"]
        assert [i.compress_type for i in infos] == [
            zipfile.ZIP_STORED,
            zipfile.ZIP_DEFLATED,
            zipfile.ZIP_STORED,
        ]
        for f in files:
            assert archive.read(f.file_name) == f.read()


def test_write_zip_from_paths_is_deterministic(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    paths = [
        write(src, f"CD-{i}.pdf", samples.pdf_invoice(f"CD-{i}", size=300_000)) for i in range(3)
    ]
    files = bundle.files_from_paths(paths)
    first = bundle.write_zip(files, directory=str(tmp_path))
    second = bundle.write_zip(files, directory=str(tmp_path))
    with open(first, "rb") as a, open(second, "rb") as b:
        assert a.read() == b.read()
    with zipfile.ZipFile(first) as archive:
        assert archive.namelist() == ["CD-0.pdf", "CD-1.pdf", "CD-2.pdf"]


def test_write_zip_removes_its_file_on_failure(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    path = write(tmp_path, "CD-2.pdf", samples.pdf_invoice("CD-2"))
    files = [pdf_file("CD-1"), bundle.make_file("CD-2", path=path)]
    os.remove(path)  # vanishes between planning and writing
    with pytest.raises(OSError):
        bundle.write_zip(files, directory=str(out))
    assert list(out.iterdir()) == []


def test_write_zip_refuses_duplicates(tmp_path):
    with pytest.raises(BundleError, match="CD-1"):
        bundle.write_zip([pdf_file("CD-1"), xml_file("CD-1")], directory=str(tmp_path))
    assert list(tmp_path.iterdir()) == []


# --- iter_zips ----------------------------------------------------------------------
def test_iter_zips_yields_one_zip_at_a_time_and_cleans_up(tmp_path):
    files = many_files(7, kinds=("pdf", "xml"))
    seen = []
    for path, order_ids in bundle.iter_zips(files, max_files=3, directory=str(tmp_path)):
        assert [p.name for p in tmp_path.iterdir()] == [os.path.basename(path)]
        with zipfile.ZipFile(path) as archive:
            assert [wire.order_id_from_file_name(n) for n in archive.namelist()] == order_ids
        seen.append(order_ids)
    assert seen == [[f.order_id for f in files[i : i + 3]] for i in (0, 3, 6)]
    assert list(tmp_path.iterdir()) == []


def test_iter_zips_cleans_up_on_exception_in_with_block(tmp_path):
    files = many_files(4)
    with (
        pytest.raises(RuntimeError),
        bundle.iter_zips(files, max_files=2, directory=str(tmp_path)) as zips,
    ):
        for path, _ in zips:
            assert os.path.exists(path)
            raise RuntimeError("upload failed")
    assert list(tmp_path.iterdir()) == []


def test_iter_zips_cleans_up_on_exception_in_plain_loop(tmp_path):
    files = many_files(4)

    def consume():
        for _path, _ids in bundle.iter_zips(files, max_files=2, directory=str(tmp_path)):
            raise RuntimeError("upload failed")

    with pytest.raises(RuntimeError):
        consume()
    assert list(tmp_path.iterdir()) == []


def test_iter_zips_cleans_up_on_break_and_close(tmp_path):
    zips = bundle.iter_zips(many_files(4), max_files=1, directory=str(tmp_path))
    path, ids = next(zips)
    assert ids == ["CD-00000"] and os.path.exists(path)
    zips.close()
    assert not os.path.exists(path)
    with pytest.raises(StopIteration):
        next(zips)


def test_iter_zips_refuses_before_writing_anything(tmp_path):
    files = [pdf_file("CD-1"), pdf_file("CD-2"), pdf_file("CD-1")]
    with pytest.raises(BundleError, match="CD-1"):
        bundle.iter_zips(files, max_files=1, directory=str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_iter_zips_real_sizes_within_limit(tmp_path):
    files = many_files(10, size=25_000, kinds=("pdf", "xml"))
    max_bytes = 80_000
    count = 0
    for path, order_ids in bundle.iter_zips(files, 4, max_bytes, directory=str(tmp_path)):
        assert os.path.getsize(path) <= max_bytes
        assert len(order_ids) <= 4
        count += len(order_ids)
    assert count == len(files)
