"""The quick-ask shortcut: parsed by name, registered with the X server, clashes detected; on
Wayland asked of the desktop through the real xdg-desktop-portal."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from lanterne.desktop.hotkey import GlobalHotkey, HotkeyError, parse_hotkey
from lanterne.desktop.portal_shortcut import preferred_trigger
from support import desktop_portal, xvfb

pytestmark = pytest.mark.gui


def test_shortcuts_are_parsed_by_key_name() -> None:
    hotkey = parse_hotkey("Ctrl+Shift+Space")
    assert hotkey.modifiers == {"ctrl", "shift"} and hotkey.key == "space"
    assert str(hotkey) == "ctrl+shift+space"
    assert str(parse_hotkey("shift + control + K")) == "ctrl+shift+k"
    assert str(parse_hotkey("cmd+alt+f12")) == "alt+super+f12"
    for bad, why in (
        ("space", "at least one modifier"),
        ("ctrl+shift", "needs a key"),
        ("hyper+space", "Unknown modifier"),
        ("", "No shortcut"),
    ):
        with pytest.raises(HotkeyError, match=why):
            parse_hotkey(bad)


@pytest.fixture
def x_display(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if not xvfb.available():
        pytest.skip("needs Xvfb and xdotool (dev.py installs them)")
    with xvfb.xvfb() as name:
        monkeypatch.setenv("DISPLAY", name)
        monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
        yield name


@pytest.mark.xserver
def test_a_shortcut_held_by_another_application_is_reported(x_display: str) -> None:
    first = GlobalHotkey(parse_hotkey("ctrl+shift+space"))
    first.start()  # another X client holding it, as a second application would
    try:
        second = GlobalHotkey(parse_hotkey("ctrl+shift+space"))
        with pytest.raises(HotkeyError, match="already used by another application"):
            second.start()
        free = GlobalHotkey(parse_hotkey("ctrl+alt+k"))
        free.start()  # a free one is fine
        free.stop()
    finally:
        first.stop()
    again = GlobalHotkey(parse_hotkey("ctrl+shift+space"))
    again.start()  # released on stop
    again.stop()


@pytest.fixture
def wayland(monkeypatch: pytest.MonkeyPatch) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("Linux desktops only")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    monkeypatch.setenv("QT_QPA_PLATFORM", "wayland")
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)


def _portal_or_skip() -> None:
    if not desktop_portal.available():
        pytest.skip("needs dbus-daemon and xdg-desktop-portal (dev.py installs them)")


def test_shortcuts_are_asked_of_the_portal_in_the_xdg_specification_s_words() -> None:
    assert preferred_trigger(frozenset({"shift", "ctrl"}), "space") == "CTRL+SHIFT+space"
    assert preferred_trigger(frozenset({"super", "alt"}), "f12") == "ALT+LOGO+F12"
    assert preferred_trigger(frozenset({"ctrl"}), "k") == "CTRL+k"


@pytest.mark.usefixtures("wayland")
def test_wayland_without_a_session_bus_explains_how_to_bind_the_command(qtbot: QtBot) -> None:
    hotkey = GlobalHotkey(parse_hotkey("ctrl+shift+space"))
    with qtbot.waitSignal(hotkey.lost, timeout=10000) as lost:
        hotkey.start()  # never blocks: the answer comes from the hotkey's thread
    hotkey.stop()
    assert lost.args is not None and "lanterne quick-ask" in lost.args[0]


@pytest.mark.usefixtures("wayland")
def test_wayland_asks_the_desktop_portal_and_relays_its_presses(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _portal_or_skip()
    with desktop_portal.desktop_portal(tmp_path) as portal:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", portal.address)
        hotkey = GlobalHotkey(parse_hotkey("ctrl+shift+space"))
        with qtbot.waitSignal(hotkey.bound, timeout=10000) as bound:
            hotkey.start()
        try:
            # The desktop's dialog was asked for our shortcut, in the specification's words,
            # and its own words for the trigger come back to show the user.
            asked = portal.event("bound")["shortcuts"]
            assert asked == [
                [
                    "quick-ask",
                    {
                        "description": "Open Lanterne's quick-ask window",
                        "preferred_trigger": "CTRL+SHIFT+space",
                    },
                ]
            ]
            assert bound.args == ["Ctrl+Shift+Space"]
            for _press in range(3):
                with qtbot.waitSignal(hotkey.activated, timeout=10000):
                    portal.order("press")
            with qtbot.waitSignal(hotkey.lost, timeout=10000) as lost:
                portal.order("unbind")  # removed in the desktop's settings
            assert lost.args is not None and "removed" in lost.args[0]
        finally:
            hotkey.stop()
        assert portal.event("closed")  # the session is closed with the shortcut


@pytest.mark.usefixtures("wayland")
def test_a_shortcut_declined_in_the_desktop_s_dialog_is_reported(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _portal_or_skip()
    with desktop_portal.desktop_portal(tmp_path, backend="decline") as portal:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", portal.address)
        hotkey = GlobalHotkey(parse_hotkey("ctrl+alt+k"))
        with qtbot.waitSignal(hotkey.lost, timeout=10000) as lost:
            hotkey.start()
        hotkey.stop()
        assert lost.args is not None and "declined" in lost.args[0]
        assert portal.event("bound")["shortcuts"][0][1]["preferred_trigger"] == "CTRL+ALT+k"


@pytest.mark.usefixtures("wayland")
def test_a_desktop_without_a_shortcut_portal_explains_how_to_bind_the_command(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _portal_or_skip()
    with desktop_portal.desktop_portal(tmp_path, backend=None) as portal:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", portal.address)
        hotkey = GlobalHotkey(parse_hotkey("ctrl+shift+space"))
        with qtbot.waitSignal(hotkey.lost, timeout=10000) as lost:
            hotkey.start()
        hotkey.stop()
    assert lost.args is not None
    assert "no shortcut portal" in lost.args[0] and "lanterne quick-ask" in lost.args[0]
