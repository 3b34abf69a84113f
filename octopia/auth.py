"""OAuth2 client-credentials tokens for Octopia, cached and shared between threads."""

import hashlib
import logging
import threading
import time

import requests

from . import wire
from .errors import AuthenticationError, ConfigurationError, UnavailableError
from .retry import RetryBudget, parse_retry_after

_logger = logging.getLogger(__name__)

# Failures of the token request worth another try: it is idempotent, so any transport error
# (refused, reset, timed out, dropped) and the statuses retried for API GETs.
_TRANSPORT_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)

# (token URL, client id, secret fingerprint) -> (token, expires at monotonic seconds)
_CACHE = {}
_CACHE_LOCK = threading.Lock()


def clear_token_cache():
    """Forget every cached token (tests, or after credentials change)."""
    with _CACHE_LOCK:
        _CACHE.clear()


class _Retry:
    """A token request that failed in a way worth another try."""

    def __init__(self, why, status=None, retry_after=None):
        self.why, self.status, self.retry_after = why, status, retry_after


class TokenProvider:
    """Fetches a token once and reuses it until `expires_in` minus a margin.

    The cache is per (token URL, client id) -- and the secret's fingerprint, so that a
    corrected secret is never answered with the token of the wrong one. The request is
    retried within a RetryBudget (`new_budget` makes one; the client passes its own); a
    refusal of the credentials (400, 401, 403) never is."""

    def __init__(
        self,
        auth_url,
        client_id,
        client_secret,
        *,
        session=None,
        timeout=wire.DEFAULT_TIMEOUT,
        margin=wire.TOKEN_REFRESH_MARGIN,
        new_budget=RetryBudget,
    ):
        if not (auth_url and client_id and client_secret):
            raise ConfigurationError(
                "Octopia credentials are incomplete: a client id and a client secret are needed."
            )
        self.auth_url = auth_url
        self.client_id = client_id
        self._secret = client_secret
        self._session = session or requests.Session()
        self.timeout = timeout
        self.margin = margin
        self._new_budget = new_budget
        fingerprint = hashlib.sha256(client_secret.encode()).hexdigest()[:16]
        self._key = (auth_url, client_id, fingerprint)
        self._lock = threading.Lock()

    def __repr__(self):
        return f"<TokenProvider {self.auth_url} client_id={self.client_id!r}>"

    def token(self, budget=None):
        """A valid access token, from the cache when possible; `budget`: the retries the
        caller may still spend (a fresh one by default)."""
        cached = self._cached()
        if cached:
            return cached
        with self._lock:  # one fetch per provider at a time; others reuse its result
            return self._cached() or self._fetch(budget or self._new_budget())

    def invalidate(self, token):
        """Drop `token` from the cache (after a 401), unless it was already replaced."""
        with _CACHE_LOCK:
            entry = _CACHE.get(self._key)
            if entry and entry[0] == token:
                del _CACHE[self._key]

    def _cached(self):
        with _CACHE_LOCK:
            entry = _CACHE.get(self._key)
        if entry and entry[1] > time.monotonic():
            return entry[0]
        return None

    def _fetch(self, budget):
        while True:
            outcome = self._request()
            if not isinstance(outcome, _Retry):
                return self._store(outcome)
            if not budget.allows(outcome.retry_after):
                tries = budget.attempt + 1
                raise UnavailableError(
                    f"The Octopia login service {outcome.why} ({tries} "
                    f"{'tries' if tries > 1 else 'try'}): without an access token nothing was "
                    "sent to Octopia; try again later.",
                    status=outcome.status,
                    retry_after=outcome.retry_after,
                )
            _logger.info("Octopia token request: %s, will retry", outcome.why)
            budget.wait(outcome.retry_after)

    def _request(self):
        """One token request: the 200 response, or a _Retry; raises when retrying is useless."""
        data = {
            "grant_type": wire.TOKEN_GRANT_TYPE,
            "client_id": self.client_id,
            "client_secret": self._secret,
        }
        try:
            response = self._session.post(self.auth_url, data=data, timeout=self.timeout)
        except _TRANSPORT_ERRORS as exc:
            return _Retry(f"could not be reached ({type(exc).__name__})")
        except requests.RequestException as exc:  # an invalid URL: no use trying again
            raise UnavailableError(
                f"The Octopia login service could not be reached ({type(exc).__name__})."
            ) from None
        status = response.status_code
        if status in (400, 401, 403):
            raise AuthenticationError(
                "Octopia refused the client id or the client secret: check them in the "
                "Cdiscount account settings.",
                status=status,
            )
        if status in wire.RETRY_STATUSES:
            retry_after = parse_retry_after(response.headers.get(wire.HEADER_RETRY_AFTER))
            return _Retry(f"answered HTTP {status}", status, retry_after)
        if status != 200:
            raise UnavailableError(
                f"The Octopia login service answered HTTP {status}.", status=status
            )
        return response

    def _store(self, response):
        try:
            body = response.json()
            token = body[wire.TOKEN_FIELD_ACCESS]
        except (ValueError, KeyError, TypeError):
            raise AuthenticationError(
                "The Octopia login service answered without an access token."
            ) from None
        lifetime = body.get(wire.TOKEN_FIELD_EXPIRES) or wire.TOKEN_DEFAULT_LIFETIME
        try:
            lifetime = float(lifetime)
        except (TypeError, ValueError):
            lifetime = wire.TOKEN_DEFAULT_LIFETIME
        margin = min(self.margin, lifetime / 2)
        with _CACHE_LOCK:
            _CACHE[self._key] = (token, time.monotonic() + lifetime - margin)
        _logger.debug("Octopia token obtained for client %s (%ss)", self.client_id, lifetime)
        return token
