from __future__ import annotations

from pathlib import Path

import pytest

from lanterne.foundation.stemming import question_terms
from lanterne.indexer.indexing import Indexer, IndexOptions
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


def test_french_stems_reach_other_forms_of_a_word(retriever: Retriever) -> None:
    # "épluchage"/"coupées" never appear; Snowball's French stems meet "éplucher"/"couper".
    assert retriever.search("épluchage des pommes coupées")[0].path.endswith("tarte.txt")
    # "restaurations" reaches "restaurer" and the heading "Restauration".
    top = retriever.search("restaurations")[0]
    assert top.path.endswith("sauvegardes.html") and top.heading.endswith("Restauration")


def test_english_stems_still_work(retriever: Retriever) -> None:
    assert retriever.search("resizing volumes")[0].path.endswith("install.md")


def test_stop_words_alone_still_search_and_never_dominate(retriever: Retriever) -> None:
    assert retriever.search("le la les")  # nothing but function words: kept
    # With content words present, the function words are dropped from the query.
    assert fts_query("comment restaurer le dossier ?") == '"restaur" OR "dossi" OR "dossier"'


def test_snippet_shows_the_documents_own_words_with_matches_marked(
    retriever: Retriever,
) -> None:
    top = retriever.search("éplucher pommes")[0]
    marked = [top.snippet[a:b] for a, b in top.highlights]
    assert "éplucher" in marked and "pommes" in marked
    assert "\n" not in top.snippet


