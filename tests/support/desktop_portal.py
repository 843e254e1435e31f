"""A private D-Bus session with the real xdg-desktop-portal, as a Wayland desktop runs it.

The portal's GlobalShortcuts backend is the compositor's part; here `shortcuts_backend.py`
plays it (it speaks the backend's D-Bus interface). The test picks the backend the way a desktop
does: a `.portal` file naming it for XDG_CURRENT_DESKTOP, found through XDG_DESKTOP_PORTAL_DIR.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from jeepney.bus_messages import DBus
from jeepney.io.blocking import open_dbus_connection

from support import dbus_session

PORTAL = Path("/usr/libexec/xdg-desktop-portal")
BACKEND = Path(__file__).with_name("shortcuts_backend.py")
DESKTOP = "lanterne-test"


def available() -> bool:
    return dbus_session.available() and PORTAL.exists()


class Portal:
    """The session's address, and the backend's orders and reports (read on a thread, so a
    report is never stuck in a pipe's buffer)."""

    def __init__(self, address: str, backend: subprocess.Popen[str] | None) -> None:
        self.address = address
        self.backend = backend
        self._reports: queue.Queue[dict[str, Any]] = queue.Queue()
        if backend is not None:
            threading.Thread(target=self._read, args=(backend.stdout,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._reports.put(json.loads(line))

    def order(self, do: str) -> None:
        assert self.backend is not None and self.backend.stdin is not None
        self.backend.stdin.write(json.dumps({"do": do}) + "\n")
        self.backend.stdin.flush()

    def event(self, name: str, timeout: float = 10) -> dict[str, Any]:
        """The backend's next report named `name` (earlier others are dropped)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                report = self._reports.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                raise AssertionError(f"the portal backend never reported {name!r}") from None
            if report["event"] == name:
                return report


def _wait_for_name(address: str, name: str, timeout: float = 15) -> None:
    conn = open_dbus_connection(bus=address)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reply = conn.send_and_get_reply(DBus().NameHasOwner(name), timeout=5)
            if reply.body[0]:
                return
            time.sleep(0.05)
    finally:
        conn.close()
    raise AssertionError(f"{name} never appeared on the test bus")


@contextmanager
def desktop_portal(tmp: Path, backend: str | None = "accept") -> Iterator[Portal]:
    """A session bus running xdg-desktop-portal; with `backend` ("accept" or "decline") a
    GlobalShortcuts backend for it, without one a desktop that offers no shortcut portal."""
    portals = tmp / "portals"
    portals.mkdir(parents=True, exist_ok=True)
    if backend is not None:
        (portals / f"{DESKTOP}.portal").write_text(
            "[portal]\n"
            "DBusName=org.freedesktop.impl.portal.LanterneTest\n"
            "Interfaces=org.freedesktop.impl.portal.GlobalShortcuts\n"
            f"UseIn={DESKTOP}\n"
        )
    env = {
        **os.environ,
        "XDG_CURRENT_DESKTOP": DESKTOP,
        "XDG_DESKTOP_PORTAL_DIR": str(portals),
        "XDG_RUNTIME_DIR": str(tmp),
        "GIO_USE_VFS": "local",
    }
    with dbus_session.session_bus(env) as address:
        env["DBUS_SESSION_BUS_ADDRESS"] = address
        with _portal_processes(env, backend) as portal:
            yield portal


@contextmanager
def _portal_processes(env: dict[str, str], backend: str | None) -> Iterator[Portal]:
    processes: list[subprocess.Popen[str]] = []
    address = env["DBUS_SESSION_BUS_ADDRESS"]
    try:
        helper = None
        if backend is not None:
            helper = subprocess.Popen(
                [sys.executable, str(BACKEND), backend],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                env=env,
            )
            processes.append(helper)
        portal = Portal(address, helper)
        if helper is not None:
            portal.event("ready")
        processes.append(
            subprocess.Popen(
                [str(PORTAL), "--replace"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                text=True,
                env=env,
            )
        )
        _wait_for_name(address, "org.freedesktop.portal.Desktop")
        yield portal
    finally:
        for proc in reversed(processes):
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    stream.close()
