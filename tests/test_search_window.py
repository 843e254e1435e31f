"""The Search box: documents, each once with its best passage and what else of it matched, found
by meaning across languages with nothing set, in French and English, without blocking the GUI."""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from lanterne.context import AppContext
from lanterne.desktop.interface_language import switch_language
from lanterne.foundation.settings import Settings
from lanterne.indexer.retriever import Retriever

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

    from lanterne.desktop.main_window import MainWindow

SECTIONS = [
    "## Mise à jour {n}\n\nLa mise à jour du système se fait avec apt upgrade, étape {n} : "
    "vérifier les paquets à mettre à jour puis relancer les services concernés.\n"
    + "Texte de remplissage sur un autre sujet, la cuisine et le jardin. "
    * 12
    for n in range(1, 7)
]


def _documents(folder: Path) -> None:
    folder.mkdir()
    (folder / "mises-a-jour.md").write_text("# Guide\n\n" + "\n".join(SECTIONS), encoding="utf-8")
    (folder / "four.txt").write_text(
        "La tarte aux pommes cuit quarante minutes dans un four préchauffé à 180 degrés.",
        encoding="utf-8",
    )
    (folder / "dhcp.md").write_text(
        "# Réseau\n\nLe serveur DHCP attribue automatiquement les adresses IP des postes.",
        encoding="utf-8",
    )


@pytest.mark.model  # the built-in embedder
def test_documents_are_listed_once_with_their_other_passages(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    _documents(folder)
    ctx = AppContext(Settings())
    try:
        indexer = ctx.indexer()
        indexer.add_folder(folder)
        indexer.close()
        from lanterne.embedding_model import configured_embedder
        from lanterne.indexer.embedding_worker import EmbeddingWorker

        embedder, problem = configured_embedder(ctx.settings)
        assert embedder is not None, problem
        store = ctx.open_store()
        EmbeddingWorker(store, embedder).run()
        retriever = Retriever(store, embedder)
        hits = retriever.search_documents("mise à jour du système avec apt upgrade", k=5)
        paths = [Path(h.best.path).name for h in hits]
        assert paths[0] == "mises-a-jour.md" and len(paths) == len(set(paths))
        assert hits[0].more_count >= 3 and len(hits[0].more) == 3  # MORE_SHOWN
        assert all(m.chunk_id != hits[0].best.chunk_id for m in hits[0].more)
        # `ask` still gets passages: each document's best before a second one of any.
        passages = retriever.search("mise à jour du système avec apt upgrade", k=5)
        firsts = [Path(p.path).name for p in passages[: len(hits)]]
        assert len(set(firsts)) == len(hits) == len(firsts)
        store.close()
    finally:
        ctx.close()


@pytest.mark.model  # the built-in embedder
def test_the_search_box_lists_documents_in_both_languages(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    folder = tmp_path / "docs"
    _documents(folder)
    with qtbot.waitSignal(window.indexing.folders_changed, timeout=30000):
        window.add_folder(folder)
    search = window.open_search()
    assert search.isVisible() and search.windowTitle() == "Search documents"
    # English question, French documents, nothing configured: found by meaning.
    ticks: list[float] = []
    start = time.monotonic()
    search.query.setText("which server gives out IP addresses automatically?")
    while search.busy() or not search.hits:
        qtbot.wait(20)
        ticks.append(time.monotonic())
        assert time.monotonic() - start < 120
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert not gaps or max(gaps) < 1.0  # the GUI never waited on the search
    assert Path(search.hits[0].best.path).name == "dhcp.md"
    assert "Words only" not in search.status.text()

    search.search_now("mise à jour du système avec apt upgrade")
    qtbot.waitUntil(lambda: not search.busy(), timeout=60000)
    names = [Path(h.best.path).name for h in search.hits]
    assert names[0] == "mises-a-jour.md" and len(names) == len(set(names))
    text = search.results.toPlainText()
    assert "more passages in this document" in text
    assert text.count("mises-a-jour.md") == 1
    search._on_link(_url("more:0"))  # the "N more passages" link shows them
    assert search.results.toPlainText().count("Mise à jour") >= 4

    switch_language("fr")
    try:
        assert search.windowTitle() == "Rechercher dans les documents"
        assert "autres passages dans ce document" in search.results.toPlainText()
    finally:
        switch_language("en")


def _url(text: str):  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QUrl

    return QUrl(text)


def test_the_status_bar_says_how_far_search_by_meaning_has_got(window: MainWindow) -> None:
    from lanterne.indexer.embedding_worker import EmbeddingProgress

    label = window.meaning_label
    window.indexing.embedding.emit(EmbeddingProgress(1240, 3128))
    assert label.isVisible() and label.text() == "Search by meaning: 1,240 of 3,128 passages"
    switch_language("fr")
    try:
        assert label.text() == "Recherche par le sens\u00a0: 1\u202f240 sur 3\u202f128 passages"
    finally:
        switch_language("en")
    window.indexing.embedding.emit(EmbeddingProgress(3128, 3128))
    assert not label.isVisible()
