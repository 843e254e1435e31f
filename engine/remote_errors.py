"""What can go wrong with a remote server, one class per thing a user does differently."""

from __future__ import annotations

import httpx2

from lanterne.engine.errors import EngineError
from lanterne.engine.http_errors import Failure, explain


class RemoteError(EngineError):
    """A remote server failed; the message names the server and what to do about it."""


class ServerUnreachableError(RemoteError):
    pass


class AuthenticationError(RemoteError):
    pass


class ModelNotFoundError(RemoteError):
    pass


class ServerTimeoutError(RemoteError):
    pass


class MalformedResponseError(RemoteError):
    pass


class ServerError(RemoteError):
    pass


_CLASSES: dict[Failure, type[RemoteError]] = {
    Failure.CONNECT_TIMEOUT: ServerTimeoutError,
    Failure.SILENT: ServerTimeoutError,
    Failure.BAD_STREAM: MalformedResponseError,
    Failure.BROKE_OFF: MalformedResponseError,
    Failure.REFUSED: ServerUnreachableError,
    Failure.UNKNOWN_HOST: ServerUnreachableError,
    Failure.UNTRUSTED: ServerUnreachableError,
    Failure.UNREACHABLE: ServerUnreachableError,
    Failure.OTHER: RemoteError,
}


def transport_error(exc: httpx2.HTTPError, url: str, timeout: float) -> RemoteError:
    """httpx2's failure as a sentence that says which server and what to check (the wording is
    `http_errors`', shared with the model hub's downloads)."""
    failure = explain(exc, url, timeout)
    return _CLASSES[failure.kind](failure.message)


__all__ = [
    "AuthenticationError",
    "MalformedResponseError",
    "ModelNotFoundError",
    "RemoteError",
    "ServerError",
    "ServerTimeoutError",
    "ServerUnreachableError",
    "transport_error",
]
