"""Upload files and the ZIP bundles that carry them to Octopia.

Octopia matches a bulk-uploaded file to its order by the file name alone
(`<orderId>.pdf` / `<orderId>.xml`, also inside a ZIP), so everything here is
about refusing, before anything is sent, what Octopia could not match or read:
order ids that cannot be file names, empty or oversized files, files whose
content is not what their name claims, XML that is not UBL, and two files for
one order in one selection. Each refusal is a `BundleError` whose `culprit`
is the order id (or the file) to fix.

Files may live on disk and are read lazily and in chunks, so that bundling
10,000 PDFs never holds more than one chunk of one of them in memory.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

from lxml import etree

from . import wire
from .errors import BundleError

KIND_PDF = "pdf"
KIND_XML = "xml"
KINDS = (KIND_PDF, KIND_XML)
EXT_BY_KIND = {KIND_PDF: wire.EXT_PDF, KIND_XML: wire.EXT_XML}
KIND_BY_EXT = {ext: kind for kind, ext in EXT_BY_KIND.items()}
COMPRESSION_BY_KIND = {
    KIND_PDF: zipfile.ZIP_STORED,  # PDFs are already compressed
    KIND_XML: zipfile.ZIP_DEFLATED,
}

_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_SNIFF_BYTES = 512
# The prolog (declaration, comments, processing instructions, DOCTYPE) is looked at in this
# many bytes before any parser sees the document; UBL's own is a few dozen bytes.
_PROLOG_BYTES = 64 * 1024
# UBL 2.1 invoices nest about a dozen levels; anything far deeper is refused by us, not by
# whichever limit the installed libxml2 happens to have.
MAX_XML_DEPTH = 64
_CHUNK = 1024 * 1024

# Conservative ZIP size estimate (bytes): local header, central directory entry and
# a data descriptor per entry (plus the name twice), and the end-of-central-directory record.
ZIP_LOCAL_HEADER = 30
ZIP_CENTRAL_HEADER = 46
ZIP_DATA_DESCRIPTOR = 16
ZIP_END_RECORD = 22
# Fixed entry timestamp: the same files always make the same ZIP bytes.
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)

_ORDER_ID_RE = re.compile(wire.ORDER_ID_PATTERN)


def _longest_order_id() -> int:
    """The longest order id wire.ORDER_ID_PATTERN accepts (for messages only)."""
    n = 1
    while n < 4096 and _ORDER_ID_RE.fullmatch("a" * (n + 1)):
        n += 1
    return n


MAX_ORDER_ID_LENGTH = _longest_order_id()


@dataclass(frozen=True)
class InvoiceFile:
    """One invoice document for one order, held in memory (`data`) or on disk (`path`).

    A path is only opened when read, so many files can be planned and bundled
    without their contents being in memory together. Build it with `make_file`,
    which validates it; the constructor only checks its own consistency.
    """

    order_id: str
    kind: str
    data: bytes | None = field(default=None, repr=False)
    path: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {self.kind!r}")
        if (self.data is None) == (self.path is None):
            raise ValueError("give exactly one of data or path")

    @property
    def file_name(self) -> str:
        """The name Octopia matches the order by: `<orderId>.pdf|.xml`."""
        return self.order_id + EXT_BY_KIND[self.kind]

    @property
    def mime(self) -> str:
        return wire.MIME_BY_EXT[EXT_BY_KIND[self.kind]]

    @property
    def size(self) -> int:
        if self.data is not None:
            return len(self.data)
        return os.path.getsize(self.path)

    def open(self) -> BinaryIO:
        """A binary file object on the content; the caller closes it."""
        if self.data is not None:
            return io.BytesIO(self.data)
        return open(self.path, "rb")

    def read(self) -> bytes:  # pylint: disable=method-required-super
        if self.data is not None:
            return self.data
        with self.open() as fh:
            return fh.read()

    def head(self, n: int = _SNIFF_BYTES) -> bytes:
        """The first `n` bytes, without reading the rest."""
        if self.data is not None:
            return self.data[:n]
        with self.open() as fh:
            return fh.read(n)

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the content, read in chunks."""
        digest = hashlib.sha256()
        with self.open() as fh:
            for chunk in iter(lambda: fh.read(_CHUNK), b""):
                digest.update(chunk)
        return digest.hexdigest()


# --- Validation ------------------------------------------------------------------------
def _refuse(order_id: str, message: str) -> BundleError:
    return BundleError(f"Order {order_id}: {message}", culprit=order_id)


