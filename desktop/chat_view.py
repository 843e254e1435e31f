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
from PySide6.QtGui import QCursor, QTextBlockFormat, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QTextBrowser, QToolTip, QWidget

from lanterne.assistant.answer import Citation
from lanterne.desktop.interface_language import InterfaceLanguage
from lanterne.desktop.reasoning_section import (
    TOGGLE,
    indicator_html,
    reasoning_html,
    toggle_href,
)
from lanterne.desktop.store_thread import RowRef
from lanterne.foundation.translation import _, ngettext

_MARKER = re.compile(r"\[(\d+)\]")
# A long conversation opens on its newest turns: laying out hundreds at once stalls the window
# (about 0.3 s for 500 turns here); a link above them brings the earlier ones, a batch a click.
_FIRST_SHOWN = 60
_MORE_SHOWN = 100
# No raw HTML and no images: an answer may echo a document written to make the view load a
# local file or a tracking image; `![x](url)` then reads as a plain link, opened only on a click.
_markdown = MarkdownIt("commonmark", {"html": False}).enable("table").disable("image")


@dataclass
class Turn:
    question: str
    answer: str = ""
    citations: list[Citation] = field(default_factory=list)
    status: str = ""  # e.g. "Thinking…" or an error shown in place
    error: bool = False
    finished: bool = False  # the answer is over (complete, stopped, failed): actions apply
    message: RowRef = field(default_factory=RowRef)  # the answer's row, for its rating and edit
    rating: int | None = None  # 1 good, -1 bad
    original: str | None = None  # the model's text when `answer` is the user's correction
    reasoning: str = ""  # what the model wrote before answering: shown apart, never copied
    reasoning_open: bool = False  # its section shows the text (collapsed by default)

    @property
    def reasoning_live(self) -> bool:
        """The model is still reasoning: no answer yet, and the turn is not over."""
        return bool(self.reasoning) and not self.answer and not self.finished


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
    if citation.source.offline:
        where.append(_("not connected"))
    return f"<b>{html.escape(' — '.join(where))}</b><br/>{html.escape(citation.snippet)}"


def _feedback_links(index: int, rating: int | None) -> list[str]:
    """Edit, and the two ratings; the one given is marked (clicking it again takes it back)."""
    links = [f'<a href="action:edit:{index}">{html.escape(_("Edit"))}</a>']
    for action, value, label in (("good", 1, _("Good answer")), ("bad", -1, _("Bad answer"))):
        text = html.escape(label)
        if rating == value:
            text = f"<b>✓ {text}</b>"
        links.append(f'<a href="action:{action}:{index}">{text}</a>')
    return links


