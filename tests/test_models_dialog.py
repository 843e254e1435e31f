"""File › Models…, offscreen: the catalog's fit, a download with progress and cancel, import."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QTableWidget
from pytestqt.qtbot import QtBot

from lanterne.desktop.main_window import MainWindow
from lanterne.desktop.models_dialog import ModelsDialog
from support.hub_server import Hub

pytestmark = pytest.mark.gui
REPO, FILE = "ibm-granite/granite-4.0-h-tiny-GGUF", "granite-4.0-h-tiny-Q4_K_M.gguf"


def cell(table: QTableWidget, row: int, column: int) -> str:
    item = table.item(row, column)
    assert item is not None
    return item.text()


def opened(window: MainWindow, qtbot: QtBot) -> ModelsDialog:
    dialog = window.open_models()
    qtbot.waitUntil(lambda: dialog.catalog.rowCount() > 0, timeout=30000)
    return dialog


def test_the_catalog_shows_its_fit_and_the_recommendation(window: MainWindow, qtbot: QtBot) -> None:
    dialog = opened(window, qtbot)
    texts = [cell(dialog.catalog, r, 3) for r in range(dialog.catalog.rowCount())]
    assert all(t.startswith(("runs", "too large")) for t in texts)
    assert dialog.recommendation.text() and "Checking" not in dialog.recommendation.text()
    chosen = dialog.selected_catalog_file()
    if chosen is not None:  # a slow machine still gets a pick, said to be slow
        row = dialog.catalog.selectionModel().selectedRows()[0].row()
        assert cell(dialog.catalog, row, 0).startswith("★ ")


def test_download_shows_progress_and_the_model_comes_into_use(
    hub: Hub, window: MainWindow, qtbot: QtBot, gemma_model: Path
) -> None:
    hub.add(REPO, FILE, gemma_model)
    dialog = opened(window, qtbot)
    values: list[int] = []
    dialog.progress.valueChanged.connect(values.append)
    dialog.select_catalog_file("granite-4.0-h-tiny", "Q4_K_M")
    dialog.download_button.click()
    assert dialog.progress.isVisible() and dialog.cancel_button.isVisible()
    qtbot.waitUntil(lambda: not dialog.is_busy(), timeout=60000)
    assert "downloaded and verified" in dialog.status.text()
    assert values and max(values) == 1000 and not dialog.progress.isVisible()
    assert dialog.installed.rowCount() == 1
    assert cell(dialog.installed, 0, 0).endswith("in use")
    assert FILE in window.model_label.text()


def test_cancel_stops_and_a_second_download_resumes(
    hub: Hub, window: MainWindow, qtbot: QtBot, gemma_model: Path
) -> None:
    hub.add(REPO, FILE, gemma_model)
    dialog = opened(window, qtbot)
    dialog.select_catalog_file("granite-4.0-h-tiny", "Q4_K_M")
    dialog.progress.valueChanged.connect(
        lambda v: dialog.cancel_download() if 0 < v < 900 else None
    )
    dialog.download_button.click()
    qtbot.waitUntil(lambda: not dialog.is_busy(), timeout=60000)
    assert dialog.status.text().startswith("Download stopped")
    assert dialog.installed.rowCount() == 0 and dialog.download_button.isEnabled()
    dialog.progress.valueChanged.disconnect()
    dialog.download_button.click()
    qtbot.waitUntil(lambda: not dialog.is_busy(), timeout=60000)
    assert "downloaded and verified" in dialog.status.text()
    assert hub.gets()[-1].range is not None  # the second one continued the first


def test_import_reads_the_file_off_the_gui_thread(
    window: MainWindow, qtbot: QtBot, tiny_moe_model: Path, tmp_path: Path
) -> None:
    dialog = opened(window, qtbot)
    dialog.import_file(tiny_moe_model)
    qtbot.waitUntil(lambda: not dialog.is_busy(), timeout=30000)
    assert dialog.installed.rowCount() == 1 and "Imported" in dialog.status.text()
    bad = tmp_path / "bad.gguf"
    bad.write_text("nope")
    dialog.import_file(bad)
    qtbot.waitUntil(lambda: not dialog.is_busy(), timeout=30000)
    assert "not a GGUF" in dialog.status.text() and dialog.installed.rowCount() == 1
    dialog.installed.selectRow(0)
    dialog.remove_button.click()
    qtbot.waitUntil(lambda: not dialog.is_busy(), timeout=30000)
    assert dialog.installed.rowCount() == 0 and tiny_moe_model.exists()
    assert "No model chosen" in window.model_label.text()
