"""Why an invoice is not sent: a code for the program, a sentence for the person.

Control flow and grouping use the code; the message names the invoice and says how to fix it.
The wizard says each reason once above the invoices it concerns: the group text of its code,
or, for a code whose fix differs per invoice (which order, which limit), each message."""

from typing import NamedTuple

from odoo.tools.translate import LazyTranslate

_lt = LazyTranslate(__name__)

NOT_CUSTOMER_INVOICE = "not_customer_invoice"
NOT_POSTED = "not_posted"
NO_ORDER = "no_order"
SEVERAL_ORDERS = "several_orders"
BAD_ORDER_ID = "bad_order_id"
ACCOUNT_ARCHIVED = "account_archived"
NO_ACCOUNT = "no_account"
CREDIT_NOTES_OFF = "credit_notes_off"
QUEUED = "queued"
PROCESSING = "processing"
ACCEPTED = "accepted"
SAME_ORDER = "same_order"  # two invoices of one order in one selection
BUSY = "busy"  # another transaction is sending it right now
TOO_LARGE = "too_large"  # one file alone over the request limit
ACCOUNT_INCOMPLETE = "account_incomplete"  # no credentials or URL: nothing was sent
NOT_SENT = "not_sent"  # refused by Cdiscount before it took the file

GROUP_TEXTS = {
    NOT_CUSTOMER_INVOICE: _lt(
        "Not customer invoices: only customer invoices are uploaded to Cdiscount."
    ),
    NOT_POSTED: _lt("Not posted: confirm them before sending them to Cdiscount."),
    NO_ORDER: _lt(
        "Not linked to a Cdiscount order: invoice the order from its sale order, and set its "
        "Cdiscount order id."
    ),
    ACCOUNT_ARCHIVED: _lt(
        "Their Cdiscount account is archived: restore it, or set the orders' account."
    ),
    NO_ACCOUNT: _lt(
        "No Cdiscount account is set up for their company: add one in Accounting > "
        "Configuration > Cdiscount Accounts."
    ),
    CREDIT_NOTES_OFF: _lt(
        "Credit notes, and uploading credit notes is off in their Cdiscount account."
    ),
    QUEUED: _lt("Already queued: they will be sent in the next background run."),
    PROCESSING: _lt(
        "Already being processed by Cdiscount: wait for the result of their last upload."
    ),
    ACCEPTED: _lt(
        "Already accepted by Cdiscount: tick “Replace Accepted Invoices” to upload a corrected "
        "version."
    ),
    BUSY: _lt("Being sent by another process right now."),
}


class Refusal(NamedTuple):
    code: str
    message: str  # names the invoice and says how to fix it

    def group_text(self, env):
        """The reason said once for all the invoices of this code, in env's language."""
        text = GROUP_TEXTS.get(self.code)
        return env._(text) if text else self.message