def check_order_id(order_id: str) -> str:
    """Return `order_id` if it can be a file name Octopia matches back to the order.

    Spaces, slashes, dots, non-ASCII letters, an empty or too long id would either
    break the `<orderId>.<ext>` rule or be mangled on the way; refuse them here.
    """
    if isinstance(order_id, str) and _ORDER_ID_RE.fullmatch(order_id):
        return order_id
    if not order_id:
        raise BundleError("An empty order id cannot be used as a file name", culprit=order_id or "")
    text = order_id if isinstance(order_id, str) else repr(order_id)
    raise BundleError(
        f"Order {text!r} cannot be used as a file name: use letters, digits, '-' or '_'"
        f" only, starting with a letter or a digit, at most {MAX_ORDER_ID_LENGTH}"
        " characters",
        culprit=text,
    )


def sniff_kind(head: bytes) -> str | None:
    """The kind ("pdf", "xml" or None) told by the first bytes of a file; strict for PDF."""
    if head.startswith(wire.PDF_MAGIC):
        return KIND_PDF
    if head.startswith(_UTF16_BOMS):
        return KIND_XML
    if head.startswith(_UTF8_BOM):
        head = head[len(_UTF8_BOM) :]
    if head.lstrip(b" \t\r\n").startswith(b"<"):
        return KIND_XML
    return None


