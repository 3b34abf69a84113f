"""OAuth2 client-credentials tokens for Octopia, cached and shared between threads."""

import hashlib
import logging
import threading
import time

import requests

from . import wire
from .errors import AuthenticationError, ConfigurationError, UnavailableError

_logger = logging.getLogger(__name__)

# (token URL, client id, secret fingerprint) -> (token, expires at monotonic seconds)
_CACHE = {}
_CACHE_LOCK = threading.Lock()


def clear_token_cache():
    """Forget every cached token (tests, or after credentials change)."""
    with _CACHE_LOCK:
        _CACHE.clear()


class TokenProvider:
    """Fetches a token once and reuses it until `expires_in` minus a margin.

    The cache is per (token URL, client id) -- and the secret's fingerprint, so that a
    corrected secret is never answered with the token of the wrong one."""

    def __init__(
        self,
        auth_url,
        client_id,
        client_secret,
        *,
        session=None,
        timeout=wire.DEFAULT_TIMEOUT,
        margin=wire.TOKEN_REFRESH_MARGIN,
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
        fingerprint = hashlib.sha256(client_secret.encode()).hexdigest()[:16]
        self._key = (auth_url, client_id, fingerprint)
        self._lock = threading.Lock()

    def __repr__(self):
        return f"<TokenProvider {self.auth_url} client_id={self.client_id!r}>"

    def token(self):
        """A valid access token, from the cache when possible."""
        cached = self._cached()
        if cached:
            return cached
        with self._lock:  # one fetch per provider at a time; others reuse its result
            return self._cached() or self._fetch()

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

    def _fetch(self):
        data = {
            "grant_type": wire.TOKEN_GRANT_TYPE,
            "client_id": self.client_id,
            "client_secret": self._secret,
        }
        try:
            response = self._session.post(self.auth_url, data=data, timeout=self.timeout)
        except requests.RequestException as exc:
            raise UnavailableError(
                f"The Octopia login service could not be reached ({type(exc).__name__})."
            ) from None
        if response.status_code in (400, 401, 403):
            raise AuthenticationError(
                "Octopia refused the client id or the client secret: check them in the "
                "Cdiscount account settings.",
                status=response.status_code,
            )
        if response.status_code != 200:
            raise UnavailableError(
                f"The Octopia login service answered HTTP {response.status_code}.",
                status=response.status_code,
            )
        return self._store(response)

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
