"""The status bar's word on the index: "Indexing 12/40 report.pdf" while files are read, then
what is indexed ("312 documents, 4,210 passages"), again in a new interface language."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from lanterne.desktop.indexing_bridge import IndexingBridge
from lanterne.desktop.interface_language import InterfaceLanguage
from lanterne.desktop.knowledge_panel import index_counts
from lanterne.foundation.translation import _
from lanterne.indexer.indexing import Progress
from lanterne.indexer.store import IndexStatus


class IndexLabel(QLabel):
    def __init__(self, indexing: IndexingBridge) -> None:
        super().__init__()
        self._indexing = indexing
        indexing.progress.connect(self.show_progress)
        indexing.status.connect(self.show_status)
        InterfaceLanguage.instance().changed.connect(self._on_language)  # a method: undone

    def show_progress(self, p: Progress) -> None:
        if p.done < p.total:  # when done, the status that follows says what is indexed
            self.setText(
                _("Indexing {done}/{total} {name}").format(
                    done=p.done, total=p.total, name=p.current.name if p.current else ""
                )
            )

    def show_status(self, status: IndexStatus) -> None:
        self.setText(index_counts(status))

    def _on_language(self, _language: str) -> None:
        if self._indexing.last_status is not None:
            self.show_status(self._indexing.last_status)
