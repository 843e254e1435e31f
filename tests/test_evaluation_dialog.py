"""File › Evaluation…: saved runs listed and compared as a table and a chart; a question set run
from the page with two settings, on the real model, lands there checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableWidgetItem
from pytestqt.qtbot import QtBot

from lanterne.desktop.evaluation_dialog import EvaluationDialog
from lanterne.desktop.main_window import MainWindow
from lanterne.evaluation.results import save_run
from support.cli import lanterne

pytestmark = pytest.mark.gui


def _text(item: QTableWidgetItem | None) -> str:
    assert item is not None
    return item.text()


def _headers(dialog: EvaluationDialog) -> list[str]:
    return [_text(dialog.table.horizontalHeaderItem(c)) for c in range(dialog.table.columnCount())]


def _saved(label: str, facts: float) -> Path:
    return save_run(
        {
            "label": label,
            "created": "2026-12-05T10:00:00+00:00",
            "summary": {"retrieval": 1.0, "facts": facts, "language": 1.0, "ttft_ms": 640.0},
            "questions": [],
        }
    )


def _open(window: MainWindow, qtbot: QtBot, runs: int) -> EvaluationDialog:
    dialog = window.open_evaluation()
    qtbot.waitUntil(lambda: dialog.saved.count() == runs, timeout=10000)
    return dialog


def test_checked_runs_are_compared_as_a_table_and_a_chart(window: MainWindow, qtbot: QtBot) -> None:
    _saved("length=short", 0.5)
    _saved("length=detailed", 0.75)
    dialog = _open(window, qtbot, 2)
    assert dialog.table.columnCount() == 0 and dialog.chart.runs == []
    for row in range(dialog.saved.count()):
        dialog.saved.item(row).setCheckState(Qt.CheckState.Checked)
    headers = _headers(dialog)
    assert sorted(headers) == ["length=detailed", "length=short"]
    rows = [_text(dialog.table.verticalHeaderItem(r)) for r in range(dialog.table.rowCount())]
    facts = rows.index("Expected facts in the answer")
    cells = {headers[c]: _text(dialog.table.item(facts, c)) for c in range(2)}
    assert cells == {"length=short": "50 %", "length=detailed": "75 %"}
    assert [r["label"] for r in dialog.chart.runs] == headers
    assert "length=short: Expected sources retrieved 100 %" in dialog.chart.accessibleDescription()
    dialog.chart.grab()  # paints without a warning
    dialog.saved.item(0).setCheckState(Qt.CheckState.Unchecked)
    assert dialog.table.columnCount() == 1


def test_a_bad_variant_is_said_in_place(window: MainWindow, qtbot: QtBot) -> None:
    dialog = _open(window, qtbot, 0)
    dialog.questions.setText("questions.jsonl")
    dialog.variants.setPlainText("answer.length=endless")
    dialog.run()
    assert "endless" in dialog.status.text() and dialog.run_button.isEnabled()


@pytest.mark.model
def test_a_question_set_runs_from_the_page_with_two_settings(
    window: MainWindow, qtbot: QtBot, gemma_model: Path, tmp_path: Path
) -> None:
    sample = tmp_path / "sample"
    assert lanterne("eval", "--example", str(sample)).returncode == 0
    assert lanterne("index", "add", str(sample / "documents")).returncode == 0
    lines = (sample / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    subset = tmp_path / "two.jsonl"
    subset.write_text(f"{lines[1]}\n{lines[4]}\n", encoding="utf-8")
    window.ctx.settings.set("model.path", str(gemma_model))
    dialog = _open(window, qtbot, 0)
    dialog.questions.setText(str(subset))
    dialog.variants.setPlainText(
        "answer.length=short,model.max_answer_tokens=12\n"
        "answer.tone=formal,model.max_answer_tokens=12\n"
    )
    dialog.run()
    assert not dialog.run_button.isEnabled()  # the page stays usable while it runs
    qtbot.waitUntil(lambda: dialog.run_button.isEnabled(), timeout=240000)
    assert dialog.status.text() == "Done: the new runs are checked below."
    qtbot.waitUntil(lambda: dialog.saved.count() == 2, timeout=10000)
    headers = _headers(dialog)
    assert sorted(headers) == [
        "length=short max_answer_tokens=12",
        "tone=formal max_answer_tokens=12",
    ]
    assert all(r["summary"]["questions"] == 2 for r in dialog.chart.runs)
    assert all(r["summary"]["errors"] == 0 for r in dialog.chart.runs)  # the unsaved model
