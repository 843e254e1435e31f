"""Settings: every declared setting, on tabs by topic, with the editor its type calls for.

The rows come from `lanterne.foundation.settings.SETTINGS` (type, default, description,
choices), so a
setting declared there appears here with no further code; a few get a better editor: the model
file (a file chooser), the quick-ask shortcut (pressed, not typed, and checked against other
applications), the remote server's key (kept in the OS keychain, never in the settings file);
the API for other apps has a page of its own (`api_settings.py`).
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable
from functools import partial
from pathlib import Path

from PySide6.QtCore import QKeyCombination, Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QKeySequenceEdit,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from lanterne import autostart
from lanterne.desktop.api_service import ApiService
from lanterne.desktop.api_settings import ApiPage, api_privacy_line
from lanterne.desktop.hotkey import HotkeyError, parse_hotkey
from lanterne.desktop.interface_language import switch_language
from lanterne.desktop.theme import apply_theme
from lanterne.desktop.workers import BackgroundTask
from lanterne.engine import secrets
from lanterne.foundation.settings import (
    SETTINGS,
    Setting,
    Settings,
    SettingsError,
    Value,
    checked,
    write_settings_file,
)
from lanterne.foundation.translation import (
    N_,
    _,
    available_languages,
    choose_language,
    language_name,
)

# Tabs, in order, with the key prefixes they gather.
TABS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (N_("Model"), ("model.", "offload.", "engine.", "models.")),
    (N_("Answers"), ("answer.",)),
    (N_("Organisation rules"), ("house.",)),
    (N_("Search"), ("retrieval.",)),
    (N_("Indexing"), ("index.",)),
    (N_("Quick ask"), ("quick_ask.",)),
    (N_("Remote server"), ("remote.",)),
    (N_("Other apps"), ("api.",)),  # a page of its own: desktop/api_settings.py
    (N_("Interface"), ("ui.",)),
)
# Declared choices are stored as written; these are the words shown for them (technical values
# such as q8_0 are shown as they are).
CHOICE_LABELS = {
    "auto": N_("automatic"),
    "on": N_("on"),
    "off": N_("off"),
    "local": N_("on this computer"),
    "remote": N_("remote server"),
    "hybrid": N_("words and meaning"),
    "lexical": N_("words"),
    "dense": N_("meaning"),
    "system": N_("as the system"),
    "light": N_("light"),
    "dark": N_("dark"),
    "selection": N_("the selected text"),
    "clipboard": N_("the clipboard"),
    "none": N_("nothing"),
    "question": N_("the language of the question"),
    "fr": N_("French"),
    "en": N_("English"),
    "documents": N_("the documents only"),
    "general": N_("the documents and general knowledge"),
    "short": N_("short"),
    "normal": N_("normal"),
    "detailed": N_("detailed"),
    "neutral": N_("neutral"),
    "friendly": N_("friendly"),
    "formal": N_("formal"),
}
_INT_RANGE = (-1, 1_000_000_000)
# Qt's modifiers in the settings' words (Meta is the Windows / Super key).
_MODIFIER_NAMES = (
    (Qt.KeyboardModifier.ControlModifier, "ctrl"),
    (Qt.KeyboardModifier.ShiftModifier, "shift"),
    (Qt.KeyboardModifier.AltModifier, "alt"),
    (Qt.KeyboardModifier.MetaModifier, "super"),
)


def apply_system_settings(settings: Settings) -> None:
    """What Settings change in the whole application rather than one window: the theme and the
    language (every open window switches at once)."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, settings.get_str("ui.theme"))
    switch_language(choose_language(settings.get_str("ui.language")))


def store_settings(
    path: Path, text: str, start_at_login: bool, remote_url: str, remote_key: str
) -> str | None:
    """Everything saving Settings does outside memory (the keychain may wait on D-Bus or an
    unlock prompt), run on a task thread. Raises on what must stop the save (the key could not
    be kept); returns why start at login could not be changed, if it could not."""
    if remote_key and remote_url:
        secrets.set_api_key(remote_url, remote_key)
    write_settings_file(path, text)
    if start_at_login != autostart.is_enabled():
        try:
            autostart.set_enabled(start_at_login)
        except OSError as exc:
            return _("Start at login could not be changed: {error}").format(error=exc)
    return None


def _combo_value(combo: QComboBox) -> str:
    return str(combo.currentData())


