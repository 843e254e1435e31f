"""The settings dialog: every declared setting editable, checked before it is kept; the shortcut
is pressed, not typed; the server's key goes to the keychain only."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import keyring.errors
import pytest
from PySide6.QtCore import QKeyCombination, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QCheckBox, QComboBox, QKeySequenceEdit, QLabel, QSpinBox
from pytestqt.qtbot import QtBot

from lanterne.desktop.hotkey import HotkeyError
from lanterne.desktop.settings_dialog import SettingsDialog, hotkey_text
from lanterne.engine import secrets
from lanterne.foundation import paths
from lanterne.foundation.settings import SETTINGS, Settings
from support.qt_keys import editor_key_names
from support.remote_server import MemoryKeyring, keyring_backend

pytestmark = pytest.mark.gui


@pytest.fixture
def dialog(qtbot: QtBot) -> Iterator[SettingsDialog]:
    d = SettingsDialog(Settings())
    qtbot.addWidget(d)
    yield d
    d.close()


def editor(dialog: SettingsDialog, key: str) -> object:
    label_text = next(s.description for s in SETTINGS if s.key == key)
    for kind in (QSpinBox, QComboBox, QCheckBox):
        for widget in dialog.findChildren(kind):
            if widget.accessibleName() == label_text:
                return widget
    raise AssertionError(f"no editor for {key}")


def test_every_declared_setting_has_an_editor(dialog: SettingsDialog) -> None:
    assert set(dialog._readers) == {s.key for s in SETTINGS}
    titles = [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())]
    assert titles == [
        "Model",
        "Answers",
        "Organisation rules",
        "Search",
        "Indexing",
        "Quick ask",
        "Remote server",
        "Other apps",
        "Interface",
        "Privacy",
    ]


def privacy_text(dialog: SettingsDialog) -> str:
    page = dialog.tabs.widget(dialog.tabs.count() - 1)
    assert page is not None
    (label,) = [w for w in page.findChildren(QLabel) if w.accessibleName() == "Privacy"]
    return label.text()


def test_the_privacy_page_says_what_may_touch_the_network(qtbot: QtBot) -> None:
    settings = Settings()
    local = SettingsDialog(settings)
    qtbot.addWidget(local)
    text = privacy_text(local)
    assert "no telemetry" in text and "nothing is sent" in text
    settings.set("engine.backend", "remote")
    settings.set("remote.url", "https://llm.example.org/v1")
    remote = SettingsDialog(settings)
    qtbot.addWidget(remote)
    text = privacy_text(remote)
    assert "https://llm.example.org/v1" in text and "are sent to it" in text


def test_changes_are_kept_and_survive_a_restart(dialog: SettingsDialog, qtbot: QtBot) -> None:
    top_k = editor(dialog, "retrieval.top_k")
    mode = editor(dialog, "retrieval.mode")
    tray = editor(dialog, "ui.close_to_tray")
    assert isinstance(top_k, QSpinBox) and isinstance(mode, QComboBox)
    assert isinstance(tray, QCheckBox)
    top_k.setValue(8)
    mode.setCurrentIndex(mode.findData("lexical"))
    tray.setChecked(False)
    with qtbot.waitSignal(dialog.saved):
        dialog.apply()
    reread = Settings()
    assert reread.get_int("retrieval.top_k") == 8
    assert reread.get_str("retrieval.mode") == "lexical"
    assert reread.get_bool("ui.close_to_tray") is False


def test_the_shortcut_is_pressed_and_checked(dialog: SettingsDialog, qtbot: QtBot) -> None:
    assert hotkey_text(QKeySequence("Ctrl+Shift+Space")) == "ctrl+shift+space"
    assert hotkey_text(QKeySequence("Meta+Alt+K")) == "alt+super+k"
    (edit,) = dialog.findChildren(QKeySequenceEdit)
    edit.setKeySequence(QKeySequence(Qt.Key.Key_Space))  # no modifier: not a global shortcut
    dialog.apply()
    assert "at least one modifier" in dialog.error.text()
    assert Settings().get_str("quick_ask.hotkey") == "ctrl+shift+space"  # nothing kept
    edit.setKeySequence(QKeySequence("Ctrl+Alt+K"))
    with qtbot.waitSignal(dialog.hotkey_changed) as changed:
        dialog.apply()
    assert changed.args == ["ctrl+alt+k"]
    assert Settings().get_str("quick_ask.hotkey") == "ctrl+alt+k"


def chord(modifiers: Qt.KeyboardModifier, key: Qt.Key) -> QKeySequence:
    return QKeySequence(QKeyCombination(modifiers, key))


def test_punctuation_keys_are_written_as_pressed() -> None:
    """The sequence's text separates chords with "," and keys with "+": read from it, Ctrl+,
    came out as "ctrl+" (refused: no key) and the no-break space key was trimmed away."""
    ctrl = Qt.KeyboardModifier.ControlModifier
    shift = Qt.KeyboardModifier.ShiftModifier
    assert hotkey_text(chord(ctrl, Qt.Key.Key_Comma)) == "ctrl+,"
    assert hotkey_text(chord(ctrl, Qt.Key.Key_Plus)) == "ctrl++"
    assert hotkey_text(chord(ctrl | shift, Qt.Key.Key_Plus)) == "ctrl+shift++"
    assert hotkey_text(chord(ctrl, Qt.Key.Key_nobreakspace)) == "ctrl+\u00a0"
    assert hotkey_text(chord(ctrl, Qt.Key.Key_Eacute)) == "ctrl+é"
    assert hotkey_text(chord(ctrl, Qt.Key.Key_PageUp)) == "ctrl+pgup"
    everything = ctrl | shift | Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.MetaModifier
    assert hotkey_text(chord(everything, Qt.Key.Key_F5)) == "ctrl+shift+alt+super+f5"
    assert hotkey_text(QKeySequence("Ctrl+,, Ctrl+K")) == "ctrl+,"  # the first chord only
    assert hotkey_text(QKeySequence()) == ""


def test_a_key_qt_has_no_name_for_is_refused_in_words() -> None:
    """Dead keys, AltGr, Compose: Qt writes a stray character for them, which no system could
    register (all dead keys came out as the same Khmer vowel sign)."""
    ctrl = Qt.KeyboardModifier.ControlModifier
    for key in (Qt.Key.Key_Dead_Circumflex, Qt.Key.Key_AltGr, Qt.Key.Key_Multi_key):
        with pytest.raises(HotkeyError, match="This key cannot be part of a shortcut"):
            hotkey_text(chord(ctrl, key))


def test_every_shortcut_the_editor_writes_opens_again_as_itself() -> None:
    """The editor shows the saved text again (HotkeyEditor: QKeySequence of it, "meta" for
    "super"): each key it writes must come back unchanged."""
    for name in editor_key_names().values():
        for text in (f"ctrl+{name}", f"alt+super+{name}"):
            assert hotkey_text(QKeySequence(text.replace("super", "meta"))) == text, text


def test_the_server_key_goes_to_the_keychain_only(
    dialog: SettingsDialog, qtbot: QtBot, memory_keyring: MemoryKeyring
) -> None:
    url = "https://llm.example.org/v1"
    dialog._readers["remote.url"] = lambda: url
    dialog.key_edit.setText("sk-secret-1234")
    with qtbot.waitSignal(dialog.saved):
        dialog.apply()
    assert secrets.get_api_key(url) == "sk-secret-1234"
    assert "sk-secret-1234" not in paths.settings_path().read_text()


class _SlowKeyring(MemoryKeyring):
    """A keychain that waits, as Secret Service does while it asks the user to unlock it."""

    def __init__(self) -> None:
        super().__init__()
        self.unlocked = threading.Event()
        self.patience = 10.0

    def set_password(self, service: str, username: str, password: str) -> None:
        if not self.unlocked.wait(self.patience):
            raise keyring.errors.KeyringLocked("the keychain stayed locked")
        super().set_password(service, username, password)


def test_saving_waits_for_the_keychain_off_the_gui_thread(
    dialog: SettingsDialog, qtbot: QtBot
) -> None:
    backend = _SlowKeyring()
    url = "https://llm.example.org/v1"
    dialog._readers["remote.url"] = lambda: url
    dialog.key_edit.setText("sk-secret-1234")
    with keyring_backend(backend):
        started = time.monotonic()
        dialog.apply()
        assert time.monotonic() - started < 0.5  # returned while the keychain still waits
        assert not dialog.buttons.isEnabled()  # no second save, no cancel half-way
        assert not paths.settings_path().exists()  # nothing kept before the key is
        with qtbot.waitSignal(dialog.saved):
            backend.unlocked.set()
    assert backend.passwords and Settings().get_str("remote.url") == url


def test_a_locked_keychain_keeps_nothing_and_says_so(dialog: SettingsDialog, qtbot: QtBot) -> None:
    backend = _SlowKeyring()
    backend.patience = 0.05
    dialog._readers["remote.url"] = lambda: "https://llm.example.org/v1"
    dialog._readers["retrieval.top_k"] = lambda: 9
    dialog.key_edit.setText("sk-secret-1234")
    with keyring_backend(backend):
        dialog.apply()
        qtbot.waitUntil(dialog.buttons.isEnabled)
    assert "locked" in dialog.error.text()
    assert not paths.settings_path().exists() and dialog.settings.get_int("retrieval.top_k") != 9