def test_filters_by_folder_type_language_and_date(retriever: Retriever, docs_folder: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from lanterne.indexer.retriever import SearchFilters

    question = "sauvegarde mirror pommes partition"
    everything = {Path(r.path).name for r in retriever.search(question, k=10)}
    assert everything == {"install.md", "tarte.txt", "sauvegardes.html"}

    def names(**kw: object) -> set[str]:
        results = retriever.search(question, k=10, filters=SearchFilters(**kw))  # type: ignore[arg-type]
        return {Path(r.path).name for r in results}

    root = docs_folder.resolve()
    assert names(folders=(root / "cuisine",)) == {"tarte.txt"}
    # A folder filter is a path prefix on whole names: "cuisine" does not take "cuisine-old".
    assert names(folders=(root / "cuis",)) == set()
    assert names(types=("md", "HTML")) == {"install.md", "sauvegardes.html"}
    assert names(languages=("fr",)) == {"tarte.txt", "sauvegardes.html"}
    now = datetime.now(UTC)
    assert names(modified_after=now - timedelta(hours=1)) == everything
    assert names(modified_before=now - timedelta(hours=1)) == set()


def test_terms_in_most_chunks_are_dropped_from_large_indexes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lanterne.indexer import term_pruning

    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(12):
        (folder / f"note{i}.txt").write_text(f"Réunion budget numéro{i} du service.\n")
    store = IndexStore(tmp_path / "index.sqlite3")
    Indexer(store).add_folder(folder)
    retriever = Retriever(store)

    def dropped(question: str) -> frozenset[str]:
        counts = term_pruning.TermCounts(store.db)
        return term_pruning.plan(question_terms(question), 12, counts).dropped

    monkeypatch.setattr(term_pruning, "PRUNE_FROM", 1)
    # "budget" and "service" are in every chunk; the rarest term always stays.
    assert dropped("service budget numéro3") == {"servic", "budget"}
    assert retriever.search("service budget numéro3")[0].path.endswith("note3.txt")
    assert len(dropped("service budget")) == 1
    assert len(retriever.search("service budget", k=20)) == 12
    # A word found nowhere is no reason to drop every word that matches.
    assert len(retriever.search("service budget introuvable", k=20)) == 12
    # Within the share, terms are kept rarest first up to the postings budget.
    monkeypatch.setattr(term_pruning, "COMMON_SHARE", 1.0)
    monkeypatch.setattr(term_pruning, "POSTINGS_BUDGET", 12)
    assert dropped("service budget numéro3") == {"servic", "budget"}
    monkeypatch.setattr(term_pruning, "POSTINGS_BUDGET", 25)
    assert len(dropped("service budget numéro3")) == 0
    store.close()


def test_dropped_terms_still_rank_the_candidates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Candidates come from the rare term; the common terms then order them, as BM25 would."""
    from lanterne.indexer import term_pruning

    folder = tmp_path / "notes"
    folder.mkdir()
    for i in range(10):
        (folder / f"filler{i}.txt").write_text(f"Menu de la cantine, semaine {i}.\n")
    for i in range(3):
        (folder / f"budget{i}.txt").write_text(f"Le budget du service numéro {i}.\n")
    (folder / "a.txt").write_text("Sauvegarde nocturne des serveurs de fichiers.\n")
    (folder / "b.txt").write_text(
        "Sauvegarde du budget du service, validée par le service et le budget.\n"
    )
    store = IndexStore(tmp_path / "index.sqlite3")
    Indexer(store).add_folder(folder)
    retriever = Retriever(store)
    question = "sauvegarde budget service"
    unpruned = [r.path for r in retriever.search(question, k=2, mode="lexical")]
    assert unpruned[0].endswith("b.txt")
    monkeypatch.setattr(term_pruning, "PRUNE_FROM", 1)
    monkeypatch.setattr(term_pruning, "COMMON_SHARE", 0.2)
    counts = term_pruning.TermCounts(store.db)
    assert term_pruning.plan(question_terms(question), 15, counts).dropped >= {"budget"}
    pruned = Retriever(store).search(question, k=2, mode="lexical")
    # b first, as unpruned; a next (only the rare term brings candidates, so no budget page).
    assert [Path(r.path).name for r in pruned] == ["b.txt", "a.txt"]
    assert pruned[0].score > pruned[1].score > 0
    store.close()


def test_each_matching_document_before_a_second_passage_of_one(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    # One long page saying "rsync" in every section, two short pages saying it once.
    sections = "\n\n".join(
        f"## Part {i}\n\nrsync copies the backup with rsync, rsync again and rsync once more."
        for i in range(8)
    )
    (folder / "manual.md").write_text("# Manual\n\n" + sections)
    (folder / "note-a.md").write_text("# A\n\nThe nightly job runs rsync to the external disk.\n")
    (folder / "note-b.md").write_text("# B\n\nOur laptops are saved by rsync over ssh.\n")
    store = IndexStore(tmp_path / "index.sqlite3")
    Indexer(store, IndexOptions(chunk_chars=120, chunk_overlap=0)).add_folder(folder)
    retriever = Retriever(store)
    top3 = [Path(r.path).name for r in retriever.search("rsync", k=3)]
    assert sorted(top3) == ["manual.md", "note-a.md", "note-b.md"]
    # Fewer documents than k: the rest comes from the same documents, best first.
    top6 = [Path(r.path).name for r in retriever.search("rsync", k=6)]
    assert len(top6) == 6 and top6.count("manual.md") == 4


def test_a_long_pdf_gives_the_model_its_best_pages_not_one_page_per_file(tmp_path: Path) -> None:
    """Four passages for a question answered on pages 2, 5, 7 and 9 of one manual: those four
    pages, not one page per file (a weaker match in a second file would push one out)."""
    from support.office_docs import write_pdf

    folder = tmp_path / "docs"
    folder.mkdir()
    filler = ["Chapter about printers and paper trays, nothing else here."]
    pages = [list(filler) for _ in range(10)]
    for n in (2, 5, 7, 9):
        pages[n - 1] = [f"The rsync backup schedule runs nightly, step {n} of the backup plan."]
    write_pdf(folder / "manual.pdf", pages)
    (folder / "note.txt").write_text("An rsync backup of the laptop once a month.")
    store = IndexStore(tmp_path / "index.sqlite3")
    Indexer(store).add_folder(folder)
    found = Retriever(store).search("rsync backup schedule", k=4)
    manual = sorted(r.page for r in found if r.path.endswith("manual.pdf") and r.page)
    assert manual == [2, 5, 7, 9]
    # The Search box still lists each file once, the manual's other pages under its best one.
    (hit, *rest) = Retriever(store).search_documents("rsync backup schedule", k=5)
    assert hit.best.path.endswith("manual.pdf") and hit.more_count == 3
    assert sorted(r.page or 0 for r in (hit.best, *hit.more)) == [2, 5, 7, 9]
    assert [h.best.path.endswith("note.txt") for h in rest] == [True]
    store.close()
