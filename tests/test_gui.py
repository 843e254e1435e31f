"""The main window, offscreen: it opens, streams an answer without freezing, shows errors."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot

from lanterne.assistant.answer import Answer
from lanterne.assistant.pipeline import LoadingModel
from lanterne.desktop.chat_view import render_answer
from lanterne.desktop.main_window import MainWindow
from lanterne.engine.hardware import probe

pytestmark = pytest.mark.gui


def test_window_opens_with_its_controls(window: MainWindow) -> None:
    assert window.windowTitle() == "Lanterne"
    assert window.question.hasFocus()  # ready to type
    assert window.ask_button.isEnabled() and not window.stop_button.isEnabled()
    assert "No model chosen" in window.model_label.text()


@pytest.mark.model
def test_answer_streams_while_the_gui_stays_responsive(
    window: MainWindow, qtbot: QtBot, docs_folder: Path, gemma_model: Path
) -> None:
    with qtbot.waitSignal(window.indexing.folders_changed, timeout=30000):
        window.add_folder(docs_folder)
    window.ctx.settings.set("model.max_answer_tokens", 48)
    window.set_model_path(gemma_model)
    ticks: list[float] = []
    heartbeat = QTimer()
    heartbeat.setInterval(20)
    heartbeat.timeout.connect(lambda: ticks.append(time.monotonic()))
    heartbeat.start()
    tokens: list[float] = []
    window.worker.token.connect(lambda _t: tokens.append(time.monotonic()))
    loads: list[LoadingModel] = []
    window.worker.loading.connect(loads.append)

    window.question.setPlainText("Combien de temps cuit la tarte aux pommes ?")
    with qtbot.waitSignal(window.worker.finished, timeout=120000) as finished:
        window.ask()
        assert not window.ask_button.isEnabled() and window.stop_button.isEnabled()
    heartbeat.stop()

    answer = finished.args[0]
    assert len(tokens) >= 2  # streamed, not delivered at once
    # The event loop kept running during load and generation: no gap near a frozen GUI.
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert gaps and max(gaps) < 1.0
    assert answer.citations[0].path.endswith("tarte.txt")
    html = window.chat.toHtml()
    assert "tarte.txt" in html and "Combien de temps" in html
    assert window.ask_button.isEnabled()
    assert [(m.name, m.size_bytes) for m in loads] == [
        (gemma_model.name, gemma_model.stat().st_size)
    ]  # said while it loaded
    assert not window.loading_bar.isVisible()
    gpus = probe().gpus  # a GPU build answers on its GPU
    where = gpus[0].backend if gpus else "CPU"
    assert window.model_label.text().startswith(f"Model: Gemma 3 270m — {where}")
    if not gpus:
        assert "no GPU backend" in window.model_label.toolTip()
    assert window.model_label.sizeHint().width() <= window.model_label.width()  # not clipped
    assert "tokens/s" in window.speed_label.text()
    qtbot.waitUntil(lambda: "documents" in window.index_label.text(), timeout=5000)


@pytest.mark.model
def test_errors_show_in_place(window: MainWindow, qtbot: QtBot) -> None:
    window.question.setPlainText("Une question ?")
    with qtbot.waitSignal(window.worker.failed, timeout=30000):
        window.ask()
    qtbot.waitUntil(lambda: window.ask_button.isEnabled())
    assert "No model is chosen yet" in window.chat.toPlainText()
    assert "File › Models" in window.chat.toPlainText()  # what to do next, in the GUI's terms


def test_citation_markers_become_links() -> None:
    from lanterne.assistant.answer import Citation
    from lanterne.indexer.retriever import SearchResult

    c = Citation(1, SearchResult(7, "/d/a.txt", None, 1, "", "snip", (), "text", 1.0, "en"))
    html = render_answer("See [1] and [7].\n\n- item", [c], turn_index=2)
    assert '<a href="source:2:1">[1]</a>' in html
    assert "[7]" in html and "source:2:7" not in html
    assert "<li>item</li>" in html


def test_app_icon_ships_and_loads(qtbot: QtBot) -> None:
    from PySide6.QtGui import QIcon

    from lanterne.assets import asset_path

    path = asset_path("lanterne.svg")
    assert path.is_file()
    icon = QIcon(str(path))
    assert not icon.isNull()
    assert icon.pixmap(64, 64).toImage().pixelColor(32, 40).alpha() == 255


@pytest.mark.model
def test_stop_keeps_the_partial_answer(
    window: MainWindow, qtbot: QtBot, tiny_moe_model: Path
) -> None:
    window.ctx.settings.set("model.max_answer_tokens", 2000)
    window.set_model_path(tiny_moe_model)
    window.question.setPlainText("Question longue ?")
    window.worker.token.connect(lambda _t: window.stop_button.click())
    with qtbot.waitSignal(window.worker.finished, timeout=60000) as finished:
        window.ask()
    answer = finished.args[0]
    assert answer.stopped and answer.timings.predicted_tokens < 2000
    qtbot.waitUntil(lambda: "Stopped." in window.chat.toPlainText())
    assert window.ask_button.isEnabled() and not window.stop_button.isEnabled()


@pytest.mark.model
def test_a_follow_up_sees_the_conversation_and_new_starts_afresh(
    window: MainWindow, qtbot: QtBot, tiny_moe_model: Path
) -> None:
    window.ctx.settings.set("model.max_answer_tokens", 8)
    window.set_model_path(tiny_moe_model)

    def ask(question: str) -> Answer:
        window.question.setPlainText(question)
        with qtbot.waitSignal(window.worker.finished, timeout=60000) as finished:
            window.ask()
        answer: Answer = finished.args[0]
        return answer

    first = ask("Combien de temps cuit la tarte ?")
    second = ask("Et à quelle température ?")
    assert second.turns_kept == (1 if first.text else 0)
    assert second.timings.reused_tokens > 0  # the first exchange was not evaluated again
    window.new_conversation()
    assert window.chat.turns == [] and "tarte" not in window.chat.toPlainText()
    assert ask("Une autre question ?").turns_kept == 0
