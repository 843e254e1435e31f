"""What a screen reader reads: an application's accessibility tree over AT-SPI, the D-Bus
protocol through which Orca (and every Linux screen reader) sees an app.

The accessibility bus is started by at-spi-bus-launcher on the session bus; setting its
`ScreenReaderEnabled` status is what Orca does when it starts, and what makes Qt publish its
widgets. The tree is then read over that bus with jeepney, node by node, as Orca walks it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jeepney import DBusAddress, MessageType, new_method_call
from jeepney.io.blocking import DBusConnection, open_dbus_connection

LAUNCHER = Path("/usr/libexec/at-spi-bus-launcher")
ACCESSIBLE = "org.a11y.atspi.Accessible"
TEXT = "org.a11y.atspi.Text"
REGISTRY = ("org.a11y.atspi.Registry", "/org/a11y/atspi/accessible/root")
# AtspiStateType: the bit of each state in GetState's bit set.
STATES = {"focusable": 11, "focused": 12, "sensitive": 24, "showing": 25, "visible": 30}
# Roles a user acts on: each needs a name a screen reader can say.
INTERACTIVE = {
    "push button",
    "toggle button",
    "check box",
    "radio button",
    "combo box",
    "text",
    "entry",
    "password text",
    "list",
    "tree",
    "table",
    "tree table",
    "spin button",
    "slider",
    "page tab",
}


def available() -> bool:
    return LAUNCHER.exists()


@dataclass
class Node:
    role: str
    name: str
    states: set[str]
    children: list[Node] = field(default_factory=list)
    address: tuple[str, str] = ("", "")  # its bus name and object path, to ask it more

    def walk(self, parent: Node | None = None) -> Iterator[tuple[Node, Node | None]]:
        """Every node under this one with its parent, in reading order."""
        yield self, parent
        for child in self.children:
            yield from child.walk(self)

    def find(self, role: str, name: str) -> Node | None:
        """The first showing node called `name` with that role ("" for any)."""
        return next(
            (
                n
                for n, _p in self.walk()
                if n.role in (role or n.role,) and n.name == name and "showing" in n.states
            ),
            None,
        )

    def unnamed(self) -> list[str]:
        """Showing controls a user can reach that a screen reader could only call by role."""
        return [
            f"{node.role} in {parent.role if parent else '-'} {parent.name if parent else ''!r}"
            for node, parent in self.walk()
            if node.role in INTERACTIVE
            and {"showing", "focusable"} <= node.states
            and not node.name.strip()
        ]

    def focused(self) -> Node | None:
        return next((n for n, _p in self.walk() if "focused" in n.states), None)


class ScreenReader:
    """Orca's side of the protocol, on the session bus at `address`."""

    def __init__(self, address: str) -> None:
        session = open_dbus_connection(bus=address)
        try:
            bus = DBusAddress("/org/a11y/bus", "org.a11y.Bus", "org.a11y.Bus")
            reply = session.send_and_get_reply(new_method_call(bus, "GetAddress"), timeout=15)
            status = DBusAddress("/org/a11y/bus", "org.a11y.Bus", "org.freedesktop.DBus.Properties")
            session.send_and_get_reply(
                new_method_call(
                    status, "Set", "ssv", ("org.a11y.Status", "ScreenReaderEnabled", ("b", True))
                ),
                timeout=15,
            )
        finally:
            session.close()
        self.conn: DBusConnection = open_dbus_connection(bus=str(reply.body[0]))

    def close(self) -> None:
        self.conn.close()

    def _call(
        self,
        name: str,
        path: str,
        method: str,
        signature: str = "",
        body: tuple[Any, ...] = (),
        interface: str = ACCESSIBLE,
    ) -> Any:
        if method == "Get":
            interface = "org.freedesktop.DBus.Properties"
        message = new_method_call(DBusAddress(path, name, interface), method, signature, body)
        reply = self.conn.send_and_get_reply(message, timeout=15)
        if reply.header.message_type == MessageType.error:
            raise LookupError(f"{method} on {name}{path}: {reply.body}")
        return reply.body[0] if len(reply.body) == 1 else reply.body

    def text(self, node: Node) -> str:
        """All the text of a text node (a document, a field), as the reader says it line by line."""
        return str(self._call(*node.address, "GetText", "ii", (0, -1), interface=TEXT))

    def selected_text(self, node: Node) -> str:
        """Its selection: in a document, the link that Tab reached, which the reader says."""
        if not self._call(*node.address, "GetNSelections", interface=TEXT):
            return ""
        start, end = self._call(*node.address, "GetSelection", "i", (0,), interface=TEXT)
        return str(self._call(*node.address, "GetText", "ii", (start, end), interface=TEXT))

    def node(self, name: str, path: str) -> Node:
        bits = self._call(name, path, "GetState")
        states = {s for s, bit in STATES.items() if bits[bit // 32] >> (bit % 32) & 1}
        node = Node(
            role=self._call(name, path, "GetRoleName"),
            name=self._call(name, path, "Get", "ss", (ACCESSIBLE, "Name"))[1],
            states=states,
            address=(name, path),
        )
        node.children = [self.node(*child) for child in self._call(name, path, "GetChildren")]
        return node

    def application(self, name: str, timeout: float = 30) -> Node:
        """The tree of the running application called `name`, once it has published it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for bus_name, path in self._call(*REGISTRY, "GetChildren"):
                try:
                    app = self.node(bus_name, path)
                except LookupError:  # an application that went away meanwhile
                    continue
                if app.name == name and app.children:
                    return app
            time.sleep(0.2)
        raise AssertionError(f"no application named {name!r} on the accessibility bus")