class ChatView(QTextBrowser):
    citation_clicked = Signal(int, int)  # turn index, source number
    link_clicked = Signal(QUrl)  # any other link of an answer, clicked: the window decides
    copy_requested = Signal(int)  # turn index
    regenerate_requested = Signal(int)  # turn index (the last one)
    rate_requested = Signal(int, int)  # turn index, 1 (good) or -1 (bad)
    edit_requested = Signal(int)  # turn index
    turns_changed = Signal()  # a turn added, or the conversation replaced (or emptied)

    def __init__(
        self, parent: QWidget | None = None, actions: bool = True, reasoning: bool = True
    ) -> None:
        super().__init__(parent)
        self.show_actions = actions  # Copy, Edit, ratings and Regenerate under finished answers
        self.show_reasoning = reasoning  # its section; else only a line while the model reasons
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
        self._rendered: dict[int, tuple[tuple[object, ...], str]] = {}  # id(turn) -> key, HTML
        self._shown_prefix: list[str] = []  # HTML of every turn but the last, as shown
        self._tail_start: int | None = None  # where the last turn begins in the document
        self._shown_turns = _FIRST_SHOWN  # the newest turns laid out; earlier ones on request
        InterfaceLanguage.instance().changed.connect(self._on_language)

    def add_turn(self, question: str) -> Turn:
        turn = Turn(question=question, status=_("Thinking…"))
        self.turns.append(turn)
        self.refresh()
        self.turns_changed.emit()
        return turn

    def clear_turns(self) -> None:
        self.set_turns([])

    def set_turns(self, turns: list[Turn]) -> None:
        self.turns = turns
        self._rendered = {}
        self._tail_start = None
        self._shown_turns = _FIRST_SHOWN
        self.refresh()
        self.verticalScrollBar().setValue(self.verticalScrollBar().maximum())
        self.turns_changed.emit()

    def show_earlier(self) -> None:
        """Lay out the next batch of earlier turns above those shown, keeping the view put."""
        bar = self.verticalScrollBar()
        from_bottom = bar.maximum() - bar.value()
        self._shown_turns += _MORE_SHOWN
        self._tail_start = None
        self.refresh()
        bar.setValue(bar.maximum() - from_bottom)

    def toggle_reasoning(self, index: int) -> None:
        """Show or hide a turn's reasoning; a keyboard user's focus stays on the link."""
        if not (0 <= index < len(self.turns)) or not self.show_reasoning:
            return
        turn, href = self.turns[index], toggle_href(index)
        cursor = self.textCursor()  # Tab selects the link it reaches; a click selects nothing
        keyboard = cursor.hasSelection() and self._anchor_at(cursor.selectionStart()) == href
        turn.reasoning_open = not turn.reasoning_open
        self.refresh()
        if keyboard:
            self._focus_link(href)

    def _anchor_at(self, position: int) -> str:
        cursor = QTextCursor(self.document())
        cursor.setPosition(position + 1)  # the format of the character before the position
        return cursor.charFormat().anchorHref()

    def _focus_link(self, href: str) -> None:
        """Select the link to `href`, as Tab does: Enter acts on it again, a screen reader
        reads its new words."""
        block = self.document().begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                fragment = it.fragment()
                if fragment.charFormat().anchorHref() == href:
                    cursor = QTextCursor(self.document())
                    cursor.setPosition(fragment.position())
                    cursor.setPosition(
                        fragment.position() + fragment.length(), QTextCursor.MoveMode.KeepAnchor
                    )
                    self.setTextCursor(cursor)
                    return
                it += 1
            block = block.next()

    def schedule_refresh(self) -> None:
        if not self._render_timer.isActive():
            self._render_timer.start()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # light <-> dark: colours follow
            self._style_code()
            self._tail_start = None  # the style sheet applies at setHtml: lay out everything
            self.refresh()

    def _on_language(self, _language: str) -> None:
        self._rendered = {}  # "You", "Sources", "Copy": every turn in the new language
        self._tail_start = None
        self.refresh()

    def _style_code(self) -> None:
        code_background = self.palette().alternateBase().color().name()
        self.document().setDefaultStyleSheet(
            f"pre {{ background-color: {code_background}; }} "
            f"code {{ background-color: {code_background}; }}"
        )

    def refresh(self) -> None:
        """Show the turns; while only the last one changes (streaming), only it is laid out again.

        A whole-document `setHtml` per token burst grows with the conversation (about 18 ms at
        30 turns here, past the 50 ms stall budget near 100), so earlier turns stay in place.
        """
        colours = self._colours()
        first = max(0, len(self.turns) - self._shown_turns)
        html_turns = [
            self._turn_html(index, self.turns[index], colours)
            for index in range(first, len(self.turns))
        ]
        bar = self.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum() - 4
        prefix, tail = html_turns[:-1], html_turns[-1:]
        if first:
            more = min(first, _MORE_SHOWN)
            label = ngettext("Show {n} earlier turn", "Show {n} earlier turns", more)
            link = f'<a href="action:earlier:0">{html.escape(label.format(n=more))}</a>'
            prefix = [f'<p align="center">{link}</p>', *prefix]
        if self._tail_start is None or prefix != self._shown_prefix:
            self.setHtml("".join(prefix))
            self._shown_prefix = prefix
            end = QTextCursor(self.document())
            end.movePosition(QTextCursor.MoveOperation.End)
            if prefix:  # the last block carries the turn's rule: the tail starts a clean one
                end.insertBlock(QTextBlockFormat(), QTextCharFormat())
            self._tail_start = end.position()
        cursor = QTextCursor(self.document())
        cursor.setPosition(self._tail_start)
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        cursor.setBlockFormat(QTextBlockFormat())  # the merged block took the removed rule's format
        cursor.setCharFormat(QTextCharFormat())
        if tail:
            cursor.insertHtml(tail[0])
        if at_bottom:
            bar.setValue(bar.maximum())

    def _colours(self) -> tuple[str, str, str]:
        muted = self.palette().placeholderText().color().name()
        error = "#ff6b6b" if self.palette().base().color().lightness() < 128 else "#b00020"
        shade = self.palette().alternateBase().color().name()  # as code blocks: set apart
        return muted, error, shade

    def _turn_html(self, index: int, turn: Turn, colours: tuple[str, str, str]) -> str:
        """One turn's HTML, rendered again only when something it shows has changed."""
        regenerate = index == len(self.turns) - 1 and not self.busy
        key = (
            index, turn.question, turn.answer, turn.status, turn.error, turn.finished,
            tuple(turn.citations), regenerate, self.show_actions, colours, turn.rating,
            turn.original is not None, self._reasoning_key(turn),
        )  # fmt: skip
        cached = self._rendered.get(id(turn))
        if cached is not None and cached[0] == key:
            return cached[1]
        muted, error, shade = colours
        parts = [
            f'<p style="color:{muted}"><b>{html.escape(_("You"))}</b></p>'
            f"<p>{html.escape(turn.question)}</p>"
            f'<p style="color:{muted}"><b>Lanterne</b></p>'
        ]
        if turn.reasoning and self.show_reasoning:
            live, opened, streaming = turn.reasoning_live, turn.reasoning_open, not turn.finished
            section = reasoning_html(index, turn.reasoning, live, opened, (muted, shade), streaming)
            parts.append(section)
        elif turn.reasoning:
            parts.append(indicator_html(turn.reasoning_live, muted))
        if turn.answer:
            parts.append(render_answer(turn.answer, turn.citations, index))
        if turn.original is not None:
            parts.append(f'<p style="color:{muted}"><i>{html.escape(_("Edited by you."))}</i></p>')
        if turn.status:
            color = error if turn.error else muted
            parts.append(f'<p style="color:{color}"><i>{html.escape(turn.status)}</i></p>')
        if turn.citations and (turn.finished or not (turn.status or turn.reasoning_live)):
            items = "".join(
                f'<li><a href="source:{index}:{c.n}">[{c.n}] '
                f"{html.escape(Path(c.path).name)}</a>"
                f"{html.escape(' — ' + c.heading) if c.heading else ''}</li>"
                for c in turn.citations
            )
            parts.append(f"<p><b>{html.escape(_('Sources'))}</b></p><ul>{items}</ul>")
        if turn.finished and self.show_actions:
            actions = [f'<a href="action:copy:{index}">{html.escape(_("Copy"))}</a>']
            if turn.answer and not turn.error:
                actions += _feedback_links(index, turn.rating)
            if regenerate:
                label = html.escape(_("Regenerate"))
                actions.append(f'<a href="action:regenerate:{index}">{label}</a>')
            parts.append(f"<p>{' · '.join(actions)}</p>")
        parts.append("<hr/>")
        rendered = "".join(parts)
        self._rendered[id(turn)] = (key, rendered)
        return rendered

    def _reasoning_key(self, turn: Turn) -> tuple[object, ...]:
        """What the reasoning section shows: its text only while it is open."""
        if not turn.reasoning:
            return ()
        if not self.show_reasoning:
            return (turn.reasoning_live,)
        live, opened = turn.reasoning_live, turn.reasoning_open
        # The text itself, not its word count: the same string compares at once, by identity.
        return (live, opened, turn.reasoning if opened or not live else "")

    def citation_path(self, turn_index: int, n: int) -> Citation | None:
        if 0 <= turn_index < len(self.turns):
            for c in self.turns[turn_index].citations:
                if c.n == n:
                    return c
        return None

    def loadResource(self, kind: int, name: QUrl | str, /) -> object:  # noqa: N802 (Qt override)
        """Nothing is loaded on an answer's behalf (images, style sheets): see _markdown."""
        return None

    def _on_anchor(self, url: QUrl) -> None:
        target = url.toString()
        if target.startswith("source:"):
            _scheme, turn, n = target.split(":")
            self.citation_clicked.emit(int(turn), int(n))
        elif target == "action:earlier:0":
            self.show_earlier()
        elif target.startswith(TOGGLE):
            self.toggle_reasoning(int(target.removeprefix(TOGGLE)))
        elif target.startswith("action:"):
            _scheme, action, turn = target.split(":")
            if action in ("good", "bad"):
                self.rate_requested.emit(int(turn), 1 if action == "good" else -1)
                return
            signals = {"copy": self.copy_requested, "edit": self.edit_requested}
            signals.get(action, self.regenerate_requested).emit(int(turn))
        else:
            self.link_clicked.emit(url)

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
