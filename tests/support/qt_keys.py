"""Every key Qt knows, as the settings' shortcut editor writes it: what each platform's key table
must take (Windows in test_hotkey.py, X11 and the Wayland portal in test_x11_keys.py)."""

from __future__ import annotations

import warnings

from PySide6.QtCore import QKeyCombination, Qt
from PySide6.QtGui import QKeySequence

from lanterne.desktop.hotkey import HotkeyError
from lanterne.desktop.settings_dialog import hotkey_text

MODIFIER_KEYS = {Qt.Key.Key_Shift, Qt.Key.Key_Control, Qt.Key.Key_Meta, Qt.Key.Key_Alt}


def all_qt_keys() -> list[Qt.Key]:
    """Qt's whole key table."""
    with warnings.catch_warnings():  # "µ" is also Qt's deprecated Key_mu
        warnings.simplefilter("ignore", DeprecationWarning)
        return list(Qt.Key)


def unnamed_special_keys() -> set[Qt.Key]:
    """Qt's keys beyond characters that Qt has no name for (dead keys, AltGr, Compose...): its
    text for them is a stray character."""
    portable = QKeySequence.SequenceFormat.PortableText
    return {
        key
        for key in all_qt_keys()
        if key.value >= Qt.Key.Key_Escape.value
        and key != Qt.Key.Key_unknown
        and len(QKeySequence(key).toString(portable)) <= 1
    }


def editor_text(key: Qt.Key) -> str:
    """What the settings editor writes for Ctrl + `key`; raises HotkeyError when it refuses."""
    with warnings.catch_warnings():  # "µ" is also Qt's deprecated Key_mu
        warnings.simplefilter("ignore", DeprecationWarning)
        chord = QKeyCombination(Qt.KeyboardModifier.ControlModifier, key)
    return hotkey_text(QKeySequence(chord))


def editor_key_name(key: Qt.Key) -> str | None:
    """The key's name as the settings editor writes it after Ctrl+, or None if it cannot."""
    try:
        text = editor_text(key)
    except HotkeyError:
        return None
    if not text:
        return None  # Key_unknown: an empty sequence, no shortcut
    assert text.startswith("ctrl+"), text
    return text.removeprefix("ctrl+")


def editor_key_names() -> dict[Qt.Key, str]:
    """Every key the editor writes, with its name."""
    names = {key: editor_key_name(key) for key in all_qt_keys()}
    return {key: name for key, name in names.items() if name is not None}
