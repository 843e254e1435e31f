"""Conversations in the window: saved as they stream, listed, searched, renamed, deleted, reopened
after a restart or a crash; each answer's sources one click from the file, at its page."""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QProcess, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLineEdit
from pytestqt.qtbot import QtBot

from lanterne.context import AppContext
from lanterne.conversations.store import ConversationStore
from lanterne.desktop import source_location
from lanterne.desktop.answer_recorder import conversation_title
from lanterne.desktop.interface_language import switch_language
from lanterne.desktop.main_window import MainWindow
from lanterne.foundation.settings import Settings

pytestmark = pytest.mark.gui
OpenWindow = Callable[[], MainWindow]  # the open_window fixture: a new window, as a restart

SOURCE = {
    "n": 1,
    "chunk_id": 3,
    "path": "/docs/rapport.pdf",
    "page": 4,
    "line": None,
    "heading": "Budget",
    "snippet": "les dépenses ont baissé",
    "highlights": [],
    "text": "Les dépenses ont baissé de 4 %.",
    "score": 2.0,
    "lang": "fr",
}


def titles(window: MainWindow) -> list[str]:
    items = window.conversations.list
    return [items.item(i).text() for i in range(items.count())]


def saved_conversation(title: str, status: str = "complete", cited: Path | None = None) -> int:
    store = ConversationStore(AppContext(Settings()).conversations_path)
    cid = store.create(title)
    store.add_message(cid, "user", "Les dépenses ont-elles baissé ?")
    source = SOURCE if cited is None else {**SOURCE, "path": str(cited)}
    store.add_message(cid, "assistant", "Oui, de 4 % [1].", status, [source])  # type: ignore[arg-type]
    store.close()
    return cid


def test_titles_are_the_first_question_on_one_line() -> None:
    assert conversation_title("Combien  de\ntemps ?") == "Combien de temps ?"
    long = (
        "Comment configurer la sauvegarde nocturne des serveurs de fichiers du service comptable ?"
    )
    title = conversation_title(long)
    assert len(title) <= 61 and title.endswith("…") and long.startswith(title[:-1])


@pytest.mark.model
def test_a_question_is_saved_and_the_list_survives_a_restart(
    qtbot: QtBot, open_window: OpenWindow
) -> None:
    window = open_window()
    window.question.setPlainText("Une question sans modèle ?")
    with qtbot.waitSignal(window.worker.failed, timeout=30000):
        window.ask()
    qtbot.waitUntil(lambda: titles(window) == ["Une question sans modèle ?"], timeout=5000)
    window.close()
    again = open_window()
    qtbot.waitUntil(lambda: titles(again) == ["Une question sans modèle ?"], timeout=5000)
    again.conversations.list.setCurrentRow(0)
    again.conversations.selected.emit(again.conversations.current_id())
    qtbot.waitUntil(lambda: len(again.chat.turns) == 1, timeout=5000)
    turn = again.chat.turns[0]
    assert turn.question == "Une question sans modèle ?"
    assert turn.error and "File › Models" in turn.status


def test_an_answer_cut_by_a_crash_reopens_marked(qtbot: QtBot, open_window: OpenWindow) -> None:
    cid = saved_conversation("Coupée", status="streaming")  # as left by a kill -9
    window = open_window()
    qtbot.waitUntil(lambda: titles(window) == ["Coupée"], timeout=5000)
    window.open_conversation(cid)
    qtbot.waitUntil(lambda: len(window.chat.turns) == 1, timeout=5000)
    assert "Interrupted" in window.chat.toPlainText()
    assert "Oui, de 4 %" in window.chat.toPlainText()  # the text so far is kept
    window.store.wait_idle(5)
    store = ConversationStore(window.ctx.conversations_path)
    assert store.messages(cid)[1].status == "interrupted"
    store.close()
    # It carries on as history: a follow-up would see it.
    assert window.controller.history[0].answer == "Oui, de 4 % [1]."


def test_rename_search_and_delete(qtbot: QtBot, open_window: OpenWindow) -> None:
    budget = saved_conversation("Budget")
    saved_conversation("Autre chose")
    window = open_window()
    qtbot.waitUntil(lambda: len(titles(window)) == 2, timeout=5000)
    window.controller.rename(budget, "Budget 2025")
    window.conversations.search.setText("depenses")  # accents folded, debounced
    qtbot.waitUntil(lambda: len(titles(window)) == 2, timeout=5000)
    window.conversations.search.setText("Budget 2025 zzz")
    qtbot.waitUntil(lambda: titles(window) == [], timeout=5000)
    window.conversations.search.clear()
    qtbot.waitUntil(lambda: "Budget 2025" in titles(window), timeout=5000)
    window.open_conversation(budget)
    qtbot.waitUntil(lambda: len(window.chat.turns) == 1, timeout=5000)
    window.controller.delete(budget)
    qtbot.waitUntil(lambda: titles(window) == ["Autre chose"], timeout=5000)
    assert window.chat.turns == []  # the open conversation went with it


