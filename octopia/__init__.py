"""Odoo-free core of the Cdiscount invoice upload: Octopia's API, its sandbox, bundles, CLI.

Standard library, requests and lxml only, relative imports only, never odoo.
"""

from .client import LostUploadSearch, OctopiaClient
from .errors import (
    AuthenticationError,
    BundleError,
    ConfigurationError,
    ForbiddenError,
    NotFoundError,
    OctopiaError,
    OutcomeUnknownError,
    RateLimitedError,
    RejectedError,
    ResponseFormatError,
    UnavailableError,
)
from .wire import FileError, FileResult, ImportReport

__all__ = [
    "AuthenticationError",
    "BundleError",
    "ConfigurationError",
    "FileError",
    "FileResult",
    "ForbiddenError",
    "ImportReport",
    "LostUploadSearch",
    "NotFoundError",
    "OctopiaClient",
    "OctopiaError",
    "OutcomeUnknownError",
    "RateLimitedError",
    "RejectedError",
    "ResponseFormatError",
    "UnavailableError",
]
