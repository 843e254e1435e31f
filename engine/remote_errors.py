"""What can go wrong with a remote server, one class per thing a user does differently."""

from __future__ import annotations

from lanterne.engine.errors import EngineError


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


__all__ = [
    "AuthenticationError",
    "MalformedResponseError",
    "ModelNotFoundError",
    "RemoteError",
    "ServerError",
    "ServerTimeoutError",
    "ServerUnreachableError",
]