def test_rename_in_place_with_f2(qtbot: QtBot, open_window: OpenWindow) -> None:
    cid = saved_conversation("Ancien nom")
    window = open_window()
    qtbot.waitUntil(lambda: titles(window) == ["Ancien nom"], timeout=5000)
    window.conversations.list.setFocus()
    window.conversations.list.setCurrentRow(0)
    QTest.keyClick(window.conversations.list, Qt.Key.Key_F2)
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit)  # the list's own editor, in place
    editor.selectAll()
    QTest.keyClicks(editor, "Nouveau nom")
    QTest.keyClick(editor, Qt.Key.Key_Return)
    window.store.wait_idle(5)
    qtbot.waitUntil(lambda: titles(window) == ["Nouveau nom"], timeout=5000)
    store = ConversationStore(window.ctx.conversations_path)
    assert store.conversation(cid).title == "Nouveau nom"  # type: ignore[union-attr]
    store.close()


def test_sources_panel_and_citation_opens_the_pdf_at_its_page(
    qtbot: QtBot,
    open_window: OpenWindow,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    evince = bin_dir / "evince"
    evince.write_text("#!/bin/sh\nexit 0\n")
    evince.chmod(evince.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(source_location, "default_pdf_viewer", lambda: "org.gnome.evince")
    launched: list[tuple[str, list[str]]] = []

    def start_detached(program: str, args: list[str]) -> tuple[bool, int]:
        launched.append((program, args))
        return True, 1

    monkeypatch.setattr(QProcess, "startDetached", start_detached)
    report = tmp_path / "docs" / "rapport.pdf"  # the cited file is there to be opened
    report.parent.mkdir()
    report.write_bytes(b"%PDF-1.4\n")
    cid = saved_conversation("Budget", cited=report)
    window = open_window()
    window.open_conversation(cid)
    qtbot.waitUntil(lambda: len(window.chat.turns) == 1, timeout=5000)
    assert "rapport.pdf" in window.sources.toPlainText()
    assert "les dépenses ont baissé" in window.sources.toPlainText()
    window.chat.citation_clicked.emit(0, 1)
    qtbot.waitUntil(lambda: bool(launched), timeout=5000)
    program, args = launched[0]
    assert program == str(evince) and args == ["--page-label=4", str(report)]


def test_page_arguments_of_known_viewers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("okular", "zathura"):
        exe = bin_dir / name
        exe.write_text("#!/bin/sh\n")
        exe.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    pdf = Path("/d/a.pdf")
    assert source_location.page_command(pdf, 2, "org.kde.okular") == [
        str(bin_dir / "okular"),
        "--page",
        "2",
        str(pdf),
    ]
    assert source_location.page_command(pdf, 2, "org.pwmt.zathura") == [
        str(bin_dir / "zathura"),
        "--page=2",
        str(pdf),
    ]
    assert source_location.page_command(pdf, 2, "org.gnome.evince") is None  # not installed here
    assert source_location.page_command(pdf, 2, "some-unknown-viewer") is None
    assert source_location.page_command(Path("/d/a.docx"), 2, "org.kde.okular") is None


def test_copy_puts_the_answer_on_the_clipboard(qtbot: QtBot, open_window: OpenWindow) -> None:
    cid = saved_conversation("Budget")
    window = open_window()
    window.open_conversation(cid)
    qtbot.waitUntil(lambda: len(window.chat.turns) == 1, timeout=5000)
    assert "Copy" in window.chat.toPlainText() and "Regenerate" in window.chat.toPlainText()
    window.chat.copy_requested.emit(0)
    assert QGuiApplication.clipboard().text() == "Oui, de 4 % [1]."


@pytest.mark.model
def test_answers_are_saved_as_they_stream_and_regenerate_replaces_the_last(
    qtbot: QtBot, open_window: OpenWindow, tiny_moe_model: Path
) -> None:
    window = open_window()
    window.ctx.settings.set("model.max_answer_tokens", 8)
    window.set_model_path(tiny_moe_model)
    window.question.setPlainText("Première question ?")
    with qtbot.waitSignal(window.worker.finished, timeout=60000):
        window.ask()
    window.store.wait_idle(5)
    store = ConversationStore(window.ctx.conversations_path)
    (conversation,) = store.conversations()
    messages = store.messages(conversation.id)
    assert [(m.role, m.status) for m in messages] == [
        ("user", "complete"),
        ("assistant", "complete"),
    ]
    assert messages[1].text == window.chat.turns[0].answer
    assert messages[1].details["tokens"] > 0
    with qtbot.waitSignal(window.worker.finished, timeout=60000):
        window.chat.regenerate_requested.emit(0)
    window.store.wait_idle(5)
    again = store.messages(conversation.id)
    assert [m.role for m in again] == ["user", "assistant"]  # replaced, not added
    assert again[1].status == "complete" and again[1].text == window.chat.turns[0].answer
    store.close()


def test_each_conversation_tells_when_it_was_last_used_in_the_users_language(
    qtbot: QtBot, open_window: OpenWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    store = ConversationStore(AppContext(Settings()).conversations_path)
    cid = store.create("Budget")
    store.close()
    with sqlite3.connect(AppContext(Settings()).conversations_path) as db:
        db.execute(
            "UPDATE conversations SET updated_at = ? WHERE id = ?",
            ["2026-11-23T13:05:00.000+00:00", cid],
        )
    window = open_window()
    qtbot.waitUntil(lambda: titles(window) == ["Budget"], timeout=5000)

    def tip() -> str:
        return window.conversations.list.item(0).toolTip()

    assert tip().replace("\u202f", " ") == "Budget\nLast activity: Nov 23, 2026, 2:05 PM"
    switch_language("fr")
    try:
        assert tip() == "Budget\nDernière activité\u00a0: 23 nov. 2026, 14:05"
    finally:
        switch_language("en")
        monkeypatch.delenv("TZ")
        time.tzset()
