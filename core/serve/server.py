"""The API server: uvicorn on a daemon thread, started and stopped by `lanterne serve` or by the
app's Settings switch.

The socket is bound here before uvicorn starts, so that a port in use is an error in words at
once (uvicorn would log it and exit the process), and port 0 gets a free port (tests). uvicorn is
told to leave logging and signals alone: the app and the CLI own both.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import socket
import threading
import time

import uvicorn

from lanterne.context import AppContext
from lanterne.foundation.translation import _
from lanterne.serve.access import api_token
from lanterne.serve.answer_response import Answers
from lanterne.serve.app import build_app

START_WAIT_S = 15.0
STOP_WAIT_S = 10.0
_GRACE_S = 3  # seconds open requests get to finish once the server is asked to stop


class ApiServerError(Exception):
    """The server could not start; says why in words."""


LOOPBACK = "127.0.0.1"


def is_loopback(host: str) -> bool:
    """Whether `host` is reachable from this computer only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _bind(host: str, port: int) -> socket.socket:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        raise ApiServerError(
            _("Cannot listen on {host}: not an address of this computer ({error}).").format(
                host=host, error=exc
            )
        ) from None
    family, kind, proto, _name, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        if hasattr(socket, "SO_EXCLUSIVEADDRUSE"):  # Windows: no other process on this port
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
        else:  # POSIX: a restart right after a stop may reuse the port
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        if exc.errno in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", -1)):
            message = _(
                "Port {port} is already in use on {host} (another program, or Lanterne "
                "already running): choose another port."
            ).format(port=port, host=host)
        elif exc.errno in (errno.EACCES, errno.EPERM):
            message = _("Lanterne may not listen on port {port}: choose one above 1024.").format(
                port=port
            )
        else:
            message = _("Cannot listen on {host} port {port}: {error}").format(
                host=host, port=port, error=exc.strerror or exc
            )
        raise ApiServerError(message) from None
    return sock


class ApiServer:
    def __init__(self, ctx: AppContext, host: str | None = None, port: int | None = None) -> None:
        self._ctx = ctx
        chosen = (host if host is not None else ctx.settings.get_str("api.host")).strip()
        # An empty address would bind every interface: the network only ever by being named.
        self.host = chosen or LOOPBACK
        self.port = port if port is not None else ctx.settings.get_int("api.port")
        self._answers = Answers()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """The base URL clients use (add /v1 for OpenAI's clients)."""
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> str:
        """Listen, then return the base URL; a port in use or an address that is not this
        computer's raises `ApiServerError`, a keychain without the token `KeychainError`."""
        with self._lock:
            if self.running:
                return self.url
            api_token()  # created now, or why it cannot be, before anyone connects
            self._ctx.model_gate.limit = self._ctx.settings.get_int("api.queue_limit")
            sock = _bind(self.host, self.port)
            self.port = int(sock.getsockname()[1])
            config = uvicorn.Config(
                build_app(self._ctx, self._answers),
                http="h11",
                loop="asyncio",
                ws="none",
                lifespan="off",
                log_config=None,
                access_log=False,
                server_header=False,
                timeout_graceful_shutdown=_GRACE_S,
            )
            server = uvicorn.Server(config)
            thread = threading.Thread(
                target=server.run, kwargs={"sockets": [sock]}, name="lanterne-api", daemon=True
            )
            thread.start()
            deadline = time.monotonic() + START_WAIT_S
            while not server.started and thread.is_alive() and time.monotonic() < deadline:
                time.sleep(0.01)
            if not server.started:
                server.should_exit = True
                thread.join(STOP_WAIT_S)
                sock.close()
                raise ApiServerError(
                    _("The API server did not start on {url}.").format(url=self.url)
                )
            self._server, self._thread, self._socket = server, thread, sock
            return self.url

    def stop(self) -> None:
        """Stop the answers being written, let requests end, and free the port; once is enough,
        more calls do nothing."""
        with self._lock:
            server, thread, sock = self._server, self._thread, self._socket
            self._server = self._thread = self._socket = None
            if server is None or thread is None:
                return
            self._answers.cancel_all()
            server.should_exit = True
            thread.join(STOP_WAIT_S + _GRACE_S)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()
