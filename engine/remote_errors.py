"""What can go wrong with a remote server, one class per thing a user does differently."""

from __future__ import annotations

import socket
import ssl

import httpx2

from lanterne.engine.errors import EngineError
from lanterne.foundation.translation import _


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


def transport_error(exc: httpx2.HTTPError, url: str, timeout: float) -> RemoteError:
    """httpx2's failure as a sentence that says which server and what to check."""
    seconds = f"{timeout:g}"
    if isinstance(exc, httpx2.ConnectTimeout):
        return ServerTimeoutError(
            _(
                "{url} did not accept a connection within {seconds} s. Check the address "
                "and that this machine can reach the server."
            ).format(url=url, seconds=seconds)
        )
    if isinstance(exc, httpx2.TimeoutException):
        return ServerTimeoutError(
            _(
                "The server at {url} sent nothing for {seconds} s. It may be overloaded: "
                "try again, or allow it more time."
            ).format(url=url, seconds=seconds)
        )
    if isinstance(exc, httpx2.SSEError):
        return MalformedResponseError(
            _("The server at {url} did not send a valid event stream: {detail}").format(
                url=url, detail=exc
            )
        )
    if isinstance(exc, httpx2.ConnectError):
        cause = root_cause(exc)
        if isinstance(cause, ConnectionRefusedError):
            return ServerUnreachableError(
                _(
                    "Cannot connect to {url}: the connection was refused. Is the server "
                    "running and listening on that port?"
                ).format(url=url)
            )
        if isinstance(cause, socket.gaierror):
            return ServerUnreachableError(
                _("Cannot connect to {url}: the host name is unknown. Check the address.").format(
                    url=url
                )
            )
        if isinstance(cause, ssl.SSLError):
            return ServerUnreachableError(
                _(
                    "Cannot connect to {url}: its TLS certificate is not trusted by this "
                    "machine ({detail})."
                ).format(url=url, detail=cause)
            )
        return ServerUnreachableError(
            _("Cannot reach {url}: {detail}. Check the address and the network.").format(
                url=url, detail=cause
            )
        )
    if isinstance(exc, httpx2.TransportError):
        return MalformedResponseError(
            _("The connection to {url} broke off in the middle of the answer ({detail}).").format(
                url=url, detail=exc
            )
        )
    return RemoteError(_("The request to {url} failed: {detail}").format(url=url, detail=exc))


def root_cause(exc: BaseException) -> BaseException:
    """The OS error under httpx2's and httpcore2's wrappers (httpcore2 only sets the context)."""
    while (inner := exc.__cause__ or exc.__context__) is not None:
        exc = inner
    return exc


__all__ = [
    "AuthenticationError",
    "MalformedResponseError",
    "ModelNotFoundError",
    "RemoteError",
    "ServerError",
    "ServerTimeoutError",
    "ServerUnreachableError",
    "root_cause",
    "transport_error",
]
