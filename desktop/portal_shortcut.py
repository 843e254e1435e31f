"""The quick-ask shortcut on Wayland, through the desktop portal's GlobalShortcuts interface.

On Wayland the compositor owns the keyboard: an application may only ask, and the desktop
(KDE Plasma, GNOME 48+, Hyprland...) shows the user a dialog and decides the trigger. The
exchange is xdg-desktop-portal's: CreateSession, then BindShortcuts with our preferred trigger,
each answered later by a Request::Response signal; then Activated signals. It runs on the
hotkey's own thread over a blocking session-bus connection (jeepney, pure Python, already
pulled in by keyring on Linux); nothing here touches Qt.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jeepney import DBusAddress, HeaderFields, MatchRule, Message, MessageType, new_method_call
from jeepney.bus_messages import DBus
from jeepney.io.blocking import DBusConnection, open_dbus_connection

from lanterne.desktop import x11_keys
from lanterne.foundation.translation import _

PORTAL = DBusAddress(
    "/org/freedesktop/portal/desktop",
    bus_name="org.freedesktop.portal.Desktop",
    interface="org.freedesktop.portal.GlobalShortcuts",
)
REQUEST = "org.freedesktop.portal.Request"
SHORTCUT_ID = "quick-ask"
APP_ID = "org.lanterne.Lanterne"  # the .desktop file's name (packaging/linux)
CALL_TIMEOUT = 10.0  # seconds for a method's own reply; the portal's Response may take longer
_SPEC_MODIFIERS = {"ctrl": "CTRL", "shift": "SHIFT", "alt": "ALT", "super": "LOGO"}


class PortalError(Exception):
    """The portal cannot give us the shortcut; the message says why."""


class PortalUnavailableError(PortalError):
    """No GlobalShortcuts portal on this desktop (or no session bus at all)."""


def preferred_trigger(modifiers: frozenset[str], key: str) -> str | None:
    """Our shortcut in the XDG shortcuts specification's words, modifiers and an xkbcommon
    keysym name: "CTRL+SHIFT+space", "CTRL+Page_Up", "CTRL+comma". None for a key with no
    keysym: the desktop's dialog then asks the user for one."""
    keysym = x11_keys.keysym_name(key)
    if keysym is None:
        return None
    names = [_SPEC_MODIFIERS[m] for m in ("ctrl", "alt", "shift", "super") if m in modifiers]
    return "+".join([*names, keysym])


@dataclass
class Callbacks:
    fire: Callable[[], object]  # the shortcut was pressed
    bound: Callable[[str], object]  # the desktop bound it; its own words for the trigger
    lost: Callable[[PortalError], object]  # no portal, refused, or later dropped: why


def _path_part(unique_name: str) -> str:
    return unique_name.lstrip(":").replace(".", "_")


class PortalSession:
    """One GlobalShortcuts session on one connection; used from a single thread."""

    def __init__(self, conn: DBusConnection) -> None:
        self.conn = conn
        self.handle = ""
        self.stopping: threading.Event | None = None
        self._bus = DBus()
        self._sender = _path_part(conn.unique_name or "")
        self._activated = MatchRule(
            type="signal", interface=PORTAL.interface, path=PORTAL.object_path
        )
        self._add_match(self._activated)
        self._signals = conn.filter(self._activated, bufsize=64).queue

    def _add_match(self, rule: MatchRule) -> None:
        self.conn.send_and_get_reply(self._bus.AddMatch(rule), timeout=CALL_TIMEOUT)

    def _call(self, method: str, signature: str, body: tuple[Any, ...]) -> Message:
        reply = self.conn.send_and_get_reply(
            new_method_call(PORTAL, method, signature, body), timeout=CALL_TIMEOUT
        )
        if reply.header.message_type == MessageType.error:
            raise PortalError(
                _("The desktop portal refused {method}: {error}").format(
                    method=method, error=" ".join(str(part) for part in reply.body)
                )
            )
        return reply

    def version(self) -> int:
        """The portal's GlobalShortcuts version; PortalUnavailableError when it has none."""
        get = new_method_call(
            DBusAddress(PORTAL.object_path, PORTAL.bus_name, "org.freedesktop.DBus.Properties"),
            "Get",
            "ss",
            (PORTAL.interface, "version"),
        )
        reply = self.conn.send_and_get_reply(get, timeout=CALL_TIMEOUT)
        if reply.header.message_type == MessageType.error:
            raise PortalUnavailableError(" ".join(str(part) for part in reply.body))
        return int(reply.body[0][1])

    def _request(
        self, method: str, signature: str, args: tuple[Any, ...], options: dict[str, Any]
    ) -> tuple[Any, ...]:
        """Call a method that answers through a Request object: subscribe to that object's
        Response before calling (its path is known from our token), then wait for it."""
        token = "lanterne_" + secrets.token_hex(6)
        path = f"/org/freedesktop/portal/desktop/request/{self._sender}/{token}"
        rule = MatchRule(type="signal", interface=REQUEST, member="Response", path=path)
        self._add_match(rule)
        try:
            with self.conn.filter(rule) as responses:
                body = (*args, {**options, "handle_token": ("s", token)})
                self._call(method, signature, body)
                # The user may be looking at the desktop's dialog: no time limit but ours.
                return self._wait(responses)
        finally:
            self.conn.send(self._bus.RemoveMatch(rule))

    def _wait(self, responses: Any) -> tuple[Any, ...]:
        while True:
            try:
                reply = self.conn.recv_until_filtered(responses, timeout=0.2)
            except TimeoutError:
                if self.stopping is not None and self.stopping.is_set():
                    raise PortalError("stopped") from None
                continue
            return tuple(reply.body)

    def create(self) -> None:
        response, results = self._request(
            "CreateSession",
            "a{sv}",
            (),
            {"session_handle_token": ("s", "lanterne_" + secrets.token_hex(6))},
        )
        if response != 0 or "session_handle" not in results:
            raise PortalError(_("The desktop portal did not open a shortcuts session."))
        self.handle = str(results["session_handle"][1])

    def bind(self, description: str, trigger: str | None) -> list[tuple[str, str]]:
        """Ask for the shortcut; (id, the desktop's words for its trigger) for each bound."""
        properties: dict[str, tuple[str, str]] = {"description": ("s", description)}
        if trigger is not None:
            properties["preferred_trigger"] = ("s", trigger)
        shortcut = (SHORTCUT_ID, properties)
        response, results = self._request(
            "BindShortcuts", "oa(sa{sv})sa{sv}", (self.handle, [shortcut], ""), {}
        )
        if response == 1:
            raise PortalError(_("The shortcut was declined in the desktop's dialog."))
        if response != 0:
            raise PortalError(_("The desktop portal could not bind the shortcut."))
        return _described(results.get("shortcuts", ("a(sa{sv})", []))[1])

    def next_signal(self, timeout: float) -> Message | None:
        try:
            return self.conn.recv_until_filtered(self._signals, timeout=timeout)
        except TimeoutError:
            return None

    def close(self) -> None:
        if self.handle:
            close = new_method_call(
                DBusAddress(self.handle, PORTAL.bus_name, "org.freedesktop.portal.Session"),
                "Close",
            )
            # The portal may have gone first: the session went with it.
            with contextlib.suppress(TimeoutError, OSError):
                self.conn.send_and_get_reply(close, timeout=2)
            self.handle = ""


