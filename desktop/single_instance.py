"""One Lanterne per user and data directory: a second launch hands its request to the first.

The first instance listens on a local socket (a Unix socket, or a named pipe on Windows) named
after the data directory, so `LANTERNE_HOME` sandboxes stay apart. Requests are one JSON line:
{"command": "show"} raises the main window, {"command": "quick-ask", "text": "..."} opens the
quick-ask window.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from lanterne import paths

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
        name = server_name()
        if self._server.listen(name):
            return True
        # A socket file left by a crashed instance (nobody answered before we got here).
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
