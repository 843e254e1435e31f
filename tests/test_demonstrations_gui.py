"""Rating and correcting answers in the window, and File › Export demonstration data…: kept
across restarts, filtered and previewed, written where the user says, and closed by policy."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QUrl
from pytestqt.qtbot import QtBot

from lanterne.context import AppContext
from lanterne.conversations.store import ConversationStore
from lanterne.desktop.export_dialog import ExportDialog
from lanterne.desktop.main_window import MainWindow
from lanterne.foundation.settings import Settings
from support.demonstration_data import fill

pytestmark = pytest.mark.gui
OpenWindow = Callable[[], MainWindow]  # the open_window fixture: a new window, as a restart


def filled(tmp_path: Path) -> dict[str, int]:
    store = ConversationStore(AppContext(Settings()).conversations_path)
    try:
        return fill(store, tmp_path / "docs")
    finally:
        store.close()


def saved(window: MainWindow, message_id: int) -> tuple[int | None, str | None]:
    window.store.wait_idle(5)
    store = ConversationStore(window.ctx.conversations_path)
    try:
        row = store.db.execute(
            "SELECT rating, edited_text FROM messages WHERE id = ?", [message_id]
        ).fetchone()
    finally:
        store.close()
    return row[0], row[1]


def open_first(qtbot: QtBot, window: MainWindow, title: str) -> None:
    store = ConversationStore(window.ctx.conversations_path)
    try:
        cid = next(c.id for c in store.conversations() if c.title == title)
    finally:
        store.close()
    window.open_conversation(cid)
    qtbot.waitUntil(lambda: bool(window.chat.turns), timeout=5000)


def test_an_answer_is_rated_and_corrected_and_stays_so_after_a_restart(
    qtbot: QtBot, open_window: OpenWindow, tmp_path: Path
) -> None:
    ids = filled(tmp_path)
    window = open_window()
    open_first(qtbot, window, "Sauvegardes")
    text = window.chat.toPlainText()
    assert "✓ Good answer" in text  # the first answer was rated good
    assert "Edited by you." in text  # and the second corrected
    assert "Oui, une tâche cron lance rsync chaque nuit à 2 h [1]." in text
    assert window.controller.history[1].answer == "Oui [1]."  # the model's context: its words

    window.chat.anchorClicked.emit(QUrl("action:bad:0"))
    assert window.chat.turns[0].rating == -1 and "✓ Bad answer" in window.chat.toPlainText()
    assert saved(window, ids["rsync"]) == (-1, None)
    window.chat.anchorClicked.emit(QUrl("action:bad:0"))  # again: taken back
    assert saved(window, ids["rsync"]) == (None, None)
    window.chat.anchorClicked.emit(QUrl("action:bad:2"))  # a failed answer cannot be rated
    assert window.chat.turns[2].rating is None and "Bad answer" not in _turn_links(window, 2)

    dialog = window.feedback.edit(0)
    assert dialog is not None and not dialog.restore_button.isVisible()
    dialog.editor.setPlainText("Avec rsync, vers le NAS [1].")
    dialog.accept()
    assert window.chat.turns[0].answer == "Avec rsync, vers le NAS [1]."
    assert saved(window, ids["rsync"]) == (None, "Avec rsync, vers le NAS [1].")

    dialog = window.feedback.edit(1)
    assert dialog is not None and dialog.restore_button.isVisibleTo(dialog)
    dialog.restore_button.click()
    assert window.chat.turns[1].answer == "Oui [1]." and window.chat.turns[1].original is None
    assert saved(window, ids["cron"]) == (None, None)

    window.close()
    again = open_window()
    open_first(qtbot, again, "Sauvegardes")
    assert again.chat.turns[0].answer == "Avec rsync, vers le NAS [1]."
    assert again.chat.turns[0].original == "Avec rsync [1]."
    assert "Edited by you." in again.chat.toPlainText()


def _turn_links(window: MainWindow, index: int) -> str:
    return window.chat._turn_html(index, window.chat.turns[index], window.chat._colours())


def cell(dialog: ExportDialog, row: int, column: int) -> str:
    item = dialog.table.item(row, column)
    return item.text() if item is not None else ""


def wait_count(qtbot: QtBot, dialog: ExportDialog, count: int) -> None:
    qtbot.waitUntil(
        lambda: dialog.count == count and "match" in dialog.count_label.text(), timeout=5000
    )


def test_the_export_dialog_filters_previews_and_writes(
    qtbot: QtBot, open_window: OpenWindow, tmp_path: Path
) -> None:
    filled(tmp_path)
    window = open_window()
    dialog = window.open_export()
    assert dialog is not None
    wait_count(qtbot, dialog, 4)
    assert dialog.count_label.text() == "4 answers match."
    assert dialog.table.rowCount() == 4 and cell(dialog, 0, 2) == "Good"
    assert cell(dialog, 1, 3) == "Yes"
    example = json.loads(dialog.example.toPlainText())  # the first row, selected
    assert example["messages"][-1]["content"] == "Avec rsync [1]."
    assert "metadata" in example

    dialog.rating.setCurrentIndex(dialog.rating.findData("down"))
    wait_count(qtbot, dialog, 1)
    assert cell(dialog, 0, 1) == "What did we spend?"
    dialog.rating.setCurrentIndex(dialog.rating.findData("any"))
    dialog.edited.setChecked(True)
    wait_count(qtbot, dialog, 2)
    dialog.metadata.setChecked(False)
    assert set(json.loads(dialog.example.toPlainText())) == {"messages"}

    out = tmp_path / "demos.jsonl"
    dialog.export_to(out)
    qtbot.waitUntil(lambda: "Exported" in dialog.status.text(), timeout=5000)
    assert dialog.status.text() == f"Exported 2 answers to {out}. Nothing was sent anywhere."
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["messages"][-1]["content"] for line in lines] == [
        "Oui, une tâche cron lance rsync chaque nuit à 2 h [1].",
        "Taxes rose by 2 %.",
    ]
    dialog.export_to(tmp_path / "missing" / "x.jsonl")
    qtbot.waitUntil(lambda: "Could not write" in dialog.status.text(), timeout=5000)
    dialog.close()


def test_the_export_is_closed_when_the_organisation_says_so(
    qtbot: QtBot, open_window: OpenWindow
) -> None:
    window = open_window()
    assert window.menu_actions["open_export"].isEnabled()
    window.ctx.settings.set("house.allow_export", False)
    window.refresh_rules()
    assert not window.menu_actions["open_export"].isEnabled()
    assert window.open_export() is None
    assert "does not allow" in window.statusBar().currentMessage()


@pytest.mark.model
def test_a_real_answer_rated_corrected_and_exported(
    qtbot: QtBot, open_window: OpenWindow, tiny_moe_model: Path, tmp_path: Path
) -> None:
    """The whole path with a real model: answer, rating, correction, regenerate (which clears
    them), the export; the structure is checked, not the random model's words."""
    window = open_window()
    window.ctx.settings.set("model.max_answer_tokens", 8)
    window.set_model_path(tiny_moe_model)
    window.question.setPlainText("Comment sauvegarder le serveur ?")
    with qtbot.waitSignal(window.worker.finished, timeout=60000):
        window.ask()
    qtbot.waitUntil(lambda: window.chat.turns[0].finished, timeout=5000)
    model_text = window.chat.turns[0].answer
    window.chat.anchorClicked.emit(QUrl("action:good:0"))
    dialog = window.feedback.edit(0)
    assert dialog is not None
    dialog.editor.setPlainText("Avec rsync.")
    dialog.accept()
    window.store.wait_idle(5)
    export = window.open_export()
    assert export is not None
    wait_count(qtbot, export, 1)
    export.export_to(tmp_path / "one.jsonl")
    qtbot.waitUntil(lambda: "Exported" in export.status.text(), timeout=5000)
    (line,) = (tmp_path / "one.jsonl").read_text(encoding="utf-8").splitlines()
    example = json.loads(line)
    assert [m["role"] for m in example["messages"]] == ["system", "user", "assistant"]
    assert example["messages"][-1]["content"] == "Avec rsync."
    meta = example["metadata"]
    assert meta["rating"] == "up" and meta["original_answer"] == model_text.strip()
    assert window.model_status.ready is not None
    assert meta["model"] == window.model_status.ready.engine.name  # as the status bar named it
    export.close()

    with qtbot.waitSignal(window.worker.finished, timeout=60000):
        window.chat.regenerate_requested.emit(0)
    qtbot.waitUntil(lambda: window.chat.turns[0].finished, timeout=5000)
    turn = window.chat.turns[0]
    assert turn.rating is None and turn.original is None
    window.store.wait_idle(5)
    store = ConversationStore(window.ctx.conversations_path)
    (answer,) = [m for m in store.messages(store.conversations()[0].id) if m.role == "assistant"]
    store.close()
    assert (answer.rating, answer.edited_text) == (None, None)
