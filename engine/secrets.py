"""API keys for remote servers, kept in the operating system's keychain.

A key never touches a file, a setting or a log: `keyring` stores it in the Windows Credential
Manager, the macOS Keychain or the Secret Service (GNOME Keyring, KWallet) under the service
"Lanterne", with the server's base URL as the user name, so each endpoint has its own key. A
missing or locked keychain becomes a `KeychainError` whose message says what to do.
"""

from __future__ import annotations

import keyring
import keyring.errors

from lanterne.engine.errors import EngineError
from lanterne.foundation.translation import _

SERVICE = "Lanterne"


class KeychainError(EngineError):
    """The system keychain is missing, locked, or refused the operation."""


def _username(endpoint: str) -> str:
    """`http://host:8000`, `http://host:8000/` and `…/v1` are one server, so they share a key."""
    return endpoint.strip().rstrip("/").removesuffix("/v1")


def _keychain_error(exc: Exception, endpoint: str, secret: str | None = None) -> KeychainError:
    if isinstance(exc, keyring.errors.NoKeyringError):
        return KeychainError(
            _(
                "No system keychain is available to hold the API key for {endpoint}. On Linux, "
                "install and unlock a Secret Service keyring such as GNOME Keyring or KWallet."
            ).format(endpoint=endpoint)
        )
    if isinstance(exc, keyring.errors.KeyringLocked):
        return KeychainError(_("The system keychain is locked. Unlock it, then try again."))
    # Backends never echo a password, but a message must not be the one place a key leaks.
    reason = str(exc) or type(exc).__name__
    if secret:
        reason = reason.replace(secret, "[hidden]")
    return KeychainError(
        _("The system keychain failed for the API key of {endpoint}: {reason}").format(
            endpoint=endpoint, reason=reason
        )
    )


def set_api_key(endpoint: str, key: str) -> None:
    """Store (or replace) the key for `endpoint`."""
    key = key.strip()
    if not key:
        raise KeychainError(_("The API key is empty; nothing was stored."))
    try:
        keyring.set_password(SERVICE, _username(endpoint), key)
    except (keyring.errors.KeyringError, OSError) as exc:
        # No chained cause: a traceback printed with locals must not carry the key along.
        raise _keychain_error(exc, endpoint, key) from None


def get_api_key(endpoint: str) -> str | None:
    """The stored key for `endpoint`, or None when there is none."""
    try:
        return keyring.get_password(SERVICE, _username(endpoint))
    except (keyring.errors.KeyringError, OSError) as exc:
        raise _keychain_error(exc, endpoint) from exc


def delete_api_key(endpoint: str) -> bool:
    """Forget the key for `endpoint`; False when there was none to forget."""
    # Backends report "not found" as a PasswordDeleteError like any other failure, so look first.
    if get_api_key(endpoint) is None:
        return False
    try:
        keyring.delete_password(SERVICE, _username(endpoint))
    except (keyring.errors.KeyringError, OSError) as exc:
        raise _keychain_error(exc, endpoint) from exc
    return True
