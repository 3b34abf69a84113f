"""Cdiscount's refusal codes in plain words, with what to do (the raw text is kept beside).

The codes are those the sandbox gives (octopia/sandbox_state.py): Octopia does not publish
its list (an open question in README.rst); an unknown code shows Cdiscount's own text only.
"""

from odoo.tools.translate import LazyTranslate

_lt = LazyTranslate(__name__)

EXPLANATIONS = {
    "OrderNotFound": _lt(
        "Cdiscount does not know this order for your seller account. Check the Cdiscount "
        "order id on the sale order, and that the Cdiscount account is the seller the order "
        "was placed with; then send the invoice again."
    ),
    "OrderReferenceMismatch": _lt(
        "The invoice names another order than the one it was sent for. Check the Cdiscount "
        "order id on the sale order and on the invoice, then send it again."
    ),
    "InvalidDocument": _lt(
        "Cdiscount could not read the document. Send it again; if it is refused again, "
        "choose the PDF format."
    ),
    "UnsupportedFormat": _lt(
        "Cdiscount takes PDF and UBL 2.1 XML invoices only. Choose one of these formats and "
        "send the invoice again."
    ),
    "EmptyFile": _lt("The file Cdiscount received was empty. Send the invoice again."),
    "InvalidFileName": _lt(
        "The file name is not a Cdiscount order id. Check the order id on the sale order, "
        "then send the invoice again."
    ),
    "InvalidArchive": _lt("Cdiscount could not open the ZIP file. Send the invoices again."),
    "FileTooLarge": _lt(
        "The file is larger than Cdiscount accepts. Lower the maximum file size of the "
        "Cdiscount account, or send a lighter PDF."
    ),
    "TooManyFiles": _lt(
        "The ZIP held more files than Cdiscount accepts. Lower the number of files per ZIP of "
        "the Cdiscount account, then send the invoices again."
    ),
}


def explain(env, code):
    """What a refusal code means and what to do, in `env`'s language; "" when unknown."""
    explanation = EXPLANATIONS.get(code or "")
    return env._(explanation) if explanation else ""
