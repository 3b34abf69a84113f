"""What several models share, declared once: the document formats, and how Cdiscount's
statuses map to ours."""

from octopia import wire

DOCUMENT_FORMATS = [("ubl", "UBL 2.1 (EN 16931)"), ("pdf", "PDF")]

# Cdiscount's import and file statuses → the state of an import (cdiscount.import) and of a
# file result (cdiscount.upload, which has no "partial": a file is accepted or refused).
STATE_BY_STATUS = {
    wire.STATUS_RUNNING: "running",
    wire.STATUS_SUCCESS: "success",
    wire.STATUS_PARTIAL: "partial",
    wire.STATUS_FAILURE: "failure",
}
