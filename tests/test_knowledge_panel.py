"""The knowledge panel over the real index service: folders, progress, errors, pause, re-index."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from pytestqt.qtbot import QtBot

from lanterne.desktop.main_window import MainWindow
from lanterne.indexer.indexing import Progress

pytestmark = pytest.mark.gui


def documents(window: MainWindow) -> int:
    store = window.ctx.open_store()
    try:
        return store.status().documents
    finally:
        store.close()


def folder_with_a_broken_pdf(tmp_path: Path) -> Path:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "réunion.md").write_text("# Réunion\n\nLe budget de 2025 est validé.\n")
    (folder / "plan.txt").write_text("Plan de sauvegarde des serveurs, chaque nuit.\n")
    (folder / "cassé.pdf").write_bytes(b"%PDF-1.4\n1 0 obj garbage without end")
    return folder


@pytest.mark.model
def test_a_dropped_folder_is_indexed_and_its_broken_file_explained(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    folder = folder_with_a_broken_pdf(tmp_path)
    panel = window.open_knowledge()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(folder))])
    drop = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    panel.dropEvent(drop)
    qtbot.waitUntil(lambda: panel.folders.count() == 1, timeout=30000)
    assert panel.folders.item(0).text() == str(folder)
    qtbot.waitUntil(lambda: panel.errors.rowCount() == 1, timeout=30000)
    name, reason = panel.errors.item(0, 0), panel.errors.item(0, 1)
    assert name is not None and name.text() == "cassé.pdf"
    assert reason is not None and "PDF" in reason.text()  # a reason, in words
    qtbot.waitUntil(lambda: "Up to date: 2 documents" in panel.status.text(), timeout=30000)
    qtbot.waitUntil(lambda: "2 documents" in window.index_label.text(), timeout=10000)


@pytest.mark.model
def test_pause_holds_changes_until_resume(window: MainWindow, qtbot: QtBot, tmp_path: Path) -> None:
    folder = folder_with_a_broken_pdf(tmp_path)
    panel = window.open_knowledge()
    with qtbot.waitSignal(window.indexing.ready, timeout=30000):
        panel.add_folder(folder)
    assert documents(window) == 2
    panel.pause_button.click()
    assert panel.pause_button.text() == "Resume" and "Paused" in panel.status.text()
    (folder / "nouveau.txt").write_text("Une note écrite pendant la pause.\n")
    time.sleep(2.0)  # the watcher sees it within 0.3 s when running
    qtbot.wait(100)
    assert documents(window) == 2
    panel.pause_button.click()
    assert panel.pause_button.text() == "Pause"
    qtbot.waitUntil(lambda: documents(window) == 3, timeout=10000)


@pytest.mark.model
def test_reindex_reads_every_file_again_and_remove_forgets_them(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    folder = folder_with_a_broken_pdf(tmp_path)
    panel = window.open_knowledge()
    with qtbot.waitSignal(window.indexing.ready, timeout=30000):
        panel.add_folder(folder)
    qtbot.waitUntil(lambda: panel.folders.count() == 1, timeout=10000)
    panel.folders.setCurrentRow(0)
    seen: list[Progress] = []
    window.indexing.progress.connect(seen.append)
    with qtbot.waitSignal(window.indexing.ready, timeout=30000):
        panel.reindex_button.click()
    assert any(p.total == 3 and p.done == 3 for p in seen)  # all three read again
    panel.folders.setCurrentRow(0)
    with qtbot.waitSignal(window.indexing.folders_changed, timeout=30000):
        panel.remove_button.click()
    qtbot.waitUntil(lambda: panel.folders.count() == 0, timeout=10000)
    assert documents(window) == 0
    assert folder.is_dir() and len(list(folder.iterdir())) == 3  # the files are untouched


@pytest.mark.model
def test_ignore_patterns_from_settings_take_effect_at_once(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    folder = folder_with_a_broken_pdf(tmp_path)
    with qtbot.waitSignal(window.indexing.ready, timeout=30000):
        window.add_folder(folder)
    assert documents(window) == 2
    window.ctx.settings.set("index.ignore_patterns", "plan.txt")
    with qtbot.waitSignal(window.indexing.ready, timeout=30000):
        window.indexing.reload_settings()
    assert documents(window) == 1
    assert (folder / "plan.txt").is_file()  # left out of the index, not touched
