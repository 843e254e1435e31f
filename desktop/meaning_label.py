"""The status bar's "Search by meaning: 1,240 of 3,128 passages": shown while passages are still
waiting for their vectors (words find them already; meaning follows), gone once all have one."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from lanterne.desktop.indexing_bridge import IndexingBridge
from lanterne.desktop.interface_language import InterfaceLanguage
from lanterne.foundation.translation import _, format_number
from lanterne.indexer.embedding_worker import EmbeddingProgress


class MeaningLabel(QLabel):
    def __init__(self, indexing: IndexingBridge) -> None:
        super().__init__()
        self._last: EmbeddingProgress | None = None
        self.setToolTip(
            _("Passages are found by their words at once; search by meaning follows for each.")
        )
        self.hide()
        indexing.embedding.connect(self.show_progress)
        InterfaceLanguage.instance().changed.connect(self._on_language)

    def show_progress(self, progress: EmbeddingProgress) -> None:
        self._last = progress
        if not progress.total or progress.embedded >= progress.total:
            self.hide()
            return
        self.setText(
            _("Search by meaning: {done} of {total} passages").format(
                done=format_number(progress.embedded), total=format_number(progress.total)
            )
        )
        self.show()

    def _on_language(self, _language: str) -> None:
        if self._last is not None:
            self.show_progress(self._last)
