"""Cancelling a remote stream within milliseconds, even while a read is blocked.

A read blocked on a silent server cannot be interrupted from another thread, so a small watcher
thread shuts the request's socket down the moment the cancel event is set; the read returns at
once and the stream ends with `GenerationCancelledError`, as with the local model.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any


class CancelWatch:
    """Shuts a request's socket down when `cancel` is set, so that a blocked read returns."""

    POLL_S = 0.05  # only how soon an idle watcher notices the stream ended, not cancel latency

    def __init__(self, cancel: threading.Event | None) -> None:
        self._cancel = cancel
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._finished = False
        self.fired = False
        if cancel is not None:
            threading.Thread(target=self._watch, name="lanterne-remote-cancel", daemon=True).start()

    def trace(self, name: str, info: dict[str, Any]) -> None:
        """httpcore2's `trace` hook: remember the socket of the connection being opened."""
        if not name.endswith(("connect_tcp.complete", "start_tls.complete")):
            return
        stream = info.get("return_value")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if isinstance(sock, socket.socket):
            with self._lock:
                self._socket = sock
                if self.fired:
                    self._shutdown()

    def _watch(self) -> None:
        assert self._cancel is not None
        while not self._finished:
            if self._cancel.wait(self.POLL_S):
                with self._lock:
                    if not self._finished:
                        self.fired = True
                        self._shutdown()
                return

    def _shutdown(self) -> None:
        if self._socket is None:
            return
        with contextlib.suppress(OSError):
            # The plain socket's method even on TLS: SSLSocket.shutdown would also drop its SSL
            # state under the reading thread's feet.
            socket.socket.shutdown(self._socket, socket.SHUT_RDWR)

    def finish(self) -> None:
        """Call before the socket is closed: no shutdown can happen afterwards."""
        with self._lock:
            self._finished = True
