from __future__ import annotations

from pathlib import Path

import pytest

from lanterne.indexer.indexing import Indexer
from lanterne.indexer.retriever import Retriever, fts_query
from lanterne.indexer.store import IndexStore


@pytest.fixture
def retriever(tmp_path: Path, docs_folder: Path) -> Retriever:
    store = IndexStore(tmp_path / "index.sqlite3")
    Indexer(store).add_folder(docs_folder)
    return Retriever(store)


def test_best_passage_first_with_its_anchors(retriever: Retriever) -> None:
    results = retriever.search("swap partition", k=3)
    top = results[0]
    assert top.path.endswith("install.md")
    assert top.heading == "Installing Debian › Partitioning"
    assert top.line == 10
    assert top.lang == "en"
    assert "swap partition" in top.snippet
    assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)


def test_french_question_with_accents_and_elisions(retriever: Retriever) -> None:
    top = retriever.search("Quand s'exécute la sauvegarde ?")[0]
    assert top.path.endswith("sauvegardes.html")
    assert top.heading == "Sauvegardes"
    assert top.lang == "fr"
    # Diacritics are folded: a user typing without accents still finds it.
    assert retriever.search("executer sauvegarde execute")[0].path.endswith("sauvegardes.html")


@pytest.mark.parametrize("query", ['"', "C++ AND (", "NEAR(", "*", "-", "tarte OR", "'"])
def test_fts_syntax_typed_by_users_never_breaks_search(retriever: Retriever, query: str) -> None:
    retriever.search(query)  # no sqlite3.OperationalError


def test_query_building() -> None:
    assert fts_query("L'été, à 2 h !") == '"été" OR "2"'
    assert fts_query("?!") is None


def test_k_limits_results(retriever: Retriever) -> None:
    assert len(retriever.search("the la le de", k=2)) <= 2
    assert retriever.search("pommes", k=0) == []
