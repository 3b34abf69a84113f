"""Realistic sample documents for the demo, the tests and the benchmarks.

`ubl_invoice` builds a UBL 2.1 Invoice or CreditNote that follows the EN 16931
rules for a French seller selling to a private buyer on a marketplace; amounts are
computed with Decimal and rounded half up to the cent, the way EN 16931 checks them.
`pdf_invoice` writes a small but genuinely valid PDF 1.4 by hand (optionally padded
to a given size), and `bad_pdf` something that only pretends to be one.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal

from lxml import etree

from . import wire

CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017"
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"  # BT-23, optional in EN 16931
INVOICE_TYPE_CODE = "380"  # UNTDID 1001: commercial invoice
CREDIT_NOTE_TYPE_CODE = "381"  # UNTDID 1001: credit note
PAYMENT_MEANS_CODE = "68"  # UNTDID 4461: online payment service (needs no payee account)
UNIT_CODE = "C62"  # UN/ECE rec 20: one (unit)
VAT_CATEGORY = "S"  # UNCL 5305: standard rate
TAX_SCHEME = "VAT"
SIREN_SCHEME = "0002"  # ISO 6523 ICD / EAS: SIRENE
CENT = Decimal("0.01")

DEFAULT_LINES = (
    ("Casque audio Bluetooth", 1, "59.99", 20),
    ("Livre de poche", 2, "7.50", "5.5"),
    ("Câble USB-C 1 m", 3, "9.99", 20),
    ("Repas à emporter", 1, "12.40", 10),
)

SELLER = {
    "name": "Boutique Exemple SAS",
    "street": "12 rue de la Paix",
    "city": "Paris",
    "zip": "75002",
}
BUYER_ADDRESS = {"street": "5 avenue Jean Jaurès", "city": "Lyon", "zip": "69007"}


def _dec(value) -> Decimal:
    """Decimal from int, str, float or Decimal, without binary float artefacts."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


