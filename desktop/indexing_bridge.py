"""The index service's callbacks, which arrive on its threads, as Qt signals on the GUI thread."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from lanterne.context import AppContext
from lanterne.index_service import IndexService, ServiceEvents
from lanterne.indexer.store import IndexStatus


class IndexingBridge(QObject):
    progress = Signal(object)  # Progress
    ready = Signal(object)  # Progress
    batch = Signal(int)
    embedding = Signal(object)  # EmbeddingProgress
    error = Signal(str)
    folders_changed = Signal()
    paused_changed = Signal(bool)
    status = Signal(object)  # IndexStatus: folders, counts, unreadable files
    disk_full = Signal(object)  # str: why indexing waits for room; None: it goes on
    rebuilding = Signal(object)  # str: the index was damaged and is rebuilt; None: done

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        events = ServiceEvents(
            progress=self.progress.emit,
            ready=self.ready.emit,
            batch=self.batch.emit,
            embedding=self.embedding.emit,
            error=self.error.emit,
            folders_changed=self.folders_changed.emit,
            status=self.status.emit,
            disk_full=self.disk_full.emit,
            rebuilding=self.rebuilding.emit,
        )
        self.last_status: IndexStatus | None = None  # for a panel opened later
        self.last_disk_full: str | None = None
        self.disk_full.connect(self._keep_disk_full)
        self.last_rebuilding: str | None = None
        self.rebuilding.connect(self._keep_rebuilding)
        self.status.connect(self._keep)
        self.service = IndexService(ctx, events)

    def start(self) -> None:
        """Indexing begins, once the windows listen (AppServices.start)."""
        self.service.start()

    def _keep(self, status: IndexStatus) -> None:
        self.last_status = status

    def _keep_disk_full(self, message: str | None) -> None:
        self.last_disk_full = message

    def _keep_rebuilding(self, message: str | None) -> None:
        self.last_rebuilding = message

    def add_folder(self, folder: Path) -> None:
        self.service.add_folder(folder)

    def remove_folder(self, folder: Path) -> None:
        self.service.remove_folder(folder)

    def reindex(self, folder: Path) -> None:
        self.service.reindex(folder)

    def reload_settings(self) -> None:
        self.service.reload_settings()

    @property
    def paused(self) -> bool:
        return self.service.paused

    def set_paused(self, paused: bool) -> None:
        if paused:
            self.service.pause()
        else:
            self.service.resume()
        self.paused_changed.emit(paused)

    def stop(self) -> None:
        self.service.stop()
