"""The model's reasoning in the chat: a collapsed section above the answer, live while the model
reasons, opened and closed by mouse and keyboard, never part of the answer, its sources or what
Copy takes; kept with the conversation; only a "Reasoning…" line in the quick-ask window."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable

import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QTextCursor
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from lanterne.context import AppContext
from lanterne.conversations.store import ConversationStore
from lanterne.desktop.chat_view import ChatView, Turn
from lanterne.desktop.interface_language import switch_language
from lanterne.desktop.main_window import MainWindow
from lanterne.desktop.quick_ask import QuickAskWindow
from lanterne.desktop.reasoning_section import LIVE_CHARS, toggle_href
from support.scripted_answers import Script, ScriptedAssistant, citation

pytestmark = pytest.mark.gui
OpenWindow = Callable[[], MainWindow]

REASONING = [
    "The user asks how long the pie bakes. ",
    "Source [1] says forty minutes; ",
    "source [2] does not exist.",
]
ANSWER = ["It bakes for ", "forty minutes [1]."]
REASONING_TEXT = "".join(REASONING).strip()
ANSWER_TEXT = "".join(ANSWER)


def _script(gate: threading.Event | None = None) -> Script:
    source = citation(1, "/docs/tarte.txt", "La tarte cuit quarante minutes.")
    return Script(REASONING, ANSWER, [source], gate)


def _scripted(ctx: AppContext, script: Script) -> None:
    """The window's worker asks this assistant: its own thread, gate and signals as usual."""
    ctx.assistant = ScriptedAssistant(ctx.assistant, script)


def _link_point(view: ChatView, href: str) -> QPoint:
    """Where a link is drawn in the view, for a click."""
    block = view.document().begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            if fragment.charFormat().anchorHref() == href:
                cursor = QTextCursor(view.document())
                cursor.setPosition(fragment.position() + 2)
                return view.cursorRect(cursor).center()
            it += 1
        block = block.next()
    raise AssertionError(f"no link to {href} in the view")


def _click(view: ChatView, href: str) -> None:
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=_link_point(view, href))


def _source_links(view: ChatView) -> list[str]:
    """The citation links of the document, in order: only the answer's markers make them."""
    links = []
    block = view.document().begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            href = it.fragment().charFormat().anchorHref()
            if href.startswith("source:"):
                links.append(f"{it.fragment().text()} {href}")
            it += 1
        block = block.next()
    return links


def test_the_reasoning_streams_in_a_collapsed_section_above_the_answer(
    window: MainWindow, qtbot: QtBot
) -> None:
    gate = threading.Event()
    _scripted(window.ctx, _script(gate))
    pieces: list[str] = []
    window.worker.thinking.connect(pieces.append)
    window.question.setPlainText("How long does the pie bake?")
    window.ask()
    chat = window.chat
    # While the model reasons: the line says so; the text is there, not shown.
    qtbot.waitUntil(lambda: len(pieces) == len(REASONING), timeout=10000)
    qtbot.waitUntil(lambda: "▸ Reasoning… — show" in chat.toPlainText(), timeout=5000)
    turn = chat.turns[0]
    assert turn.reasoning == "".join(REASONING) and turn.answer == ""
    assert "forty minutes" not in chat.toPlainText() and "Writing…" not in chat.toPlainText()
    # A click opens it, live: the text so far, and still "Reasoning…".
    _click(chat, toggle_href(0))
    assert turn.reasoning_open
    shown = chat.toPlainText()
    assert "▾ Reasoning… — hide" in shown and "Source [1] says forty minutes;" in shown
    assert _source_links(chat) == []  # "[1]" in the reasoning is not a citation
    _click(chat, toggle_href(0))
    assert not turn.reasoning_open and "Source [1]" not in chat.toPlainText()
    _click(chat, toggle_href(0))  # left open: it folds away when the answer begins

    with qtbot.waitSignal(window.worker.finished, timeout=10000) as finished:
        gate.set()
    qtbot.waitUntil(lambda: turn.finished, timeout=5000)
    assert finished.args[0].text == ANSWER_TEXT and finished.args[0].reasoning == REASONING_TEXT
    shown = chat.toPlainText()
    lines = shown.splitlines()
    header = "▸ Reasoning (18 words) — show"
    assert header in lines and lines.index(header) < lines.index(ANSWER_TEXT)  # above it
    assert "Source [1] says" not in shown  # collapsed once the answer began
    assert turn.answer == ANSWER_TEXT
    assert _source_links(chat) == ["[1] source:0:1", "[1] tarte.txt source:0:1"]
    window.copy_answer(0)
    assert QGuiApplication.clipboard().text() == ANSWER_TEXT  # no reasoning in the copy
    assert window.controller.history[-1].answer == ANSWER_TEXT
    assert window.controller.history[-1].reasoning == REASONING_TEXT  # given back next time

    # The keyboard: Tab reaches the link, Enter opens it and, the focus kept on it, closes it.
    chat.setFocus()
    for _tab in range(6):
        QTest.keyClick(chat, Qt.Key.Key_Tab)
        if chat.textCursor().selectedText() == header.removeprefix("▸ "):
            break
    assert chat.textCursor().selectedText() == "Reasoning (18 words) — show"
    QTest.keyClick(chat, Qt.Key.Key_Return)
    assert turn.reasoning_open and "source [2] does not exist." in chat.toPlainText()
    assert chat.textCursor().selectedText() == "Reasoning (18 words) — hide"
    assert _source_links(chat) == ["[1] source:0:1", "[1] tarte.txt source:0:1"]
    window.copy_answer(0)
    assert QGuiApplication.clipboard().text() == ANSWER_TEXT  # opened, still not copied
    QTest.keyClick(chat, Qt.Key.Key_Return)
    assert not turn.reasoning_open and "source [2]" not in chat.toPlainText()