def hotkey_text(sequence: QKeySequence) -> str:
    """A pressed key sequence in the settings' form ("ctrl+shift+space"), or "" when cleared.

    Only the first chord counts (a global shortcut is a single press), and it is named from its
    parts, not from the sequence's text: that text separates chords with "," and keys with "+",
    so Ctrl+, and Ctrl++ cannot be split out of it, and a no-break space key must not be trimmed.
    """
    if sequence.isEmpty():
        return ""
    chord: QKeyCombination = sequence[0]  # type: ignore[index]  # the stubs lack operator[]
    if chord.key() == Qt.Key.Key_unknown:
        return ""
    key = QKeySequence(chord.key()).toString(QKeySequence.SequenceFormat.PortableText)
    if chord.key().value >= Qt.Key.Key_Escape.value and len(key) <= 1:
        # A key Qt has no name for, only a stray character (dead keys, AltGr, Compose): no
        # system could register it under that character.
        raise HotkeyError(_("This key cannot be part of a shortcut: choose another."))
    held = chord.keyboardModifiers()
    modifiers = [name for flag, name in _MODIFIER_NAMES if held & flag]
    return str(parse_hotkey("+".join([*modifiers, key.lower()])))


class HotkeyEditor(QWidget):
    def __init__(self, value: str) -> None:
        super().__init__()
        self.edit = QKeySequenceEdit()
        self.edit.setAccessibleName(_("Quick-ask shortcut"))
        self.edit.setMaximumSequenceLength(1)
        if value:
            self.edit.setKeySequence(QKeySequence(value.replace("super", "meta")))
        clear = QPushButton(_("None"))
        clear.clicked.connect(self.edit.clear)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addWidget(clear)

    def value(self) -> str:
        return hotkey_text(self.edit.keySequence())


class _PathEditor(QWidget):
    def __init__(self, value: str, title: str) -> None:
        super().__init__()
        self.line = QLineEdit(value)
        browse = QPushButton(_("Choose…"))
        browse.clicked.connect(lambda: self._choose(title))
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.line, 1)
        row.addWidget(browse)

    def _choose(self, title: str) -> None:
        path, _filter = QFileDialog.getOpenFileName(self, title, self.line.text(), "GGUF (*.gguf)")
        if path:
            self.line.setText(path)


