"""One Lanterne per user and data directory: later launches hand their request over."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QDir
from pytestqt.qtbot import QtBot

from lanterne.desktop.single_instance import InstanceServer, send_to_running, server_name

pytestmark = pytest.mark.gui


def test_a_request_reaches_the_running_instance(qtbot: QtBot) -> None:
    assert send_to_running({"command": "show"}, timeout_ms=200) is False  # none running yet
    server = InstanceServer()
    assert server.listen()
    try:
        with qtbot.waitSignal(server.request, timeout=5000) as got:
            assert send_to_running({"command": "quick-ask", "text": "Où est le budget ?"})
        assert got.args[0] == {"command": "quick-ask", "text": "Où est le budget ?"}
    finally:
        server.close()


@pytest.mark.skipif(sys.platform == "win32", reason="named pipes leave nothing behind")
def test_a_socket_left_by_a_crash_is_taken_over(qtbot: QtBot) -> None:
    stale = Path(QDir.tempPath()) / server_name()
    leftover = socket.socket(socket.AF_UNIX)
    leftover.bind(str(stale))  # a crashed instance's socket file: bound, nobody listening
    leftover.close()
    assert stale.exists()
    server = InstanceServer()
    assert server.listen()
    try:
        with qtbot.waitSignal(server.request, timeout=5000):
            assert send_to_running({"command": "show"})
    finally:
        server.close()