def size_text(size: int) -> str:
    """A size as people read it: MB (of 1,048,576 bytes), KB, or bytes."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):,.1f} MB"
    if size >= 1024:
        return f"{size / 1024:,.1f} KB"
    return f"{size:,} bytes"


def _check_size(file: InvoiceFile, max_file_bytes: int) -> None:
    size = file.size
    if size == 0:
        raise _refuse(file.order_id, "the file is empty")
    if size > max_file_bytes:
        shown, limit = size_text(size), size_text(max_file_bytes)
        if shown == limit:  # rounded alike: the exact numbers tell them apart
            shown, limit = f"{size:,} bytes", f"{max_file_bytes:,} bytes"
        raise _refuse(file.order_id, f"the file is too large ({shown}; the limit is {limit})")


def _check_kind(file: InvoiceFile, claimed: str | None) -> str:
    """The kind of the content; refuses content that is not what is claimed."""
    found = sniff_kind(file.head())
    if claimed is None:
        if found is None:
            raise _refuse(file.order_id, "the file is neither a PDF nor an XML document")
        return found
    if claimed not in KINDS:
        raise _refuse(file.order_id, f"unknown file kind {claimed!r} (expected pdf or xml)")
    if found == claimed:
        return claimed
    if claimed == KIND_PDF:
        raise _refuse(file.order_id, "the file is not a PDF (it does not start with %PDF-)")
    if found == KIND_PDF:
        raise _refuse(file.order_id, "the file claims to be XML but its content is a PDF")
    raise _refuse(file.order_id, "the file is not an XML document")


def _prolog_text(file: InvoiceFile) -> str:
    """The first bytes of an XML file as text (UTF-16 told by its BOM, else ASCII-safe)."""
    head = file.head(_PROLOG_BYTES)
    if head.startswith(_UTF16_BOMS):
        return head.decode("utf-16", errors="replace")
    return head.decode("latin-1").removeprefix(_UTF8_BOM.decode("latin-1"))


def _check_prolog(file: InvoiceFile) -> None:
    """Refuse a DOCTYPE before the root element, before any parser runs.

    Our own check, so that a DTD, its entities and whatever they point at are refused for the
    same reason whatever libxml2 version is installed (each has its own limits and words).
    """
    prolog, pos = _prolog_text(file), 0
    while True:
        while pos < len(prolog) and prolog[pos] in " \t\r\n":
            pos += 1
        if prolog.startswith("<!DOCTYPE", pos):
            raise _refuse(
                file.order_id, "the XML has a DOCTYPE declaration (refused: UBL needs none)"
            )
        closer = "?>" if prolog.startswith("<?", pos) else None
        closer = "-->" if prolog.startswith("<!--", pos) else closer
        if closer is None:  # the root element, or something the parser will refuse
            return
        end = prolog.find(closer, pos + 2)
        if end < 0 and len(prolog) >= _PROLOG_BYTES // 2:
            raise _refuse(
                file.order_id,
                f"the XML has more than {_PROLOG_BYTES // 1024} KiB before its root element",
            )
        if end < 0:  # an unterminated comment: the parser says so
            return
        pos = end + len(closer)


class _UblWalk:
    """Follows parse events: the root must be UBL, the nesting sane; elements are freed."""

    def __init__(self, order_id: str):
        self.order_id = order_id
        self.depth = 0

    def __call__(self, events) -> None:
        for event, element in events:
            if event == "end":
                self.depth -= 1
                element.clear()
                continue
            self.depth += 1
            if self.depth > MAX_XML_DEPTH:
                raise _refuse(
                    self.order_id, f"the XML nests elements more than {MAX_XML_DEPTH} levels deep"
                )
            if self.depth == 1 and element.tag not in wire.UBL_ROOTS:
                raise _refuse(
                    self.order_id,
                    f"the XML is not a UBL 2.1 Invoice or CreditNote (root element: {element.tag})",
                )


def _check_ubl(file: InvoiceFile) -> None:
    """Refuse DTDs ourselves, then parse safely, chunk by chunk: no entity, no network.

    The root is checked as soon as it is read; the rest is parsed (and freed as it goes)
    only to prove the document is well-formed and not absurdly deep. When libxml2 gives up
    on its own, the events it produced until then are checked first, so that our reason
    wins over the library's on every version.
    """
    _check_prolog(file)
    parser = etree.XMLPullParser(
        events=("start", "end"),
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        remove_comments=True,
    )
    walk = _UblWalk(file.order_id)
    with file.open() as fh:
        try:
            for chunk in iter(lambda: fh.read(_CHUNK), b""):
                parser.feed(chunk)
                walk(parser.read_events())
            parser.close()
            walk(parser.read_events())
        except etree.XMLSyntaxError as exc:
            walk(parser.read_events())
            raise _refuse(file.order_id, f"the XML cannot be read: {exc}") from None


def make_file(
    order_id: str,
    data: bytes | None = None,
    path: str | None = None,
    kind: str | None = None,
    max_file_bytes: int = wire.MAX_FILE_BYTES,
) -> InvoiceFile:
    """A validated InvoiceFile for one order, from bytes or from a file on disk.

    `kind` ("pdf" or "xml") is inferred from the content when not given; when given,
    content of another kind is refused.
    """
    check_order_id(order_id)
    if (data is None) == (path is None):
        raise ValueError("give exactly one of data or path")
    if path is not None and not os.path.isfile(path):
        raise _refuse(order_id, f"file not found: {path}")
    probe = InvoiceFile(order_id, KIND_PDF, data=data, path=path)
    _check_size(probe, max_file_bytes)
    found = _check_kind(probe, kind.lower() if isinstance(kind, str) else kind)
    file = InvoiceFile(order_id, found, data=data, path=path)
    if found == KIND_XML:
        _check_ubl(file)
    return file


def files_from_paths(
    paths: Sequence[str], max_file_bytes: int = wire.MAX_FILE_BYTES
) -> list[InvoiceFile] | str:
    """Files named `<orderId>.pdf|.xml` -> validated InvoiceFiles (for the CLI).

    A single `.zip` path is returned untouched: it is uploaded as it is.
    """
    paths = [os.fspath(p) for p in paths]
    if len(paths) == 1 and _ext(paths[0]) == wire.EXT_ZIP:
        return _check_zip_path(paths[0])
    files = [_file_from_path(p, max_file_bytes) for p in paths]
    check_unique(files)
    return files


def _ext(path: str) -> str:
    return os.path.splitext(path)[1].lower()


def _check_zip_path(path: str) -> str:
    if not zipfile.is_zipfile(path):
        raise BundleError(f"File {path}: not a readable ZIP archive", culprit=path)
    return path


def _file_from_path(path: str, max_file_bytes: int) -> InvoiceFile:
    ext = _ext(path)
    if ext == wire.EXT_ZIP:
        raise BundleError(f"File {path}: a ZIP file must be uploaded alone", culprit=path)
    if ext not in KIND_BY_EXT:
        raise BundleError(
            f"File {path}: only <orderId>{wire.EXT_PDF}, <orderId>{wire.EXT_XML}"
            f" or a single {wire.EXT_ZIP} file can be uploaded",
            culprit=path,
        )
    order_id = wire.order_id_from_file_name(os.path.basename(path))
    return make_file(order_id, path=path, kind=KIND_BY_EXT[ext], max_file_bytes=max_file_bytes)


def check_unique(files: Iterable[InvoiceFile]) -> None:
    """Refuse two files for one order in one selection (the second would replace the first)."""
    seen = set()
    for f in files:
        if f.order_id in seen:
            raise _refuse(f.order_id, "more than one file is selected for this order")
        seen.add(f.order_id)


# --- Planning -----------------------------------------------------------------------
def _deflate_bound(size: int) -> int:
    """Upper bound of deflate output (zlib's compressBound): incompressible data grows a little."""
    return size + (size >> 12) + (size >> 14) + (size >> 25) + 13


def entry_cost(file: InvoiceFile) -> int:
    """Upper bound of the bytes one file adds to a ZIP."""
    size = file.size
    if COMPRESSION_BY_KIND[file.kind] != zipfile.ZIP_STORED:
        size = _deflate_bound(size)
    name = len(file.file_name.encode("ascii"))
    return size + ZIP_LOCAL_HEADER + ZIP_CENTRAL_HEADER + 2 * name + ZIP_DATA_DESCRIPTOR


def plan_bundles(
    files: Sequence[InvoiceFile],
    max_files: int = wire.MAX_FILES_PER_ZIP,
    max_bytes: int = wire.MAX_REQUEST_BYTES,
) -> list[list[InvoiceFile]]:
    """Split `files`, in order, into groups that each fit one ZIP upload.

    Each group has at most `max_files` files and an estimated ZIP size (an upper
    bound, see `entry_cost`) of at most `max_bytes`.
    """
    if max_files < 1:
        raise ValueError("max_files must be at least 1")
    check_unique(files)
    groups: list[list[InvoiceFile]] = []
    current: list[InvoiceFile] = []
    current_bytes = ZIP_END_RECORD
    for f in files:
        cost = entry_cost(f)
        if ZIP_END_RECORD + cost > max_bytes:
            raise _refuse(
                f.order_id,
                f"the file ({size_text(f.size)}) cannot fit in one upload of at most"
                f" {size_text(max_bytes)}",
            )
        if current and (len(current) >= max_files or current_bytes + cost > max_bytes):
            groups.append(current)
            current, current_bytes = [], ZIP_END_RECORD
        current.append(f)
        current_bytes += cost
    if current:
        groups.append(current)
    return groups


# --- Writing ------------------------------------------------------------------------
def _zip_info(file: InvoiceFile) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(file.file_name, date_time=ZIP_DATE_TIME)
    info.compress_type = COMPRESSION_BY_KIND[file.kind]
    info.file_size = file.size  # lets zipfile decide on ZIP64 correctly
    info.external_attr = 0o644 << 16
    return info


def write_zip(files: Sequence[InvoiceFile], directory: str | None = None) -> str:
    """Write `files` into a new temporary ZIP and return its path; the caller deletes it.

    Entries are named `<orderId>.pdf|.xml` and copied in chunks, one at a time.
    """
    check_unique(files)
    fd, zip_path = tempfile.mkstemp(prefix="octopia-", suffix=wire.EXT_ZIP, dir=directory)
    try:
        with os.fdopen(fd, "wb") as out, zipfile.ZipFile(out, "w") as archive:
            for f in files:
                with f.open() as src, archive.open(_zip_info(f), "w") as dst:
                    shutil.copyfileobj(src, dst, _CHUNK)
    except BaseException:
        _remove(zip_path)
        raise
    return zip_path


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)