class SettingsDialog(QDialog):
    hotkey_changed = Signal(str)  # the app registers the new shortcut (or reports why not)
    saved = Signal()

    def __init__(
        self, settings: Settings, parent: QWidget | None = None, api: ApiService | None = None
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self.setWindowTitle(_("Settings"))
        self.resize(720, 560)
        self._readers: dict[str, Callable[[], Value]] = {}
        self.tabs = QTabWidget()
        for title, prefixes in TABS:
            rows = [s for s in SETTINGS if s.key.startswith(prefixes)]
            if rows and prefixes == ("api.",):
                self.api_page = ApiPage(settings, api)
                self._readers.update(self.api_page.readers)
                self.tabs.addTab(self.api_page, _(title))
            elif rows:
                self.tabs.addTab(self._page(rows), _(title))
        self.tabs.addTab(self._privacy(), _("Privacy"))
        self.managed = QLabel(
            _("Some settings are set by your organisation and cannot be changed here.")
        )
        self.managed.setWordWrap(True)
        self.managed.setVisible(bool(settings.policy.sources))
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020;")
        self.buttons = buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.apply)
        buttons.rejected.connect(self.reject)
        if api is not None:  # the app's server follows what was saved
            self.saved.connect(api.apply_settings)
        self.problem: str | None = None  # why start at login could not be changed
        layout = QVBoxLayout(self)
        layout.addWidget(self.managed)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def _page(self, rows: list[Setting]) -> QWidget:
        """Each setting's description above its editor, the full width of the page."""
        column = QVBoxLayout()
        for setting in rows:
            label = QLabel(_(setting.description))
            label.setWordWrap(True)
            editor = self._editor(setting)
            label.setBuddy(editor)
            if setting.env:
                editor.setToolTip(
                    _("The environment variable {name}, when set, takes precedence.").format(
                        name=setting.env
                    )
                )
            if self.settings.is_locked(setting.key):
                self._lock(setting, label, editor)
            column.addWidget(label)
            column.addWidget(editor)
            column.addSpacing(8)
        if any(s.key == "remote.url" for s in rows):
            column.addWidget(QLabel(_("Key for the server (kept in the system keychain)")))
            column.addWidget(self._key())
        column.addStretch(1)
        page = QWidget()
        page.setLayout(column)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(page)
        return scroll

    def _lock(self, setting: Setting, label: QLabel, editor: QWidget) -> None:
        """Shown as the policy set it, greyed, and never written back."""
        self._readers.pop(setting.key, None)
        editor.setEnabled(False)
        editor.setToolTip(_("Set by your organisation"))
        label.setText(f"{label.text()} — {_('set by your organisation')}")

    def _privacy(self) -> QWidget:
        """What may touch the network, from the settings as they are: nothing else does."""
        hub = (
            self.settings.get_str("models.hub_url")
            or os.environ.get("HF_ENDPOINT")
            or ("https://huggingface.co")
        )
        lines = [
            _("Your documents, questions and answers stay on this computer."),
            _("Lanterne sends no telemetry and checks for nothing in the background."),
            _("The network is used only when you ask for it:"),
        ]
        if self.settings.policy.downloads:
            lines.append(
                "• "
                + _("downloading a model, when you click Download (from {hub})").format(hub=hub)
            )
        else:
            lines.append("• " + _("model downloads are turned off by your organisation"))
        if self.settings.get_str("engine.backend") == "remote":
            url = self.settings.get_str("remote.url") or _("(no server set)")
            lines.append(
                "• "
                + _(
                    "answers from the server {url}: your questions and the passages found for "
                    "them are sent to it"
                ).format(url=url)
            )
        else:
            lines.append("• " + _("answers come from the model on this computer: nothing is sent"))
        if self.settings.get_bool("api.enabled"):
            lines.append("• " + api_privacy_line(self.settings))
        text = QLabel("<br/>".join(html.escape(line) for line in lines))
        text.setWordWrap(True)
        text.setAccessibleName(_("Privacy"))
        page = QWidget()
        column = QVBoxLayout(page)
        column.addWidget(text)
        column.addStretch(1)
        return page

    def _editor(self, setting: Setting) -> QWidget:
        value = self.settings.get(setting.key)
        editor: QWidget
        if setting.key == "quick_ask.hotkey":
            hotkey = HotkeyEditor(str(value))
            self._readers[setting.key] = hotkey.value
            return hotkey
        if setting.key in ("model.path", "retrieval.embedding_model"):
            path = _PathEditor(str(value), _("Choose a GGUF model"))
            path.line.setAccessibleName(_(setting.description))
            self._readers[setting.key] = path.line.text
            return path
        if setting.type is bool:
            box = QCheckBox()
            box.setChecked(bool(value))
            self._readers[setting.key] = box.isChecked
            editor = box
        elif setting.key == "ui.language":
            combo = QComboBox()
            combo.addItem(_("As the system"), "")
            for code in available_languages():
                combo.addItem(language_name(code), code)
            combo.setCurrentIndex(max(0, combo.findData(str(value))))
            self._readers[setting.key] = partial(_combo_value, combo)
            editor = combo
        elif setting.choices:
            combo = QComboBox()
            for choice in setting.choices:
                combo.addItem(_(CHOICE_LABELS.get(choice, choice)), choice)
            combo.setCurrentIndex(max(0, combo.findData(str(value))))
            self._readers[setting.key] = partial(_combo_value, combo)
            editor = combo
        elif setting.type is int:
            spin = QSpinBox()
            spin.setRange(*_INT_RANGE)
            spin.setValue(int(value))
            self._readers[setting.key] = spin.value
            editor = spin
        elif setting.type is float:
            double = QDoubleSpinBox()
            double.setRange(-1.0, 1000.0)
            double.setDecimals(2)
            double.setSingleStep(0.05)
            double.setValue(float(value))
            self._readers[setting.key] = double.value
            editor = double
        else:
            line = QLineEdit(str(value))
            self._readers[setting.key] = line.text
            editor = line
        editor.setAccessibleName(_(setting.description))
        return editor

    def _key(self) -> QWidget:
        self.key_edit = QLineEdit()
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText(_("unchanged"))
        self.key_edit.setAccessibleName(_("Key for the server"))
        return self.key_edit

    def apply(self) -> None:
        """Check every value, then store them on a task thread; on any error nothing is kept
        and the error is shown."""
        try:
            values = {key: checked(key, read()) for key, read in self._readers.items()}
            hotkey = str(values.get("quick_ask.hotkey", ""))
            if hotkey:
                parse_hotkey(hotkey)
        except (SettingsError, HotkeyError) as exc:
            self.error.setText(str(exc))
            return
        key_edit: QLineEdit | None = getattr(self, "key_edit", None)
        store = partial(
            store_settings,
            self.settings.path,
            self.settings.serialized(values),
            bool(values.get("ui.start_at_login", self.settings.get_bool("ui.start_at_login"))),
            str(values.get("remote.url", "")),
            key_edit.text() if key_edit is not None else "",
        )
        self.buttons.setEnabled(False)
        self.error.setText("")
        self.task = BackgroundTask(owner=self)
        self.task.connect_outcome(partial(self._stored, values), self._store_failed)
        self.task.run(lambda _progress: store())

    def _stored(self, values: dict[str, Value], problem: str | None) -> None:
        before = self.settings.get_str("quick_ask.hotkey")
        for key, value in values.items():
            self.settings.set(key, value)
        self.problem = problem
        self.saved.emit()
        hotkey = self.settings.get_str("quick_ask.hotkey")
        if hotkey != before:
            self.hotkey_changed.emit(hotkey)
        self.accept()

    def _store_failed(self, message: str) -> None:
        self.buttons.setEnabled(True)
        self.error.setText(message)
