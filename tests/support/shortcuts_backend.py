"""The compositor's half of the GlobalShortcuts portal, for tests.

On a Wayland desktop, xdg-desktop-portal (the real one, run by the tests) hands an app's
shortcut requests to the desktop's backend (org.freedesktop.impl.portal.GlobalShortcuts, KDE's,
GNOME's or Hyprland's), which shows its dialog, picks the trigger and later reports key
presses. None of those runs without a Wayland compositor, so this process plays that part over
the same D-Bus interface: it binds what it is asked to (or declines, with `decline` as its
argument), and takes orders on stdin, one JSON object a line:

    {"do": "press"}      the user pressed every bound shortcut (Activated, then Deactivated)
    {"do": "unbind"}     the user removed them in the desktop's settings (ShortcutsChanged)

It reports on stdout, one JSON object a line: ready, created (with the app id the portal
passed), bound (the shortcuts as asked for), closed.
"""

from __future__ import annotations

import json
import select
import sys
import time
from typing import Any

from jeepney import (
    DBusAddress,
    HeaderFields,
    Message,
    MessageType,
    new_error,
    new_method_return,
    new_signal,
)
from jeepney.bus_messages import DBus
from jeepney.io.blocking import DBusConnection, open_dbus_connection

BUS_NAME = "org.freedesktop.impl.portal.LanterneTest"
PATH = "/org/freedesktop/portal/desktop"
IFACE = "org.freedesktop.impl.portal.GlobalShortcuts"
SESSION_IFACE = "org.freedesktop.impl.portal.Session"
SHORTCUTS = "a(sa{sv})"
_WORDS = {"CTRL": "Ctrl", "SHIFT": "Shift", "ALT": "Alt", "LOGO": "Super", "NUM": "NumLock"}


def say(**event: Any) -> None:
    print(json.dumps(event), flush=True)


def trigger_words(trigger: str) -> str:
    """How a desktop names "CTRL+SHIFT+space" in its dialog: "Ctrl+Shift+Space"."""
    *mods, key = trigger.split("+")
    return "+".join([*(_WORDS.get(m, m) for m in mods), key[:1].upper() + key[1:]])


class Backend:
    def __init__(self, conn: DBusConnection, decline: bool) -> None:
        self.conn = conn
        self.decline = decline
        self.sessions: dict[str, list[tuple[str, dict[str, tuple[str, Any]]]]] = {}

    def handle(self, msg: Message) -> None:
        fields = msg.header.fields
        member = fields.get(HeaderFields.member)
        interface = fields.get(HeaderFields.interface)
        path = fields.get(HeaderFields.path)
        if interface == "org.freedesktop.DBus.Properties" and member == "GetAll":
            self._reply(msg, "a{sv}", ({"version": ("u", 1)},))
        elif interface == "org.freedesktop.DBus.Properties" and member == "Get":
            self._reply(msg, "v", (("u", 1),))
        elif member == "CreateSession":
            _handle, session, app_id, _options = msg.body
            self.sessions[session] = []
            say(event="created", app_id=app_id)
            self._reply(msg, "ua{sv}", (0, {"shortcuts": (SHORTCUTS, [])}))
        elif member == "BindShortcuts":
            _handle, session, shortcuts, _parent, _options = msg.body
            say(
                event="bound",
                shortcuts=[[sid, {k: v[1] for k, v in props.items()}] for sid, props in shortcuts],
            )
            if self.decline:
                self._reply(msg, "ua{sv}", (1, {}))
                return
            self.sessions[session] = [
                (
                    sid,
                    {
                        "description": props["description"],
                        "trigger_description": (
                            "s",
                            trigger_words(props.get("preferred_trigger", ("s", "?"))[1]),
                        ),
                    },
                )
                for sid, props in shortcuts
            ]
            self._reply(msg, "ua{sv}", (0, {"shortcuts": (SHORTCUTS, self.sessions[session])}))
        elif member == "ListShortcuts":
            _handle, session = msg.body
            self._reply(msg, "ua{sv}", (0, {"shortcuts": (SHORTCUTS, self.sessions[session])}))
        elif interface == SESSION_IFACE and member == "Close":
            self.sessions.pop(str(path), None)
            say(event="closed", session=path)
            self._reply(msg, "", ())
        else:
            error = new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s", (member,))
            self.conn.send(error)

    def _reply(self, msg: Message, signature: str, body: tuple[Any, ...]) -> None:
        self.conn.send(new_method_return(msg, signature, body))

    def order(self, do: str) -> None:
        emitter = DBusAddress(PATH, interface=IFACE)
        stamp = int(time.monotonic() * 1000)
        for session, shortcuts in self.sessions.items():
            if do == "press":
                for sid, _props in shortcuts:
                    for member in ("Activated", "Deactivated"):
                        signal = new_signal(emitter, member, "osta{sv}", (session, sid, stamp, {}))
                        self.conn.send(signal)
            elif do == "unbind":
                self.sessions[session] = []
                self.conn.send(
                    new_signal(emitter, "ShortcutsChanged", "o" + SHORTCUTS, (session, []))
                )


def main() -> None:
    conn = open_dbus_connection(bus="SESSION")
    conn.send_and_get_reply(DBus().RequestName(BUS_NAME, 4), timeout=10)  # DO_NOT_QUEUE
    backend = Backend(conn, decline="decline" in sys.argv[1:])
    say(event="ready")
    while True:
        try:
            msg = conn.receive(timeout=0.02)
        except TimeoutError:
            msg = None
        if msg is not None and msg.header.message_type == MessageType.method_call:
            backend.handle(msg)
        if select.select([sys.stdin], [], [], 0)[0]:
            line = sys.stdin.readline()
            if not line:
                return
            backend.order(json.loads(line)["do"])


if __name__ == "__main__":
    main()
