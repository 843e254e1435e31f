"""The conversation, rendered from Markdown to HTML as tokens stream in.

Citation markers [n] become links to the source; the sources of each answer are listed under it
and open the file itself when clicked.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

from markdown_it import MarkdownIt
from PySide6.QtCore import QEvent, QTimer, QUrl, Signal
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QTextBrowser, QToolTip, QWidget

from lanterne.assistant.answer import Citation
from lanterne.translation import _

_MARKER = re.compile(r"\[(\d+)\]")
_markdown = MarkdownIt("commonmark", {"html": False}).enable("table")


@dataclass
class Turn:
    question: str
    answer: str = ""
    citations: list[Citation] = field(default_factory=list)
    status: str = ""  # e.g. "Thinking…" or an error shown in place
    error: bool = False
    finished: bool = False  # the answer is over (complete, stopped, failed): actions apply


def render_answer(text: str, citations: list[Citation], turn_index: int = 0) -> str:
    """Markdown to HTML, with [n] turned into a link when source n exists."""
    body = _markdown.render(text)
    known = {c.n for c in citations}

    def link(match: re.Match[str]) -> str:
        n = int(match.group(1))
        return f'<a href="source:{turn_index}:{n}">[{n}]</a>' if n in known else match.group(0)

    return _MARKER.sub(link, body)


def source_tip(citation: Citation) -> str:
    """What hovering a marker shows: where the passage is, and the passage's matched words."""
    where = [Path(citation.path).name]
    if citation.page is not None:
        where.append(_("page {n}").format(n=citation.page))
    if citation.heading:
        where.append(citation.heading)
    return f"<b>{html.escape(' — '.join(where))}</b><br/>{html.escape(citation.snippet)}"


class ChatView(QTextBrowser):
    citation_clicked = Signal(int, int)  # turn index, source number
    copy_requested = Signal(int)  # turn index
    regenerate_requested = Signal(int)  # turn index (the last one)

    def __init__(self, parent: QWidget | None = None, actions: bool = True) -> None:
        super().__init__(parent)
        self.show_actions = actions  # Copy and Regenerate under finished answers
        self.setOpenLinks(False)
        self.setAccessibleName(_("Conversation"))
        self.anchorClicked.connect(self._on_anchor)
        self.highlighted.connect(self._on_hover)
        self.turns: list[Turn] = []
        self.busy = False  # an answer is being written: no regenerate meanwhile
        self._style_code()
        self._render_timer = QTimer(self)
        self._render_timer.setSingleShot(True)
        self._render_timer.setInterval(40)  # coalesce token bursts into one repaint
        self._render_timer.timeout.connect(self.refresh)

    def add_turn(self, question: str) -> Turn:
        turn = Turn(question=question, status=_("Thinking…"))
        self.turns.append(turn)
        self.refresh()
        return turn

    def clear_turns(self) -> None:
        self.set_turns([])

    def set_turns(self, turns: list[Turn]) -> None:
        self.turns = turns
        self.refresh()
        self.verticalScrollBar().setValue(self.verticalScrollBar().maximum())

    def schedule_refresh(self) -> None:
        if not self._render_timer.isActive():
            self._render_timer.start()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # light <-> dark: colours follow
            self._style_code()
            self.refresh()

    def _style_code(self) -> None:
        code_background = self.palette().alternateBase().color().name()
        self.document().setDefaultStyleSheet(
            f"pre {{ background-color: {code_background}; }} "
            f"code {{ background-color: {code_background}; }}"
        )

    def refresh(self) -> None:
        muted = self.palette().placeholderText().color().name()
        error = "#ff6b6b" if self.palette().base().color().lightness() < 128 else "#b00020"
        parts = []
        for index, turn in enumerate(self.turns):
            parts.append(
                f'<p style="color:{muted}"><b>{html.escape(_("You"))}</b></p>'
                f"<p>{html.escape(turn.question)}</p>"
                f'<p style="color:{muted}"><b>Lanterne</b></p>'
            )
            if turn.answer:
                parts.append(render_answer(turn.answer, turn.citations, index))
            if turn.status:
                color = error if turn.error else muted
                parts.append(f'<p style="color:{color}"><i>{html.escape(turn.status)}</i></p>')
            if turn.citations and (turn.finished or not turn.status):
                items = "".join(
                    f'<li><a href="source:{index}:{c.n}">[{c.n}] '
                    f"{html.escape(Path(c.path).name)}</a>"
                    f"{html.escape(' — ' + c.heading) if c.heading else ''}</li>"
                    for c in turn.citations
                )
                parts.append(f"<p><b>{html.escape(_('Sources'))}</b></p><ul>{items}</ul>")
            if turn.finished and self.show_actions:
                actions = [f'<a href="action:copy:{index}">{html.escape(_("Copy"))}</a>']
                if index == len(self.turns) - 1 and not self.busy:
                    label = html.escape(_("Regenerate"))
                    actions.append(f'<a href="action:regenerate:{index}">{label}</a>')
                parts.append(f"<p>{' · '.join(actions)}</p>")
            parts.append("<hr/>")
        bar = self.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum() - 4
        self.setHtml("".join(parts))
        if at_bottom:
            bar.setValue(bar.maximum())

    def citation_path(self, turn_index: int, n: int) -> Citation | None:
        if 0 <= turn_index < len(self.turns):
            for c in self.turns[turn_index].citations:
                if c.n == n:
                    return c
        return None

    def _on_anchor(self, url: QUrl) -> None:
        target = url.toString()
        if target.startswith("source:"):
            _scheme, turn, n = target.split(":")
            self.citation_clicked.emit(int(turn), int(n))
        elif target.startswith("action:"):
            _scheme, action, turn = target.split(":")
            signal = self.copy_requested if action == "copy" else self.regenerate_requested
            signal.emit(int(turn))

    def _on_hover(self, url: QUrl) -> None:
        target = url.toString()
        citation = None
        if target.startswith("source:"):
            _scheme, turn, n = target.split(":")
            citation = self.citation_path(int(turn), int(n))
        if citation is None:
            QToolTip.hideText()
        else:
            QToolTip.showText(QCursor.pos(), source_tip(citation), self)