def test_a_reopened_conversation_shows_its_saved_reasoning(
    qtbot: QtBot, open_window: OpenWindow
) -> None:
    window = open_window()
    _scripted(window.ctx, _script())
    window.question.setPlainText("How long does the pie bake?")
    with qtbot.waitSignal(window.recorder.answer_saved, timeout=10000) as saved:
        window.ask()
    conversation_id = saved.args[0]
    store = ConversationStore(window.ctx.conversations_path)
    message = store.messages(conversation_id)[1]
    store.close()
    assert (message.text, message.reasoning) == (ANSWER_TEXT, REASONING_TEXT)
    window.close()

    again = open_window()  # a restart
    again.open_conversation(conversation_id)
    qtbot.waitUntil(lambda: len(again.chat.turns) == 1, timeout=5000)
    turn = again.chat.turns[0]
    assert turn.reasoning == REASONING_TEXT and turn.answer == ANSWER_TEXT
    assert "▸ Reasoning (18 words) — show" in again.chat.toPlainText()
    assert "Source [1]" not in again.chat.toPlainText()
    again.chat.toggle_reasoning(0)
    assert "Source [1] says forty minutes; source [2] does not exist." in again.chat.toPlainText()
    assert again.controller.history[0].reasoning == REASONING_TEXT
    again.copy_answer(0)
    assert QGuiApplication.clipboard().text() == ANSWER_TEXT


def test_a_regenerated_answer_reasons_afresh(window: MainWindow, qtbot: QtBot) -> None:
    _scripted(window.ctx, _script())
    window.question.setPlainText("How long does the pie bake?")
    with qtbot.waitSignal(window.stream.settled, timeout=10000):
        window.ask()
    qtbot.waitUntil(lambda: not window.worker.is_running(), timeout=5000)
    window.ctx.assistant = ScriptedAssistant(window.ctx.assistant, Script(["Again."], ["Yes."]))
    with qtbot.waitSignal(window.stream.settled, timeout=10000):
        window.controller.regenerate(0)
    turn = window.chat.turns[0]
    assert (turn.reasoning, turn.answer) == ("Again.", "Yes.")
    assert "▸ Reasoning (1 word) — show" in window.chat.toPlainText()


def test_an_answer_without_reasoning_has_no_section(window: MainWindow, qtbot: QtBot) -> None:
    _scripted(window.ctx, Script([], ANSWER))
    window.question.setPlainText("How long does the pie bake?")
    with qtbot.waitSignal(window.stream.settled, timeout=10000):
        window.ask()
    assert "Reasoning" not in window.chat.toPlainText()
    assert ANSWER_TEXT in window.chat.toPlainText()


