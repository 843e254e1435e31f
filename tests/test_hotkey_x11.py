"""The quick-ask shortcut on a real X server (Xvfb): what the settings editor writes is grabbed
and fires when xdotool presses it, named keys and characters alike, with the keymap deciding
where a character sits (a few AZERTY keys written into the server's keymap)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from PySide6.QtCore import QKeyCombination, Qt
from PySide6.QtGui import QKeySequence
from pytestqt.qtbot import QtBot

from lanterne.desktop.hotkey import GlobalHotkey, HotkeyError, parse_hotkey
from lanterne.desktop.settings_dialog import hotkey_text
from support import xvfb

pytestmark = [pytest.mark.gui, pytest.mark.xserver]

CTRL = Qt.KeyboardModifier.ControlModifier
ALT = Qt.KeyboardModifier.AltModifier
# Core keymap rows as X keeps them: group 1, group 1 with Shift, group 2, group 2 with Shift,
# AltGr, AltGr with Shift. On evdev keycodes, as xkeyboard-config's fr layout has them.
AZERTY_KEYS: dict[int, tuple[int, ...]] = {
    11: (0xE9, ord("2"), 0xE9, ord("2"), ord("~"), 0xC9),  # é 2, AltGr ~
    26: (ord("e"), ord("E"), ord("e"), ord("E"), 0x20AC, ord("E")),  # AltGr €
    49: (0xB2, 0, 0xB2, 0, 0, 0),  # ², left of 1
}


@pytest.fixture
def x_display(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if not xvfb.available():
        pytest.skip("needs Xvfb and xdotool (dev.py installs them)")
    with xvfb.xvfb() as name:
        monkeypatch.setenv("DISPLAY", name)
        monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
        yield name


def press(display: str, keys: str) -> None:
    """xdotool presses keysyms, adding Shift where the keymap has the keysym with Shift."""
    subprocess.run(
        ["xdotool", "key", keys],
        check=True,
        timeout=30,
        env={**os.environ, "DISPLAY": display},
    )


def written(modifiers: Qt.KeyboardModifier, key: Qt.Key) -> str:
    """What the settings editor writes when these keys are pressed."""
    return hotkey_text(QKeySequence(QKeyCombination(modifiers, key)))


@contextmanager
def keymap(display: str, rows: dict[int, tuple[int, ...]]) -> Iterator[None]:
    """These rows in the server's keymap while the block runs. The connection stays open: an X
    server resets, keymap included, when its last client leaves."""
    from Xlib import display as xdisplay

    server = xdisplay.Display(display)
    try:
        for keycode, row in rows.items():
            server.change_keyboard_mapping(keycode, [row])
        server.sync()
        yield
    finally:
        server.close()


def fires(qtbot: QtBot, display: str, shortcut: str, keys: str) -> None:
    hotkey = GlobalHotkey(parse_hotkey(shortcut))
    hotkey.start()
    try:
        with qtbot.waitSignal(hotkey.activated, timeout=5000):
            press(display, keys)
    finally:
        hotkey.stop()


def test_named_keys_as_the_editor_writes_them_are_grabbed_and_fire(
    x_display: str, qtbot: QtBot
) -> None:
    """XK.string_to_keysym knew none of these names: each start() said "Unknown key"."""
    for modifiers, key, keys in (
        (CTRL, Qt.Key.Key_PageUp, "ctrl+Prior"),
        (CTRL, Qt.Key.Key_Escape, "ctrl+Escape"),
        (ALT, Qt.Key.Key_Delete, "alt+Delete"),
        (CTRL | ALT, Qt.Key.Key_Backspace, "ctrl+alt+BackSpace"),
        (CTRL, Qt.Key.Key_Return, "ctrl+Return"),
        (CTRL, Qt.Key.Key_Comma, "ctrl+comma"),
    ):
        fires(qtbot, x_display, written(modifiers, key), keys)
    assert written(CTRL, Qt.Key.Key_PageUp) == "ctrl+pgup"


def test_a_character_typed_with_shift_is_grabbed_with_shift(x_display: str, qtbot: QtBot) -> None:
    """Xvfb's keymap is US QWERTY: "!" is Shift+1, and plain Ctrl+1 is not the shortcut."""
    hotkey = GlobalHotkey(parse_hotkey("ctrl+!"))
    hotkey.start()
    try:
        with qtbot.waitSignal(hotkey.activated, timeout=5000):
            press(x_display, "ctrl+exclam")
        with qtbot.assertNotEmitted(hotkey.activated, wait=500):
            press(x_display, "ctrl+1")
    finally:
        hotkey.stop()


def test_azerty_characters_are_grabbed_where_the_keymap_has_them(
    x_display: str, qtbot: QtBot
) -> None:
    with keymap(x_display, AZERTY_KEYS):
        fires(qtbot, x_display, "ctrl+é", "ctrl+eacute")
        fires(qtbot, x_display, "ctrl+²", "ctrl+twosuperior")
        with pytest.raises(HotkeyError, match="“€” is typed with AltGr"):
            GlobalHotkey(parse_hotkey("ctrl+alt+€")).start()
        with pytest.raises(HotkeyError, match="No key types “ß” on this keyboard layout"):
            GlobalHotkey(parse_hotkey("ctrl+ß")).start()