def cents(value: Decimal) -> Decimal:
    """Round half up to the cent, as EN 16931 (BR-DEC, BR-CO-17) expects."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _plain(value: Decimal) -> str:
    """A decimal as plain text without exponent or trailing zeros: 20, 5.5, 0.333."""
    return format(value.normalize(), "f")


def compute_totals(lines: Iterable[Sequence]) -> dict:
    """Line amounts, VAT breakdown and document totals, all rounded to the cent.

    Returns {"lines": [(desc, qty, price, rate, net)], "subtotals": {rate: (taxable, tax)},
    "net", "tax", "gross"} with Decimal values.
    """
    rows, subtotals = [], {}
    for desc, *numbers in lines:
        qty, price, rate = (_dec(n) for n in numbers)
        net = cents(qty * price)
        rows.append((desc, qty, price, rate, net))
        subtotals[rate] = subtotals.get(rate, Decimal(0)) + net
    breakdown = {
        rate: (taxable, cents(taxable * rate / 100)) for rate, taxable in subtotals.items()
    }
    net = sum((row[4] for row in rows), Decimal("0.00"))
    tax = sum((t for _, t in breakdown.values()), Decimal("0.00"))
    return {"lines": rows, "subtotals": breakdown, "net": net, "tax": tax, "gross": net + tax}


class _Builder:
    """Appends UBL elements in schema order with the right namespaces."""

    def __init__(self, currency: str):
        self.currency = currency

    @staticmethod
    def cac(parent, name):
        return etree.SubElement(parent, f"{{{wire.UBL_CAC_NS}}}{name}")

    @staticmethod
    def cbc(parent, name, text, **attrib):
        element = etree.SubElement(parent, f"{{{wire.UBL_CBC_NS}}}{name}", attrib)
        element.text = str(text)
        return element

    def amount(self, parent, name, value: Decimal):
        return self.cbc(parent, name, f"{cents(value):.2f}", currencyID=self.currency)

    def address(self, parent, street, city, zip_code, country="FR"):
        address = self.cac(parent, "PostalAddress")
        self.cbc(address, "StreetName", street)
        self.cbc(address, "CityName", city)
        self.cbc(address, "PostalZone", zip_code)
        self.cbc(self.cac(address, "Country"), "IdentificationCode", country)

    def tax_category(self, parent, name, rate: Decimal):
        category = self.cac(parent, name)
        self.cbc(category, "ID", VAT_CATEGORY)
        self.cbc(category, "Percent", _plain(rate))
        self.cbc(self.cac(category, "TaxScheme"), "ID", TAX_SCHEME)


def _seller(b: _Builder, root, vat: str, siren: str) -> None:
    party = b.cac(b.cac(root, "AccountingSupplierParty"), "Party")
    b.cbc(party, "EndpointID", siren, schemeID=SIREN_SCHEME)
    b.cbc(b.cac(party, "PartyName"), "Name", SELLER["name"])
    b.address(party, SELLER["street"], SELLER["city"], SELLER["zip"])
    tax_scheme = b.cac(party, "PartyTaxScheme")
    b.cbc(tax_scheme, "CompanyID", vat)
    b.cbc(b.cac(tax_scheme, "TaxScheme"), "ID", TAX_SCHEME)
    legal = b.cac(party, "PartyLegalEntity")
    b.cbc(legal, "RegistrationName", SELLER["name"])
    b.cbc(legal, "CompanyID", siren, schemeID=SIREN_SCHEME)


def _buyer(b: _Builder, root, name: str) -> None:
    party = b.cac(b.cac(root, "AccountingCustomerParty"), "Party")
    b.cbc(b.cac(party, "PartyName"), "Name", name)
    b.address(party, BUYER_ADDRESS["street"], BUYER_ADDRESS["city"], BUYER_ADDRESS["zip"])
    b.cbc(b.cac(party, "PartyLegalEntity"), "RegistrationName", name)  # BT-44 buyer name


def _payment(b: _Builder, root, order_id: str) -> None:
    means = b.cac(root, "PaymentMeans")
    b.cbc(means, "PaymentMeansCode", PAYMENT_MEANS_CODE)
    b.cbc(means, "PaymentID", order_id)
    # BR-CO-25: a positive amount due needs a due date or payment terms.
    terms = b.cac(root, "PaymentTerms")
    b.cbc(terms, "Note", "Paid online on the marketplace when the order was placed.")


def _tax_total(b: _Builder, root, totals: dict) -> None:
    tax_total = b.cac(root, "TaxTotal")
    b.amount(tax_total, "TaxAmount", totals["tax"])
    for rate, (taxable, tax) in sorted(totals["subtotals"].items(), reverse=True):
        subtotal = b.cac(tax_total, "TaxSubtotal")
        b.amount(subtotal, "TaxableAmount", taxable)
        b.amount(subtotal, "TaxAmount", tax)
        b.tax_category(subtotal, "TaxCategory", rate)


def _monetary_total(b: _Builder, root, totals: dict) -> None:
    monetary = b.cac(root, "LegalMonetaryTotal")
    b.amount(monetary, "LineExtensionAmount", totals["net"])
    b.amount(monetary, "TaxExclusiveAmount", totals["net"])
    b.amount(monetary, "TaxInclusiveAmount", totals["gross"])
    b.amount(monetary, "PayableAmount", totals["gross"])


def _lines(b: _Builder, root, totals: dict, credit_note: bool) -> None:
    line_tag, qty_tag = (
        ("CreditNoteLine", "CreditedQuantity")
        if credit_note
        else ("InvoiceLine", "InvoicedQuantity")
    )
    for number, (desc, qty, price, rate, net) in enumerate(totals["lines"], 1):
        line = b.cac(root, line_tag)
        b.cbc(line, "ID", number)
        b.cbc(line, qty_tag, _plain(qty), unitCode=UNIT_CODE)
        b.amount(line, "LineExtensionAmount", net)
        item = b.cac(line, "Item")
        b.cbc(item, "Name", desc)
        b.tax_category(item, "ClassifiedTaxCategory", rate)
        b.cbc(b.cac(line, "Price"), "PriceAmount", _plain(price), currencyID=b.currency)


def ubl_invoice(
    order_id: str,
    *,
    number: str | None = None,
    issue_date: str = "2026-11-20",
    lines: Sequence[Sequence] = DEFAULT_LINES,
    currency: str = "EUR",
    credit_note: bool = False,
    buyer_name: str = "Camille Martin",
    seller_vat: str = "FR23334175221",
    seller_siren: str = "334175221",
    credited_invoice: str = "INV/2026/0001",
) -> bytes:
    """A UBL 2.1 Invoice (or CreditNote) for one marketplace order, as UTF-8 bytes.

    `lines` are (description, quantity, unit price, VAT rate in percent). The order
    id is both cac:OrderReference/cbc:ID and cbc:BuyerReference. `number` defaults to
    INV/2026/0001 (RINV/2026/0001 for a credit note, which refers to `credited_invoice`).
    """
    if not lines:
        raise ValueError("a UBL invoice needs at least one line (BR-16)")
    if number is None:
        number = "RINV/2026/0001" if credit_note else "INV/2026/0001"
    totals = compute_totals(lines)
    b = _Builder(currency)
    ns, tag, type_tag, type_code = (
        (wire.UBL_CREDIT_NOTE_NS, "CreditNote", "CreditNoteTypeCode", CREDIT_NOTE_TYPE_CODE)
        if credit_note
        else (wire.UBL_INVOICE_NS, "Invoice", "InvoiceTypeCode", INVOICE_TYPE_CODE)
    )
    root = etree.Element(
        f"{{{ns}}}{tag}", nsmap={None: ns, "cac": wire.UBL_CAC_NS, "cbc": wire.UBL_CBC_NS}
    )
    b.cbc(root, "CustomizationID", CUSTOMIZATION_ID)
    b.cbc(root, "ProfileID", PROFILE_ID)
    b.cbc(root, "ID", number)
    b.cbc(root, "IssueDate", issue_date)
    b.cbc(root, type_tag, type_code)
    b.cbc(root, "DocumentCurrencyCode", currency)
    b.cbc(root, "BuyerReference", order_id)
    b.cbc(b.cac(root, "OrderReference"), "ID", order_id)
    if credit_note:
        reference = b.cac(b.cac(root, "BillingReference"), "InvoiceDocumentReference")
        b.cbc(reference, "ID", credited_invoice)
    _seller(b, root, seller_vat, seller_siren)
    _buyer(b, root, buyer_name)
    _payment(b, root, order_id)
    _tax_total(b, root, totals)
    _monetary_total(b, root, totals)
    _lines(b, root, totals, credit_note)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# --- PDF ------------------------------------------------------------------------------
def _pdf_string(text: str) -> bytes:
    """A PDF literal string in WinAnsi (Latin-1 subset), with ( ) \\ escaped."""
    raw = text.encode("latin-1", errors="replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _stream(body: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d%s >>\nstream\n%s\nendstream" % (len(body), extra, body)


def _pdf_objects(pages_text: Sequence[str], padding: int) -> list[bytes]:
    """Objects 1..n: catalog, pages, font, then a page and its content per text,
    then (when padding > 0) an unreferenced binary stream of `padding` bytes."""
    n_pages = len(pages_text)
    page_ids = [4 + 2 * i for i in range(n_pages)]
    kids = b" ".join(b"%d 0 R" % i for i in page_ids)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, n_pages),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    for page_id, text in zip(page_ids, pages_text, strict=True):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]"
            b" /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (page_id + 1)
        )
        content = b"BT /F1 14 Tf 72 770 Td %s Tj ET" % _pdf_string(text)
        objects.append(_stream(content))
    if padding > 0:
        noise = random.Random(padding).randbytes(padding)  # deterministic, incompressible
        objects.append(_stream(noise))
    return objects


def _assemble_pdf(objects: list[bytes]) -> bytes:
    """Header, numbered objects, a cross-reference table with exact offsets, trailer."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref_at,
    )
    return bytes(out)


def pdf_invoice(
    order_id: str, *, pages_text: Sequence[str] | None = None, size: int | None = None
) -> bytes:
    """A valid one-page (or one page per `pages_text` entry) PDF 1.4 in Helvetica.

    With `size`, an unreferenced stream of deterministic random bytes pads the file
    to exactly `size` bytes when it is larger than the bare document (benchmarks).
    """
    pages_text = list(pages_text or [f"Invoice for order {order_id}"])
    pdf = _assemble_pdf(_pdf_objects(pages_text, 0))
    if size is None or size <= len(pdf):
        return pdf
    padding = max(1, size - len(pdf))
    for _ in range(4):  # the padding object's own overhead changes with its length
        pdf = _assemble_pdf(_pdf_objects(pages_text, padding))
        if len(pdf) == size:
            break
        padding = max(1, padding + size - len(pdf))
    return pdf


def bad_pdf(order_id: str) -> bytes:
    """Bytes that claim to be a PDF (for a `.pdf` name) but are an HTML error page."""
    return (
        b"<html><head><title>Error</title></head><body><p>The invoice for order "
        + order_id.encode("utf-8", errors="replace")
        + b" could not be generated.</p></body></html>\n"
    )
