"""The knowledge panel: watched folders (add, drop, remove, re-index), live indexing progress,
pause and resume, and every file that could not be read with its reason."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from lanterne.desktop.indexing_bridge import IndexingBridge
from lanterne.desktop.interface_language import InterfaceLanguage
from lanterne.disk_space import going_on_text
from lanterne.folder_states import state_label, state_sentence
from lanterne.foundation.translation import _, format_number, ngettext
from lanterne.indexer.embedding_worker import EmbeddingProgress
from lanterne.indexer.indexing import Progress
from lanterne.indexer.store import IndexStatus


def index_counts(status: IndexStatus) -> str:
    """ "12,345 documents, 1 passage" in the user's language and plural rules."""
    documents = ngettext("{n} document", "{n} documents", status.documents)
    chunks = ngettext("{n} passage", "{n} passages", status.chunks)
    return _("{documents}, {chunks}").format(
        documents=documents.format(n=format_number(status.documents)),
        chunks=chunks.format(n=format_number(status.chunks)),
    )


class KnowledgePanel(QDialog):
    def __init__(self, indexing: IndexingBridge, parent: QWidget | None = None):
        super().__init__(parent)
        self.indexing = indexing
        self.setWindowTitle(_("Knowledge"))
        self.resize(760, 520)
        self.setAcceptDrops(True)
        self._started: tuple[float, int] | None = None  # (when, files done) of this run

        self.folders = QListWidget()
        self.folders.setAccessibleName(_("Watched folders"))
        self.folders.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.add_button = QPushButton(_("Add folder…"))
        self.add_button.clicked.connect(self.choose_folder)
        self.remove_button = QPushButton(_("Remove"))
        self.remove_button.clicked.connect(self.remove_selected)
        self._managed = set(indexing.service.ctx.settings.policy_folders())
        self._states: dict[Path, str] = {}  # connected, not_connected, gone
        self.folders.currentRowChanged.connect(self._allow_removal)
        self.reindex_button = QPushButton(_("Re-index"))
        self.reindex_button.clicked.connect(self.reindex_selected)
        self.pause_button = QPushButton()
        self.pause_button.clicked.connect(self.toggle_pause)
        self.presence = QLabel()  # folders not connected, or gone: what to do
        self.presence.setWordWrap(True)
        self.presence.setAccessibleName(_("Folders not connected"))
        self.presence.hide()
        self.rebuild = QLabel()  # the index was damaged: set aside, and rebuilt from the folders
        self.rebuild.setWordWrap(True)
        self.rebuild.setAccessibleName(_("Index being rebuilt"))
        self.rebuild.hide()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName(_("Indexing status"))
        self.embedding = QLabel()
        self.errors = QTableWidget(0, 2)
        self.errors.setAccessibleName(_("Files that could not be read"))
        self.errors.setHorizontalHeaderLabels([_("File"), _("Reason")])
        self.errors.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.errors.horizontalHeader().setStretchLastSection(True)
        self.errors.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.errors.verticalHeader().setVisible(False)
        self.errors_label = QLabel()

        buttons = QVBoxLayout()
        for button in (self.add_button, self.remove_button, self.reindex_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.pause_button)
        top = QHBoxLayout()
        top.addWidget(self.folders, 1)
        top.addLayout(buttons)
        hint = QLabel(_("Drop folders here to watch them. Lanterne never changes your files."))
        hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(_("Watched folders")))
        layout.addLayout(top)
        layout.addWidget(self.presence)
        layout.addWidget(self.rebuild)
        layout.addWidget(hint)
        layout.addWidget(self.status)
        layout.addWidget(self.embedding)
        layout.addWidget(self.errors_label)
        layout.addWidget(self.errors, 1)

        indexing.progress.connect(self.show_progress)
        indexing.status.connect(self._show)
        indexing.embedding.connect(self.show_embedding)
        indexing.error.connect(self.show_error)
        indexing.disk_full.connect(self.show_disk_full)
        indexing.rebuilding.connect(self.show_rebuilding)
        indexing.paused_changed.connect(lambda _p: self._show_pause())
        self._show_pause()
        if indexing.last_status is not None:
            self._show(indexing.last_status)
        if indexing.last_disk_full:
            self.show_disk_full(indexing.last_disk_full)
        self.show_rebuilding(indexing.last_rebuilding)
        InterfaceLanguage.instance().changed.connect(self._retranslate)

    def _retranslate(self, _language: str) -> None:
        self._show_pause()
        if self.indexing.last_status is not None:
            self._show(self.indexing.last_status)

    # Folders ------------------------------------------------------------------------------

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, _("Choose a folder to watch"))
        if folder:
            self.add_folder(Path(folder))

    def add_folder(self, folder: Path) -> None:
        self.status.setText(_("Adding {path}…").format(path=folder))
        self.indexing.add_folder(folder)

    def selected_folder(self) -> Path | None:
        item = self.folders.currentItem()
        return Path(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    def remove_selected(self) -> None:
        folder = self.selected_folder()
        if folder is not None:
            self.indexing.remove_folder(folder)

    def _allow_removal(self) -> None:
        """A folder the organisation watches for everyone cannot be removed here; one that
        is not connected cannot be read again until it is back."""
        folder = self.selected_folder()
        self.remove_button.setEnabled(folder is not None and folder not in self._managed)
        away = folder is not None and self._states.get(folder, "connected") != "connected"
        self.reindex_button.setEnabled(self.folders.count() > 0 and not away)

    def reindex_selected(self) -> None:
        folder = self.selected_folder()
        if folder is not None:
            self.indexing.reindex(folder)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt override)
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt override)
        for url in event.mimeData().urls():
            if url.isLocalFile():
                self.add_folder(Path(url.toLocalFile()))
        event.acceptProposedAction()

    # Status -------------------------------------------------------------------------------

    def toggle_pause(self) -> None:
        self.indexing.set_paused(not self.indexing.paused)

    def _show_pause(self) -> None:
        paused = self.indexing.paused
        self.pause_button.setText(_("Resume") if paused else _("Pause"))
        if paused:
            self.status.setText(_("Paused: changes are noted and indexed on resume."))

    def show_progress(self, p: Progress) -> None:
        if p.done == 0 or self._started is None:
            self._started = (time.monotonic(), p.done)
        if p.total == 0 or p.done >= p.total:
            self._started = None
            return
        since, first = self._started
        elapsed = time.monotonic() - since
        rate = (p.done - first) / elapsed if elapsed > 0.5 else 0.0
        name = p.current.name if p.current else ""
        done, total = format_number(p.done), format_number(p.total)
        text = _("Indexing {done} of {total} files: {name}").format(
            done=done, total=total, name=name
        )
        if rate:
            text += " " + _("({rate} files/s)").format(rate=format_number(rate))
        if self.indexing.paused:
            text = _("Paused at {done} of {total} files.").format(done=done, total=total)
        self.status.setText(text)

    def show_embedding(self, e: EmbeddingProgress) -> None:
        if e.total and e.embedded < e.total:
            self.embedding.setText(
                _("Search by meaning: {done} of {total} passages ready").format(
                    done=format_number(e.embedded), total=format_number(e.total)
                )
            )
        else:
            self.embedding.setText(_("Search by meaning: ready"))

    def show_error(self, message: str) -> None:
        self.status.setText(message)

    def show_rebuilding(self, message: str | None) -> None:
        """The index was damaged and is being rebuilt (what was kept, what to expect)."""
        self.rebuild.setText(message or "")
        self.rebuild.setVisible(bool(message))

    def show_disk_full(self, message: str | None) -> None:
        """Indexing waits for room (which folder, how much to free), or goes on again."""
        self.status.setText(message or going_on_text())

    def _show(self, status: IndexStatus) -> None:
        current = self.selected_folder()
        self.folders.clear()
        self._states = {Path(f.path): f.state for f in status.folders}
        notes = []
        for f in status.folders:
            folder, label = Path(f.path), state_label(f.state)
            self.folders.addItem(f"{folder} — {label}" if label else str(folder))
            item = self.folders.item(self.folders.count() - 1)
            item.setData(Qt.ItemDataRole.UserRole, str(folder))
            tips = []
            if folder in self._managed:
                tips.append(_("Watched for everyone by your organisation"))
            if (sentence := state_sentence(f, cli=False)) is not None:
                notes.append(sentence)
                tips.append(sentence)
            if tips:
                item.setToolTip("\n".join(tips))
            if folder == current:
                self.folders.setCurrentRow(self.folders.count() - 1)
        self.presence.setText("\n".join(notes))
        self.presence.setVisible(bool(notes))
        self._allow_removal()
        if not self.indexing.paused and self._started is None:
            if status.pending:
                self.status.setText(
                    ngettext(
                        "{n} file waiting to be indexed.",
                        "{n} files waiting to be indexed.",
                        status.pending,
                    ).format(n=format_number(status.pending))
                )
            else:
                self.status.setText(_("Up to date: {counts}.").format(counts=index_counts(status)))
        self.errors_label.setText(
            _("Files that could not be read: {n}").format(n=format_number(len(status.errors)))
        )
        self.errors.setRowCount(len(status.errors))
        for row, error in enumerate(status.errors):
            path_item = QTableWidgetItem(Path(error.path).name)
            path_item.setToolTip(error.path)
            reason = QTableWidgetItem(error.reason)
            reason.setToolTip(error.reason)
            self.errors.setItem(row, 0, path_item)
            self.errors.setItem(row, 1, reason)
        self.errors.resizeColumnToContents(0)
