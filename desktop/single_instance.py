"""One Lanterne per user and data directory: a second launch hands its request to the first.

The first instance listens on a local socket (a Unix socket, or a named pipe on Windows) named
after the data directory, so `LANTERNE_HOME` sandboxes stay apart. Requests are one JSON line:
{"command": "show"} raises the main window, {"command": "quick-ask", "text": "..."} opens the
quick-ask window.

Which launch becomes the instance is decided by a lock file held for the instance's lifetime
(the OS releases it when the process dies, so a crash leaves no stale claim). Without it, two
launches at the same moment would both find nobody listening, and the second would remove the
first one's socket to listen itself: two instances, one of them unreachable.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from typing import Any

from filelock import FileLock, Timeout
from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from lanterne.foundation import paths

_TIMEOUT_MS = 1000


def server_name() -> str:
    key = str(paths.data_dir().resolve()) + (os.environ.get("USER") or "")
    return "lanterne-" + hashlib.sha256(key.encode()).hexdigest()[:16]


def send_to_running(request: dict[str, Any], timeout_ms: int = _TIMEOUT_MS) -> bool:
    """Hand `request` to a running Lanterne; False when none is running."""
    socket = QLocalSocket()
    socket.connectToServer(server_name())
    if not socket.waitForConnected(timeout_ms):
        return False
    socket.write(json.dumps(request).encode() + b"\n")
    while socket.bytesToWrite() > 0:  # (flushed at once, there is nothing to wait for)
        if not socket.waitForBytesWritten(timeout_ms):
            return False
    socket.disconnectFromServer()
    return True


def hand_over(request: dict[str, Any], patience_s: float = 10.0) -> bool:
    """Hand `request` to the instance holding the lock, which may still be starting."""
    deadline = time.monotonic() + patience_s
    while not send_to_running(request):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


class InstanceLock:
    """The claim to be this user's Lanterne for this data directory."""

    def __init__(self) -> None:
        folder = paths.data_dir()
        folder.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(str(folder / "instance.lock"))

    def acquire(self) -> bool:
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            return False
        return True

    def release(self) -> None:
        self._lock.release()


class InstanceServer(QObject):
    """Listens for later launches; `request` carries what each asked for."""

    request = Signal(dict)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._on_connection)
        self._buffers: dict[QLocalSocket, bytes] = {}

    def listen(self) -> bool:
        """Call with the InstanceLock held: a socket already there was left by a crash."""
        name = server_name()
        if self._server.listen(name):
            return True
        QLocalServer.removeServer(name)
        return self._server.listen(name)

    def close(self) -> None:
        for socket in list(self._buffers):  # no late signal may reach a deleted socket
            socket.readyRead.disconnect()
            socket.disconnected.disconnect()
            socket.abort()
        self._buffers.clear()
        self._server.close()

    def _on_connection(self) -> None:
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            self._buffers[socket] = b""
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(lambda s=socket: self._finish(s))

    def _read(self, socket: QLocalSocket) -> None:
        if socket not in self._buffers:
            return
        self._buffers[socket] += bytes(socket.readAll().data())
        while b"\n" in self._buffers[socket]:
            line, self._buffers[socket] = self._buffers[socket].split(b"\n", 1)
            self._handle(line)

    def _finish(self, socket: QLocalSocket) -> None:
        if socket not in self._buffers:
            return
        rest = self._buffers.pop(socket) + bytes(socket.readAll().data())
        if rest.strip():
            self._handle(rest)
        socket.readyRead.disconnect()
        socket.disconnected.disconnect()
        socket.deleteLater()

    def _handle(self, line: bytes) -> None:
        try:
            request = json.loads(line)
        except ValueError:
            return  # not one of ours: ignored
        if isinstance(request, dict) and isinstance(request.get("command"), str):
            self.request.emit(request)
