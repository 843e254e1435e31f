"""What the window says about the conversations database: that it cannot be opened, or was
restored (where neither can be missed: a message box, and a line in the status bar; after a
restore the conversation list is read again, the one on screen came from the damaged file), and
in passing, that something could not be saved, or is saved now that the disk has room.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMainWindow, QMessageBox

from lanterne.desktop.store_thread import StoreThread
from lanterne.foundation.translation import _


class StoreNotices(QObject):
    def __init__(
        self, window: QMainWindow, store: StoreThread, refresh: Callable[[], None]
    ) -> None:
        super().__init__(window)  # lives on the GUI thread: the store's signals queue here
        self.window = window
        self.refresh = refresh
        store.unavailable.connect(self.unavailable)
        store.restored.connect(self.restored)
        store.failed.connect(self.failed)
        store.saved_again.connect(self.saved_again)

    def _box(self, title: str, message: str) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self.window
        )
        box.open()

    def unavailable(self, message: str) -> None:
        """Conversations cannot be kept this session."""
        self._box(_("Conversations unavailable"), message)
        self.window.statusBar().showMessage(
            _("Conversations unavailable: {error}").format(error=message)
        )

    def restored(self, message: str) -> None:
        """The database was damaged: what was restored, from when, and what was salvaged."""
        self._box(_("Conversations restored"), message)
        self.window.statusBar().showMessage(
            _("Your conversations were restored from a backup: {details}").format(details=message)
        )
        self.refresh()

    def failed(self, message: str) -> None:
        self.window.statusBar().showMessage(
            _("Conversations could not be saved: {error}").format(error=message), 10000
        )

    def saved_again(self, message: str) -> None:
        self.window.statusBar().showMessage(message, 10000)
