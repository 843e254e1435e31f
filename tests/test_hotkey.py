"""The quick-ask shortcut: parsed by name, registered with the X server, clashes detected."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from lanterne.desktop.hotkey import GlobalHotkey, HotkeyError, parse_hotkey
from support import xvfb

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


def test_wayland_explains_how_to_bind_the_command(monkeypatch: pytest.MonkeyPatch) -> None:
    if os.name == "nt":
        pytest.skip("Linux desktops only")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    monkeypatch.setenv("QT_QPA_PLATFORM", "wayland")
    with pytest.raises(HotkeyError, match="lanterne quick-ask"):
        GlobalHotkey(parse_hotkey("ctrl+shift+space")).start()