def test_the_quick_ask_window_only_says_that_the_model_reasons(
    window: MainWindow, qtbot: QtBot
) -> None:
    gate = threading.Event()
    _scripted(window.ctx, _script(gate))
    quick = QuickAskWindow(window.ctx, window.store)
    qtbot.addWidget(quick)
    pieces: list[str] = []
    quick.worker.thinking.connect(pieces.append)
    quick.summon("How long does the pie bake?")
    quick.ask()
    qtbot.waitUntil(lambda: len(pieces) == len(REASONING), timeout=10000)
    qtbot.waitUntil(lambda: "Reasoning…" in quick.answer.toPlainText(), timeout=5000)
    shown = quick.answer.toPlainText()
    assert "show" not in shown and "Source [1]" not in shown  # an indicator, not a section
    assert toggle_href(0) not in quick.answer.toHtml()
    with qtbot.waitSignal(quick.stream.settled, timeout=10000):
        gate.set()
    shown = quick.answer.toPlainText()
    assert "Reasoning" not in shown and ANSWER_TEXT in shown
    quick.answer.toggle_reasoning(0)  # nothing to open here
    assert "Source [1]" not in quick.answer.toPlainText()
    quick.close()


def test_the_section_speaks_french(qtbot: QtBot) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    view.set_turns([Turn("Combien ?", "Quarante minutes.", finished=True, reasoning="Un deux.")])
    live = view.add_turn("Et ensuite ?")
    live.reasoning = "Je réfléchis."
    switch_language("fr")
    try:
        shown = view.toPlainText()
        assert "▸ Raisonnement (2 mots) — afficher" in shown
        assert "▸ Raisonnement… — afficher" in shown
        view.toggle_reasoning(0)
        assert "▾ Raisonnement (2 mots) — masquer" in view.toPlainText()
    finally:
        switch_language("en")
    assert "▾ Reasoning (2 words) — hide" in view.toPlainText()


@pytest.mark.slow
def test_the_gui_stays_free_while_a_long_reasoning_streams_opened(
    window: MainWindow, qtbot: QtBot
) -> None:
    """A long reasoning at up to 1,000 pieces a second (faster than a local model), its section
    open while it streams and again while the answer streams: the window keeps answering (the
    text shown then is its end); all of it once the answer is over."""
    pieces = [
        f"Step {i}: the reasoning goes on, weighing one source against the other, then the "
        "next one. " + ("\n\n" if i % 20 == 0 else "")
        for i in range(5000)
    ]
    answer = [f"word{i} " for i in range(200)]
    _scripted(window.ctx, Script(pieces, answer, pace=0.001))
    chat = window.chat

    def open_section(_text: str) -> None:
        chat.turns[0].reasoning_open = True

    window.worker.thinking.connect(open_section)
    window.worker.token.connect(open_section)  # opened again once the answer has begun
    last_token: list[float] = []
    window.worker.token.connect(lambda _t: last_token.append(time.monotonic()))
    # The GUI thread's own CPU time between two beats: its work in one go, whatever else the
    # machine runs meanwhile (the wall clock's gaps grow with the machine's load).
    ticks: list[tuple[float, float]] = []
    heartbeat = QTimer()
    heartbeat.setInterval(10)
    heartbeat.timeout.connect(lambda: ticks.append((time.monotonic(), time.thread_time())))
    heartbeat.start()
    window.question.setPlainText("How long does the pie bake?")
    with qtbot.waitSignal(window.stream.settled, timeout=60000):
        window.ask()
    heartbeat.stop()
    # While it streams: the whole text is laid out once more when the turn ends (about 130 ms
    # for these 530,000 characters, once), not at every burst.
    ticks = [tick for tick in ticks if tick[0] <= last_token[-1]]
    busy = [b[1] - a[1] for a, b in itertools.pairwise(ticks)]
    waits = [b[0] - a[0] for a, b in itertools.pairwise(ticks)]
    # Well under the whole text laid out at every burst (about 200 ms at the end, here); the
    # end of it takes 5 to 20 ms, a margin left for the machine's other work.
    assert len(ticks) > 100 and max(busy) < 0.1, (len(ticks), max(busy))
    assert max(waits) < 0.5  # and never frozen, even on a busy machine
    turn = chat.turns[0]
    assert len(turn.reasoning) > 20 * LIVE_CHARS and turn.answer.startswith("word0 word1")
    shown = chat.toPlainText()
    assert "Step 0: the reasoning" in shown and "Step 4999: the reasoning" in shown  # all of it
