"""One ladder from httpx2's failures to sentences, for every server Lanterne talks to (a chat
server, the model hub): which server, what happened, what to check.

Callers turn the kind into their own exception class (`remote_errors.transport_error`) or add
what only they know (the hub's mirror setting, `hub_download`); the wording stays here.
"""

from __future__ import annotations

import enum
import socket
import ssl
from dataclasses import dataclass

import httpx2

from lanterne.foundation.translation import _


class Failure(enum.Enum):
    """What went wrong, as far as what the user does about it differs."""

    CONNECT_TIMEOUT = "connect timeout"  # nothing answered the connection
    SILENT = "silent"  # connected, then nothing came (or could be sent) in time
    BAD_STREAM = "bad stream"  # not an event stream where one was asked for
    REFUSED = "refused"
    UNKNOWN_HOST = "unknown host"
    UNTRUSTED = "untrusted"  # TLS failed: most often a certificate this machine does not trust
    UNREACHABLE = "unreachable"  # any other failure to connect
    BROKE_OFF = "broke off"  # connected, then the connection failed mid-way
    OTHER = "other"  # not a transport failure (a status raised, a body that cannot be decoded)


# The kinds where the server's address, or the way to it, is what to check.
CONNECTING = frozenset(
    {
        Failure.CONNECT_TIMEOUT,
        Failure.REFUSED,
        Failure.UNKNOWN_HOST,
        Failure.UNTRUSTED,
        Failure.UNREACHABLE,
    }
)


@dataclass(frozen=True)
class HttpFailure:
    kind: Failure
    message: str


def explain(exc: httpx2.HTTPError, url: str, timeout: float) -> HttpFailure:
    """httpx2's failure of a request to the server at `url` as a sentence. The seconds a timeout
    waited are the request's own; `timeout`, the caller's usual limit, where it does not tell."""
    if isinstance(exc, httpx2.ConnectTimeout):
        return HttpFailure(
            Failure.CONNECT_TIMEOUT,
            _(
                "{url} did not accept a connection within {seconds} s. Check the address "
                "and that this machine can reach the server."
            ).format(url=url, seconds=_seconds(exc, "connect", timeout)),
        )
    if isinstance(exc, httpx2.TimeoutException):
        phase = {httpx2.WriteTimeout: "write", httpx2.PoolTimeout: "pool"}.get(type(exc), "read")
        return HttpFailure(
            Failure.SILENT,
            _(
                "The server at {url} sent nothing for {seconds} s. It may be overloaded: "
                "try again, or allow it more time."
            ).format(url=url, seconds=_seconds(exc, phase, timeout)),
        )
    if isinstance(exc, httpx2.SSEError):
        return HttpFailure(
            Failure.BAD_STREAM,
            _("The server at {url} did not send a valid event stream: {detail}").format(
                url=url, detail=exc
            ),
        )
    if isinstance(exc, httpx2.ConnectError):
        return _connect_failure(exc, url)
    if isinstance(exc, httpx2.TransportError):
        return HttpFailure(
            Failure.BROKE_OFF,
            _("The connection to {url} broke off before the reply was complete ({detail}).").format(
                url=url, detail=exc
            ),
        )
    return HttpFailure(
        Failure.OTHER,
        _("The request to {url} failed: {detail}").format(url=url, detail=exc),
    )


def _connect_failure(exc: httpx2.ConnectError, url: str) -> HttpFailure:
    """Why the connection failed, read from the OS error under httpx2's wrappers."""
    cause = root_cause(exc)
    if isinstance(cause, ConnectionRefusedError):
        return HttpFailure(
            Failure.REFUSED,
            _(
                "Cannot connect to {url}: the connection was refused. Is the server "
                "running and listening on that port?"
            ).format(url=url),
        )
    if isinstance(cause, socket.gaierror):
        return HttpFailure(
            Failure.UNKNOWN_HOST,
            _("Cannot connect to {url}: the host name is unknown. Check the address.").format(
                url=url
            ),
        )
    if isinstance(cause, ssl.SSLError):
        return HttpFailure(
            Failure.UNTRUSTED,
            _(
                "Cannot connect to {url}: its TLS certificate is not trusted by this "
                "machine ({detail})."
            ).format(url=url, detail=cause),
        )
    return HttpFailure(
        Failure.UNREACHABLE,
        _("Cannot reach {url}: {detail}. Check the address and the network.").format(
            url=url, detail=cause
        ),
    )


def _seconds(exc: httpx2.TimeoutException, phase: str, fallback: float) -> str:
    """The limit that ran out, as the request was sent with it (`3`, `0.2`), else `fallback`."""
    try:
        limits = exc.request.extensions.get("timeout")
    except RuntimeError:  # an error raised without its request
        limits = None
    value = limits.get(phase) if isinstance(limits, dict) else None
    return f"{value if isinstance(value, int | float) else fallback:g}"


def root_cause(exc: BaseException) -> BaseException:
    """The OS error under httpx2's and httpcore2's wrappers (httpcore2 only sets the context)."""
    while (inner := exc.__cause__ or exc.__context__) is not None:
        exc = inner
    return exc
