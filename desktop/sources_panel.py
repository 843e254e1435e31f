"""The sources panel: what was retrieved for an answer, each passage a click from its file."""

from __future__ import annotations

import html

from PySide6.QtCore import QUrl, Signal
from PySide6.QtWidgets import QTextBrowser, QWidget

from lanterne.desktop.chat_view import Turn, source_tip
from lanterne.desktop.interface_language import InterfaceLanguage
from lanterne.foundation.translation import _


class SourcesPanel(QTextBrowser):
    citation_clicked = Signal(int, int)  # turn index, source number

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setAccessibleName(_("Sources"))
        self.anchorClicked.connect(self._on_link)
        self._shown: tuple[Turn | None, int] = (None, 0)
        self.show_turn(None, 0)
        InterfaceLanguage.instance().changed.connect(self._on_language)  # a method: undone
        # by Qt when the panel is deleted, where a lambda would outlive it

    def show_turn(self, turn: Turn | None, index: int) -> None:
        """The sources of `turn`, the `index`-th turn of the conversation (None: a hint)."""
        self._shown = (turn, index)
        title = f"<h3>{html.escape(_('Sources'))}</h3>"
        if turn is None or not turn.citations:
            hint = _("The passages an answer draws on are listed here.")
            muted = self.palette().placeholderText().color().name()
            self.setHtml(f"{title}<p style='color:{muted}'>{html.escape(hint)}</p>")
            return
        items = "".join(
            f'<p><a href="source:{index}:{c.n}">[{c.n}]</a> {source_tip(c)}</p>'
            for c in turn.citations
        )
        self.setHtml(title + items)

    def _on_language(self, _language: str) -> None:
        self.show_turn(*self._shown)

    def _on_link(self, url: QUrl) -> None:
        _scheme, turn, n = url.toString().split(":")
        self.citation_clicked.emit(int(turn), int(n))