class ZipStream:
    """Iterator of `(zip_path, [order ids])`, one temporary ZIP at a time.

    Each ZIP is deleted as soon as the consumer asks for the next one, when the
    iteration ends, or when it is closed (also by leaving a `with` block on an
    exception). Use it as `with iter_zips(...) as zips: for path, ids in zips: ...`
    or as a plain iterator.
    """

    def __init__(self, groups: list[list[InvoiceFile]], directory: str | None = None):
        self.groups = groups
        self._gen = self._generate(groups, directory)

    @staticmethod
    def _generate(groups, directory) -> Iterator[tuple[str, list[str]]]:
        for group in groups:
            zip_path = write_zip(group, directory)
            try:
                yield zip_path, [f.order_id for f in group]
            finally:
                _remove(zip_path)

    def __iter__(self) -> ZipStream:
        return self

    def __next__(self) -> tuple[str, list[str]]:
        return next(self._gen)

    def close(self) -> None:
        """Delete the current temporary ZIP, if any, and stop."""
        self._gen.close()

    def __enter__(self) -> ZipStream:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def iter_zips(
    files: Sequence[InvoiceFile],
    max_files: int = wire.MAX_FILES_PER_ZIP,
    max_bytes: int = wire.MAX_REQUEST_BYTES,
    directory: str | None = None,
) -> ZipStream:
    """Plan `files` into bundles now (refusing before anything is written), then write
    and yield one temporary ZIP at a time; see `ZipStream`."""
    return ZipStream(plan_bundles(files, max_files, max_bytes), directory)
