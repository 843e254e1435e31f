"""The Search box: the user's documents that match a question, each once, with its best passage.

A person looking for a document wants each document once (its best passage, page and heading,
and how many other passages of it matched), not the same page five times: the list comes from
`Retriever.search_documents`, in words and by meaning as the settings say, like `lanterne
search`. Searches run on a worker thread (the embedding model may still be loading); a newer
query makes an older result stale, and it is dropped.
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, QUrl
from PySide6.QtWidgets import QDialog, QLabel, QLineEdit, QTextBrowser, QVBoxLayout, QWidget

from lanterne.assistant.answer import Citation
from lanterne.context import AppContext
from lanterne.desktop.interface_language import InterfaceLanguage
from lanterne.desktop.source_opener import SourceOpener
from lanterne.desktop.workers import BackgroundTask
from lanterne.embedding_model import retrieval_mode, search_embedder
from lanterne.foundation.translation import _
from lanterne.index_repair import rebuild_notice, telling_damage
from lanterne.indexer.retriever import DocumentHit, Retriever, SearchResult
from lanterne.indexer.snippets import marked
from lanterne.search_labels import more_passages_label

RESULTS = 10
TYPING_PAUSE_MS = 250  # search once the user pauses, not at every key


def run_search(ctx: AppContext, query: str) -> tuple[list[DocumentHit], str | None, str | None]:
    """The documents for `query`, why meaning was left out (None when it was used), and what
    to say while a damaged index is rebuilt (damage met here is said and repaired instead)."""
    with telling_damage(ctx.index_path):
        store = ctx.open_store()
        try:
            embedder, problem = search_embedder(ctx.settings, store)
            retriever = Retriever(store, embedder)
            hits = retriever.search_documents(query, RESULTS, mode=retrieval_mode(ctx.settings))
            return hits, problem, rebuild_notice(ctx.index_path, store)
        finally:
            store.close()


def _marked(result: SearchResult) -> str:
    """The snippet as HTML, its matched words in bold."""
    return marked(result.snippet, result.highlights, "<b>", "</b>", html.escape)


def _place(result: SearchResult) -> str:
    parts = [result.heading] if result.heading else []
    if result.page is not None:
        parts.append(_("page {page}").format(page=result.page))
    return " · ".join(parts)


class SearchWindow(QDialog):
    def __init__(self, ctx: AppContext, opener: SourceOpener, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.opener = opener
        self.setObjectName("search-window")
        self.resize(760, 620)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(TYPING_PAUSE_MS)
        self.query = QLineEdit()
        self.query.setClearButtonEnabled(True)
        self.query.textChanged.connect(lambda _text: self._timer.start())
        self.query.returnPressed.connect(self.search_now)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.results = QTextBrowser()
        self.results.setOpenLinks(False)
        self.results.anchorClicked.connect(self._on_link)
        layout = QVBoxLayout(self)
        layout.addWidget(self.query)
        layout.addWidget(self.status)
        layout.addWidget(self.results, 1)
        self._timer.timeout.connect(self.search_now)
        self._tasks: list[BackgroundTask] = []
        self._generation = 0  # the latest search asked for; older answers are stale
        self._hits: list[DocumentHit] = []
        self._expanded: set[int] = set()  # documents whose other passages are shown
        self._shown_query = ""
        self._problem: str | None = None
        self._notice: str | None = None  # the index is being rebuilt
        self._retranslate()
        InterfaceLanguage.instance().changed.connect(self._on_language)

    @property
    def hits(self) -> list[DocumentHit]:
        return self._hits

    def search_now(self, query: str | None = None) -> None:
        """Search for `query` (default: the box's text) on a worker thread."""
        self._timer.stop()
        if query is not None and query != self.query.text():
            self.query.blockSignals(True)
            self.query.setText(query)
            self.query.blockSignals(False)
        text = self.query.text().strip()
        self._generation += 1
        generation = self._generation
        if not text:
            self._show([], "", None)
            return
        self.status.setText(_("Searching…"))
        task = BackgroundTask(owner=self)
        self._tasks.append(task)

        def done(outcome: object) -> None:
            self._tasks.remove(task)
            if generation != self._generation:
                return
            assert isinstance(outcome, tuple)
            self._show(outcome[0], text, outcome[1], outcome[2])

        def failed(message: str) -> None:
            self._tasks.remove(task)
            if generation == self._generation:
                self.status.setText(_("Search failed: {reason}").format(reason=message))

        task.connect_outcome(done, failed)
        task.run(lambda _report: run_search(self.ctx, text))

    def busy(self) -> bool:
        return bool(self._tasks) or self._timer.isActive()

    def _show(
        self, hits: list[DocumentHit], query: str, problem: str | None, notice: str | None = None
    ) -> None:
        self._hits, self._shown_query, self._problem = hits, query, problem
        self._notice = notice
        self._expanded.clear()
        self._render()

    def _render(self) -> None:
        hits = self._hits
        if not self._shown_query:
            self.status.setText(_("Type words or a question, in French or English."))
        elif not hits:
            self.status.setText(_("No document matches."))
        else:
            self.status.setText(
                _("{count} documents, best first.").format(count=len(hits))
                if len(hits) > 1
                else _("1 document.")
            )
        if self._problem and self._shown_query:
            self.status.setText(
                self.status.text() + " " + _("Words only: {reason}").format(reason=self._problem)
            )
        if self._notice and self._shown_query:
            self.status.setText(self._notice + " " + self.status.text())
        muted = self.palette().placeholderText().color().name()
        blocks = []
        for i, hit in enumerate(hits):
            best = hit.best
            name = html.escape(Path(best.path).name)
            away = html.escape(_("(not connected: it opens again once its folder is back)"))
            offline = f' <span style="color:{muted}">{away}</span>' if best.offline else ""
            block = (
                f'<p><a href="open:{i}:0"><b>{name}</b></a>{offline}'
                f'<br><span style="color:{muted}">{html.escape(_place(best))}</span>'
                f"<br>{_marked(best)}"
            )
            if hit.more_count:
                label = html.escape(more_passages_label(hit))
                block += f'<br><a href="more:{i}">{label}</a>' if hit.more else f"<br>{label}"
            block += "</p>"
            if i in self._expanded:
                for j, other in enumerate(hit.more, start=1):
                    block += (
                        f'<blockquote><a href="open:{i}:{j}">'
                        f"{html.escape(_place(other) or Path(other.path).name)}</a>"
                        f"<br>{_marked(other)}</blockquote>"
                    )
            blocks.append(block)
        self.results.setHtml("".join(blocks))

    def expand(self, i: int) -> None:
        """Show (or hide again) the other passages of the i-th document."""
        self._expanded ^= {i}
        self._render()

    def _on_link(self, url: QUrl) -> None:
        kind, *numbers = url.toString().split(":")
        i = int(numbers[0])
        if not 0 <= i < len(self._hits):
            return
        hit = self._hits[i]
        if kind == "more":
            self.expand(i)
        elif kind == "open":
            j = int(numbers[1])
            result = hit.best if j == 0 else hit.more[j - 1]
            self.opener.open(Citation(n=j, source=result))

    def _retranslate(self) -> None:
        self.setWindowTitle(_("Search documents"))
        self.query.setPlaceholderText(_("Search your documents…"))
        self.query.setAccessibleName(_("Search your documents"))
        self.results.setAccessibleName(_("Matching documents"))

    def _on_language(self, _language: str) -> None:
        self._retranslate()
        self._render()

    def keyPressEvent(self, event):  # type: ignore[no-untyped-def]  # noqa: N802 (Qt override)
        if event.key() == Qt.Key.Key_Escape and self.query.text():
            self.query.clear()
            return
        super().keyPressEvent(event)