def _described(shortcuts: list[tuple[str, dict[str, tuple[str, Any]]]]) -> list[tuple[str, str]]:
    return [(sid, str(props.get("trigger_description", ("s", ""))[1])) for sid, props in shortcuts]


def session_bus_address() -> str | None:
    """$DBUS_SESSION_BUS_ADDRESS, else the systemd user bus, as libdbus and sd-bus do."""
    address = os.environ.get("DBUS_SESSION_BUS_ADDRESS", "")
    if address:
        return address
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if runtime and (Path(runtime) / "bus").exists():
        return f"unix:path={Path(runtime) / 'bus'}"
    return None


def _register_app(conn: DBusConnection) -> None:
    """Tell a recent portal (1.19+) which app we are, so the desktop can name us and keep our
    binding; older ones have no registry and take the app from the process."""
    register = new_method_call(
        DBusAddress(
            "/org/freedesktop/portal/desktop",
            "org.freedesktop.portal.Desktop",
            "org.freedesktop.host.portal.Registry",
        ),
        "Register",
        "sa{sv}",
        (APP_ID, {}),
    )
    conn.send_and_get_reply(register, timeout=CALL_TIMEOUT)  # an error reply is fine


def listen(
    modifiers: frozenset[str], key: str, callbacks: Callbacks, stop: threading.Event
) -> None:
    """Open a session, bind the shortcut, then relay activations until `stop`; whatever goes
    wrong reaches `callbacks.lost`. Runs on its own thread: the desktop's dialog may take the
    user a while, and nothing here may keep the GUI waiting."""
    address = session_bus_address()
    try:
        conn = open_dbus_connection(bus=address) if address else None
    except (OSError, RuntimeError, ValueError):  # a bus that cannot be reached
        conn = None
    if conn is None:  # no session bus: no portal either
        callbacks.lost(PortalUnavailableError())
        return
    session: PortalSession | None = None
    try:
        session = PortalSession(conn)
        session.stopping = stop
        _register_app(conn)
        session.version()
        session.create()
        trigger = preferred_trigger(modifiers, key)
        bound = dict(session.bind(_("Open Lanterne's quick-ask window"), trigger))
        if SHORTCUT_ID not in bound:
            raise PortalError(_("The desktop did not bind the shortcut."))
        ours = "+".join([*(m for m in ("ctrl", "shift", "alt", "super") if m in modifiers), key])
        callbacks.bound(bound[SHORTCUT_ID] or trigger or ours)
        _relay(session, callbacks, stop)
    except TimeoutError:  # the bus did not answer a call: as good as no portal
        callbacks.lost(PortalUnavailableError())
    except PortalError as exc:
        if not stop.is_set():
            callbacks.lost(exc)
    finally:
        if session is not None:
            session.close()
        conn.close()


def _relay(session: PortalSession, callbacks: Callbacks, stop: threading.Event) -> None:
    while not stop.is_set():
        signal = session.next_signal(0.1)
        if signal is None:
            continue
        member = signal.header.fields.get(HeaderFields.member)
        if not signal.body or signal.body[0] != session.handle:
            continue
        if member == "Activated" and signal.body[1] == SHORTCUT_ID:
            callbacks.fire()
        elif member == "ShortcutsChanged":
            described = dict(_described(signal.body[1]))
            if SHORTCUT_ID in described:
                callbacks.bound(described[SHORTCUT_ID])
            else:
                callbacks.lost(
                    PortalError(_("The shortcut was removed in the desktop's settings."))
                )
