"""The first-run wizard: language, a model for this machine, folders to watch, the shortcut.

Each page reuses what Settings, Models and Knowledge do later, so that everything chosen here can
be changed there. The model page is the Models dialog itself: the recommendation for this
machine with its fit and size, downloads with progress, or an existing GGUF imported.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from lanterne.desktop.download_service import DownloadService
from lanterne.desktop.hotkey import HotkeyError
from lanterne.desktop.interface_language import switch_language
from lanterne.desktop.models_dialog import ModelsDialog
from lanterne.desktop.settings_dialog import HotkeyEditor
from lanterne.desktop.wizard_keys import return_goes_on
from lanterne.foundation.db_faults import DiskFullError
from lanterne.foundation.settings import Settings
from lanterne.foundation.translation import (
    _,
    available_languages,
    choose_language,
    language_name,
)
from lanterne.model_library import ModelLibrary


def needs_first_run(settings: Settings) -> bool:
    return not settings.get_bool("ui.first_run_done") and not settings.get_str("model.path")


class _LanguagePage(QWizardPage):
    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.setTitle(_("Welcome to Lanterne"))
        self.setSubTitle(
            _("Lanterne answers your questions from your own documents, on this computer only.")
        )
        current = choose_language(settings.get_str("ui.language"))
        self.buttons: dict[str, QRadioButton] = {}
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(_("Language of the interface and of the answers:")))
        for code in available_languages():
            button = QRadioButton(language_name(code))
            button.setChecked(code == current)
            button.setEnabled(not settings.is_locked("ui.language"))
            self.buttons[code] = button
            layout.addWidget(button)
        layout.addStretch(1)

    def language(self) -> str:
        return next(code for code, button in self.buttons.items() if button.isChecked())


class _ModelPage(QWizardPage):
    """Never a wait: a download goes on in the background while the next pages are filled,
    and a user with no model yet (no network, say) still goes on, indexing and searching."""

    def __init__(self, library: ModelLibrary, downloads: DownloadService | None) -> None:
        super().__init__()
        self.library = library
        self.setTitle(_("A model for this computer"))
        self.setSubTitle(
            _(
                "Use a model another app already has, or download the recommended one: it "
                "goes on in the background while you choose your folders. You can change it "
                "later in File › Models."
            )
        )
        self.models = ModelsDialog(library, self, downloads)
        self.models.setWindowFlags(Qt.WindowType.Widget)
        self.note = QLabel()
        self.note.setWordWrap(True)
        for signal in (self.models.model_changed, self.models.downloads.idle):
            signal.connect(self._say_what_comes)
        self.models.downloads.started.connect(lambda _name: self._say_what_comes())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.models)
        layout.addWidget(self.note)
        self._say_what_comes()

    def _say_what_comes(self) -> None:
        if self.library.active_path():
            self.note.clear()
        elif self.models.downloads.is_active():
            self.note.setText(
                _(
                    "Go on: your folders are read while the model downloads, and a question "
                    "asked meanwhile is answered as soon as it is here."
                )
            )
        else:
            self.note.setText(
                _(
                    "No model yet? Go on all the same: your folders are read and can be "
                    "searched now; choose a model later in File › Models."
                )
            )

    def has_model(self) -> bool:
        """A model is in use, or one is on its way."""
        return bool(self.library.active_path()) or self.models.downloads.is_active()


class _FoldersPage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle(_("Folders to watch"))
        self.setSubTitle(
            _(
                "Lanterne reads the documents in these folders and keeps up with their changes. "
                "It never changes your files."
            )
        )
        self.folders = QListWidget()
        self.folders.setAccessibleName(_("Folders to watch"))
        add = QPushButton(_("Add folder…"))
        add.clicked.connect(self.choose)
        remove = QPushButton(_("Remove"))
        remove.clicked.connect(lambda: self.folders.takeItem(self.folders.currentRow()))
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.folders, 1)
        layout.addLayout(buttons)
        documents = Path.home() / "Documents"
        if documents.is_dir():
            self.add(documents)

    def choose(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, _("Choose a folder to watch"))
        if folder:
            self.add(Path(folder))

    def add(self, folder: Path) -> None:
        existing = {self.folders.item(i).text() for i in range(self.folders.count())}
        if str(folder) not in existing:
            self.folders.addItem(str(folder))

    def chosen(self) -> list[Path]:
        return [Path(self.folders.item(i).text()) for i in range(self.folders.count())]


class _ShortcutPage(QWizardPage):
    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.setTitle(_("Quick ask, from anywhere"))
        self.setSubTitle(
            _(
                "Press this shortcut in any application to ask Lanterne a question; the selected "
                "text comes with it."
            )
        )
        self.editor = HotkeyEditor(settings.get_str("quick_ask.hotkey"))
        self.editor.setEnabled(not settings.is_locked("quick_ask.hotkey"))
        self.error = QLabel()
        self.error.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(_("Shortcut (press the keys):")))
        layout.addWidget(self.editor)
        layout.addWidget(self.error)
        layout.addStretch(1)

    def validatePage(self) -> bool:  # noqa: N802 (Qt's name)
        """A key that cannot be a shortcut is said here; Finish waits for another."""
        try:
            self.editor.value()
        except HotkeyError as exc:
            self.error.setText(str(exc))
            return False
        self.error.clear()
        return True


class FirstRunWizard(QWizard):
    """`folders()` and `hotkey()` after acceptance; settings are saved on finish."""

    def __init__(
        self,
        settings: Settings,
        parent: QWidget | None = None,
        downloads: DownloadService | None = None,
    ) -> None:
        """`downloads`: the app's, so a download started here goes on after the wizard."""
        super().__init__(parent)
        self.settings = settings
        self.setWindowTitle(_("Set up Lanterne"))
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.resize(1000, 680)
        self.language_page = _LanguagePage(settings)
        self.model_page = _ModelPage(ModelLibrary(settings), downloads)
        self.folders_page = _FoldersPage()
        self.shortcut_page = _ShortcutPage(settings)
        for page in (self.language_page, self.model_page, self.folders_page, self.shortcut_page):
            self.addPage(page)
        self.currentIdChanged.connect(self._on_page)
        return_goes_on(self)  # Return is Next (Finish), not a page's focused button

    def _on_page(self, _page_id: int) -> None:
        language = self.language_page.language()
        if language != self.settings.get_str("ui.language"):
            self.settings.set("ui.language", language)
            switch_language(language)  # the wizard's own pages too

    def folders(self) -> list[Path]:
        return self.folders_page.chosen()

    def hotkey(self) -> str:
        return self.shortcut_page.editor.value()

    def accept(self) -> None:
        self.settings.set("ui.language", self.language_page.language())
        self.settings.set("quick_ask.hotkey", self.hotkey())
        self.settings.set("ui.first_run_done", True)
        try:
            self.settings.save()
        except DiskFullError as exc:  # in force this session; the wizard comes back next time
            QMessageBox.warning(self, _("Settings not saved"), str(exc))
        super().accept()
