"""A folder that goes offline, as the desktop app shows it (#31): "not connected" in Knowledge
(Re-index refused, Remove offered), its results marked in the Search window, and a citation of
it explained instead of failing to open. The real index service, watcher and embedding model."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from lanterne.assistant.answer import Citation
from lanterne.desktop.chat_view import source_tip
from lanterne.desktop.main_window import MainWindow
from lanterne.desktop.search_window import SearchWindow

pytestmark = pytest.mark.gui


def documents(window: MainWindow) -> int:
    store = window.ctx.open_store()
    try:
        return store.status().documents
    finally:
        store.close()


@pytest.mark.model
def test_knowledge_search_and_citations_say_a_folder_is_not_connected(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    folder = tmp_path / "clé USB" / "notes"
    folder.mkdir(parents=True)
    (folder / "budget.md").write_text("# Budget\n\nLe budget de 2025 est validé.\n")
    (folder / "plan.txt").write_text("Plan de sauvegarde des serveurs, chaque nuit.\n")
    panel = window.open_knowledge()
    with qtbot.waitSignal(window.indexing.ready, timeout=30000):
        panel.add_folder(folder)
    qtbot.waitUntil(lambda: panel.folders.count() == 1, timeout=10000)
    assert not panel.presence.isVisible()

    folder.rename(folder.with_name("ailleurs"))  # the drive goes away
    panel.folders.setCurrentRow(0)
    panel.reindex_button.click()  # refused: nothing is marked to be read again
    qtbot.waitUntil(lambda: "not connected" in panel.folders.item(0).text(), timeout=15000)
    assert f"{folder} is not connected" in panel.presence.text() and panel.presence.isVisible()
    assert not panel.reindex_button.isEnabled() and panel.remove_button.isEnabled()
    assert documents(window) == 2

    search = SearchWindow(window.ctx, window.opener)
    qtbot.addWidget(search)
    search.search_now("budget validé")
    qtbot.waitUntil(lambda: bool(search.hits), timeout=30000)
    best = search.hits[0].best
    assert best.path.endswith("budget.md") and best.offline
    assert "not connected" in search.results.toPlainText()
    assert "not connected" in source_tip(Citation(1, best))

    with qtbot.waitSignal(window.opener.message, timeout=10000) as said:
        window.opener.open(Citation(1, best))
    message = said.args[0] if said.args else ""
    assert "budget.md cannot be opened now" in message and str(folder) in message
