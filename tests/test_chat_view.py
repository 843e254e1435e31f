"""The chat view: while an answer streams, only its turn is laid out again."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QUrl
from pytestqt.qtbot import QtBot

from lanterne.desktop.chat_view import ChatView, Turn

pytestmark = pytest.mark.gui

MARKDOWN = (
    "A list:\n\n- one **bold**\n- two `code`\n\n```\nprint('x')\n```\n\n"
    "| a | b |\n|---|---|\n| 1 | 2 |\n"
)


def _view(qtbot: QtBot) -> ChatView:
    view = ChatView()
    qtbot.addWidget(view)
    return view


def test_streaming_keeps_earlier_turns_in_place(qtbot: QtBot) -> None:
    view = _view(qtbot)
    view.set_turns([Turn(f"Question {i}?", MARKDOWN, finished=True) for i in range(5)])
    turn = view.add_turn("Last question?")
    view.busy = True
    first_block = view.document().begin()
    first_block.setUserState(7)  # a whole-document setHtml would drop this mark
    for words in range(1, 30):
        turn.status = ""
        turn.answer = "word " * words + ("\n\n- item\n" if words % 7 == 0 else "")
        view.refresh()
    assert view.document().begin().userState() == 7
    assert view.toPlainText().count("Last question?") == 1

    turn.finished = True
    view.busy = False
    view.refresh()
    fresh = _view(qtbot)
    fresh.set_turns(list(view.turns))
    assert view.toPlainText() == fresh.toPlainText()  # same text as laying out everything at once
    assert (
        view.toPlainText().rstrip().endswith("Copy · Edit · Good answer · Bad answer · Regenerate")
    )


def test_a_new_turn_takes_regenerate_from_the_previous_one(qtbot: QtBot) -> None:
    view = _view(qtbot)
    view.set_turns([Turn("First?", "One.", finished=True)])
    assert "Regenerate" in view.toPlainText()
    view.add_turn("Second?")
    assert "Regenerate" not in view.toPlainText()  # only the last answer can be regenerated
    assert view.toPlainText().count("Copy") == 1


def test_a_long_conversation_opens_on_its_newest_turns(qtbot: QtBot) -> None:
    """Hundreds of turns are not laid out at once; a link brings earlier ones, a batch a click,
    and their citation links keep pointing at their own turns."""
    view = ChatView()
    qtbot.addWidget(view)
    view.set_turns([Turn(f"Question {i}?", f"Answer {i}.", finished=True) for i in range(250)])
    shown = view.toPlainText()
    assert "Question 249?" in shown and "Question 190?" in shown and "Question 189?" not in shown
    assert "Show 100 earlier turns" in shown
    view.anchorClicked.emit(QUrl("action:earlier:0"))
    shown = view.toPlainText()
    assert "Question 90?" in shown and "Question 89?" not in shown
    assert "Show 90 earlier turns" in shown
    view.show_earlier()
    assert "Question 0?" in view.toPlainText() and "earlier turn" not in view.toPlainText()
