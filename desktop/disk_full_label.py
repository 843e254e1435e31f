"""The status bar's warning while indexing waits for room on a full disk: which folder, how much
to free; once there is room, a word that indexing goes on, and the warning is gone."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QStatusBar

from lanterne.desktop.indexing_bridge import IndexingBridge
from lanterne.disk_space import going_on_text
from lanterne.foundation.translation import _


class DiskFullLabel(QLabel):
    def __init__(self, indexing: IndexingBridge, bar: QStatusBar) -> None:
        super().__init__()
        self._bar = bar
        self.message: str | None = None  # while indexing waits for room
        self.setWordWrap(True)
        self.setAccessibleName(_("Disk full"))
        self.hide()
        bar.addWidget(self, 1)  # hidden by the bar's passing messages, back after them
        indexing.disk_full.connect(self.show_message)
        if indexing.last_disk_full:
            self.show_message(indexing.last_disk_full)

    def show_message(self, message: str | None) -> None:
        waited, self.message = self.message, message
        self.setText(message or "")
        self.setVisible(bool(message))
        if waited and not message:
            self._bar.showMessage(going_on_text(), 10000)
