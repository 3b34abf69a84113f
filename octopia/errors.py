"""Typed errors of the Octopia core. Their text never contains a secret or a token."""


class OctopiaError(Exception):
    """Base of every error the core raises. `message` is plain words for a person."""

    def __init__(
        self,
        message,
        *,
        status=None,
        title="",
        detail="",
        errors=None,
        trace_id="",
        retry_after=None,
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors or {}
        self.trace_id = trace_id
        self.retry_after = retry_after

    def __str__(self):
        return self.message

    @property
    def retryable(self):
        """True when the same request may succeed later without any correction."""
        return False


class ConfigurationError(OctopiaError):
    """Missing or invalid settings (credentials, URLs)."""


class AuthenticationError(OctopiaError):
    """401 even with a fresh token, or the token endpoint refused the credentials."""


class ForbiddenError(OctopiaError):
    """403: the credentials lack the right to upload invoices for this seller."""


class NotFoundError(OctopiaError):
    """404: unknown order or import."""


class RejectedError(OctopiaError):
    """400, 406, 409, 415, 422: Octopia refused the request as it is."""

    @property
    def retryable(self):
        return self.status == 409  # "being processed": try again later


class RateLimitedError(OctopiaError):
    """429 still answered after the bounded retries."""

    @property
    def retryable(self):
        return True


class UnavailableError(OctopiaError):
    """5xx or no connection, after the bounded retries. The request was not accepted."""

    @property
    def retryable(self):
        return True


class OutcomeUnknownError(OctopiaError):
    """An upload whose answer was lost: Octopia may have accepted it.

    Never re-send blindly: reconcile with the import list first."""

    @property
    def retryable(self):
        return False


class ResponseFormatError(OctopiaError):
    """Octopia answered something we cannot read (not JSON, no import id, ...)."""


class BundleError(OctopiaError):
    """A file or bundle that must not be sent; `culprit` names the order id or file."""

    def __init__(self, message, *, culprit="", **kwargs):
        super().__init__(message, **kwargs)
        self.culprit = culprit
