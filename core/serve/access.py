"""The API's bearer token: created on first use, kept in the system keychain, never logged.

Loopback is not a boundary: other users of the machine and any web page the person opens can
reach 127.0.0.1, so every request needs the token. `LANTERNE_API_KEY` overrides the keychain's
(scripts, tests, machines without a keychain). The token is cached for a few seconds so that a
request does not wait on the keychain, yet a token renewed by another Lanterne process (the
app's Settings while `lanterne serve` runs) is taken up soon after.
"""

from __future__ import annotations

import hmac
import os
import secrets as token_source
import threading
import time

from lanterne.engine import secrets
from lanterne.foundation.translation import _

TOKEN_ENV = "LANTERNE_API_KEY"
KEYCHAIN_NAME = "lanterne-api"  # the keychain entry's user name (engine/secrets.py's "endpoint")
_FRESH_S = 5.0
_lock = threading.Lock()
_cached: tuple[str, float] | None = None  # (token, when it was read)


def _keychain_failed(exc: secrets.KeychainError) -> secrets.KeychainError:
    return secrets.KeychainError(
        _("The API token cannot be kept in the system keychain: {reason}").format(reason=exc)
    )


def api_token() -> str:
    """The token clients must send: `LANTERNE_API_KEY`, else the keychain's, created if there
    is none yet. A keychain that cannot be used raises `KeychainError`, saying what to do."""
    global _cached
    if env := os.environ.get(TOKEN_ENV, "").strip():
        return env
    with _lock:
        if _cached is not None and time.monotonic() - _cached[1] < _FRESH_S:
            return _cached[0]
        try:
            token = secrets.get_api_key(KEYCHAIN_NAME)
            if not token:
                token = token_source.token_urlsafe(32)
                secrets.set_api_key(KEYCHAIN_NAME, token)
        except secrets.KeychainError as exc:
            if _cached is not None:  # locked since it was read: the token is still the same
                return _cached[0]
            raise _keychain_failed(exc) from None
        _cached = (token, time.monotonic())
        return token


def renew_api_token() -> str:
    """A new token in the keychain; apps using the old one get 401 from now on. With
    `LANTERNE_API_KEY` set, that token stays in force (the keychain's is renewed regardless)."""
    global _cached
    token = token_source.token_urlsafe(32)
    with _lock:
        try:
            secrets.set_api_key(KEYCHAIN_NAME, token)
        except secrets.KeychainError as exc:
            raise _keychain_failed(exc) from None
        _cached = (token, time.monotonic())
    return token


def authorized(header_value: str | None, token: str) -> bool:
    """Whether an Authorization header carries `token` as a bearer token (compared in constant
    time, so the token cannot be guessed from response times)."""
    if not header_value or not token:
        return False
    scheme, _space, given = header_value.strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode("utf-8"), token.encode("utf-8"))


def forget_cached_token() -> None:
    """Read the keychain again at the next request (tests switch keychains)."""
    global _cached
    with _lock:
        _cached = None
