"""Retrieval quality with the shipped defaults, French and English: recall@5 and MRR@5.

    .venv/bin/python bench/retrieval_quality.py [--json] [--only tuning|held-out|held-out-2]
        [--no-vector-cache]

Nothing is configured: the built-in embedding model (multilingual-e5-small, as every install
ships it), hybrid search, the default passage size. Two question sets, kept apart:

- **tuning** (every change to retrieval was tried on these): 80 questions on the Debian
  Administrator's Handbook, HTML (`bench/data/handbook_questions.jsonl`, 40 FR + 40 EN, each
  naming the page that answers it), and 48 on the Debian Reference as PDF, ~260 pages a language
  (`bench/data/reference_pdf_questions.jsonl`, 24 FR + 24 EN, the page in each edition);
- **held-out** (written apart, by someone who did not see the retrieval code or its results; run
  once untouched, then used for tuning like the first set: section-level diversification, not
  kept; a missing word's nearest index word, kept): 64
  questions on the Developer's Reference and the New Maintainers' Guide, HTML and PDF
  (`bench/data/heldout_questions.jsonl`, 32 FR + 32 EN: the chapter file and section number,
  and the page in each PDF);
- **held-out 2** (written apart in the same way, never run while tuning): 64 questions on the
  Debian FAQ (HTML chapters by section, and its PDF by page) and the Installation Guide (HTML,
  one file per section; no PDF) (`bench/data/heldout2_questions.jsonl`, 32 FR + 32 EN).

Settings: same language (both editions indexed, found when a result comes from the question's
language edition), French questions over the English edition only, English questions over the
French edition only; for PDFs a page counts within +-1. Each setting is scored as people meet it:
- `ask`: the passages `lanterne ask` gives the model (`Retriever.search`, k=5);
- `search`: `lanterne search` and the Search box (`Retriever.search_documents`, 5 documents:
  a document is found when its best passage, or one of the other passages listed under it, is
  the right page or section);
- `lexical`, `dense`: each side of the hybrid alone, for comparison;
- `naive`: whole pages in FTS5 (unicode61, words OR-ed), for the HTML settings.
Held-out HTML questions count only when the right section is found (its number in the passage's
heading path), not just the chapter file: the Developer's Reference has ten chapter files.

Passages are embedded once (a setting's vectors are reused by the others), and kept on disk next
to the model between runs (`--no-vector-cache` to time the model afresh).
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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lanterne.engine import builtin_embedder
from lanterne.engine.embedder import Embedder
from lanterne.indexer.embedding_worker import EmbeddingWorker
from lanterne.indexer.indexing import Indexer
from lanterne.indexer.retriever import Mode, Retriever
from lanterne.indexer.store import IndexStore

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.corpora import CACHE, handbook, held_out, held_out_2, reference_pdfs
from bench.models import embedding_model

DATA = Path(__file__).with_name("data")
K = 5
_TAG = re.compile(r"<[^>]+>")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Target:
    """Where a right answer lies: a file in a folder, and maybe a page (+-1) or a section."""

    folder: Path
    name: str
    page: int | None = None
    section: str | None = None

    def matches(self, path: str, page: int | None, heading: str) -> bool:
        p = Path(path)
        if p.name != self.name or p.parent != self.folder:
            return False
        if self.page is not None and (page is None or abs(page - self.page) > 1):
            return False
        return self.section is None or has_section(heading, self.section)


def has_section(heading: str, section: str) -> bool:
    """Whether a heading path ("5. Managing Packages > 5.5. Picking...") is in section "5.5"
    or one of its subsections."""
    return any(
        part.strip().startswith((section + ".", section + " ")) or part.strip() == section
        for part in re.split(r"[>›]", heading)
    )


@dataclass
class Setting:
    name: str
    folders: list[Path]
    questions: list[dict[str, object]]
    targets: Callable[[dict[str, object]], list[Target]]
    naive: bool  # HTML pages: also score the naive baseline


def load(name: str) -> list[dict[str, object]]:
    path = DATA / name
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def scores(ranks: list[int | None]) -> dict[str, float]:
    """recall@K and MRR (over the first K) from the rank of the first right result."""
    n = len(ranks) or 1
    return {
        "recall_at_5": round(sum(1 for r in ranks if r is not None and r <= K) / n, 3),
        "mrr": round(sum(1.0 / r for r in ranks if r is not None and r <= K) / n, 3),
    }


def first_rank(found: list[list[tuple[str, int | None, str]]], targets: list[Target]) -> int | None:
    """1-based position of the first result (each a group of places) that hits a target."""
    for i, places in enumerate(found, start=1):
        if any(t.matches(*place) for place in places for t in targets):
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
        self.queries: dict[str, np.ndarray] = {}
        self.fresh = 0
        self.cache = cache
        if cache is not None and cache.exists():
            with np.load(cache) as stored:
                self.seen = dict(zip(stored["keys"].tolist(), stored["vectors"], strict=True))

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        return self._remembered(texts, texts, self.embedder.embed_documents)

    def embed_query(self, text: str) -> np.ndarray:
        if text not in self.queries:
            self.queries[text] = self.embedder.embed_query(text)
        return self.queries[text]

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Words, embedded as questions (indexer/word_neighbours.py): kept like passages."""
        return self._remembered(texts, ["query\n" + t for t in texts], self.embedder.embed_queries)

    def _remembered(
        self,
        texts: list[str],
        names: list[str],
        embed: Callable[[list[str]], np.ndarray],
    ) -> np.ndarray:
        """`embed(texts)`, computing only the texts whose name was never seen."""
        keys = [self._key(name) for name in names]
        new = {key: t for key, t in zip(keys, texts, strict=True) if key not in self.seen}
        if new:
            self.seen.update(zip(new, embed(list(new.values())), strict=True))
            self.fresh += len(new)
        return np.stack([self.seen[key] for key in keys])

    def save(self) -> None:
        if self.cache is not None and self.fresh:
            keys = np.array(list(self.seen))
            np.savez(self.cache, keys=keys, vectors=np.stack(list(self.seen.values())))


def vector_cache(model: Path) -> Path:
    digest = builtin_embedder.sha256_of(model)[:16]
    (CACHE / "models").mkdir(parents=True, exist_ok=True)
    return CACHE / "models" / f"{model.stem}-{digest}.vectors.npz"


def evaluate(setting: Setting, embedder: MemoEmbedder, work: Path) -> dict[str, object]:
    """One setting: index its folders (words, then vectors), score every method."""
    store = IndexStore(work / "index.sqlite3")
    indexer = Indexer(store)
    start = time.perf_counter()
    for folder in setting.folders:
        indexer.add_folder(folder)
    lexical_s = time.perf_counter() - start
    indexer.stop_readers()
    start = time.perf_counter()
    embedded = EmbeddingWorker(store, embedder, batch=32).run()
    embed_s = time.perf_counter() - start
    naive = naive_index(setting.folders, work / "naive.sqlite3") if setting.naive else None
    retriever = Retriever(store, embedder)
    methods = ["ask", "search", "lexical", "dense"] + (["naive"] if naive else [])
    ranks: dict[str, list[int | None]] = {m: [] for m in methods}
    misses: dict[str, list[str]] = {"ask": [], "search": []}
    for q in setting.questions:
        question, targets = str(q["question"]), setting.targets(q)
        modes: tuple[tuple[str, Mode], ...] = (("ask", "hybrid"), ("lexical", "lexical"))
        modes += (("dense", "dense"),)
        for method, mode in modes:
            passages = retriever.search(question, K, mode=mode)
            ranks[method].append(
                first_rank([[(r.path, r.page, r.heading)] for r in passages], targets)
            )
        hits = retriever.search_documents(question, K)
        groups = [[(r.path, r.page, r.heading) for r in (h.best, *h.more)] for h in hits]
        ranks["search"].append(first_rank(groups, targets))
        if naive is not None:
            paths = naive_search(naive, question)
            ranks["naive"].append(first_rank([[(p, None, "")] for p in paths], targets))
        for method in misses:
            rank = ranks[method][-1]
            if rank is None:
                misses[method].append(str(q["id"]))
    explored = explore(retriever, setting) if EXPLORE else None
    store.close()
    if naive is not None:
        naive.close()
    return {
        **({"explored": explored} if explored else {}),
        "questions": len(setting.questions),
        "chunks": embedded,
        "lexical_index_s": round(lexical_s, 1),
        "embedding_s": round(embed_s, 1),
        **{m: scores(r) for m, r in ranks.items()},
        "misses": misses,
    }


EXPLORE = False  # --explore: try the fusion's weights on the tuning set
GRID = [{"RRF_K": k, "DENSE_WEIGHT": dense} for k in (60, 20) for dense in (1.0, 0.7, 0.5)]


def explore(retriever: Retriever, setting: Setting) -> dict[str, dict[str, object]]:
    """ask and search scores of each point of GRID (the retriever's module constants)."""
    import lanterne.indexer.retriever as module

    defaults = {name: getattr(module, name) for name in GRID[0]}
    out: dict[str, dict[str, object]] = {}
    try:
        for point in GRID:
            for name, value in point.items():
                setattr(module, name, value)
            ask: list[int | None] = []
            search: list[int | None] = []
            for q in setting.questions:
                question, targets = str(q["question"]), setting.targets(q)
                passages = retriever.search(question, K)
                ask.append(first_rank([[(r.path, r.page, r.heading)] for r in passages], targets))
                hits = retriever.search_documents(question, K)
                groups = [[(r.path, r.page, r.heading) for r in (h.best, *h.more)] for h in hits]
                search.append(first_rank(groups, targets))
            name = " ".join(f"{k}={v}" for k, v in point.items())
            out[name] = {"ask": scores(ask), "search": scores(search)}
    finally:
        for name, value in defaults.items():
            setattr(module, name, value)
    return out


def tuning_settings() -> list[Setting]:
    html = handbook()
    edition = {"fr": html / "fr-FR", "en": html / "en-US"}
    questions = load("handbook_questions.jsonl")
    french = [q for q in questions if q["lang"] == "fr"]
    english = [q for q in questions if q["lang"] == "en"]

    def page_in(lang: str | None) -> Callable[[dict[str, object]], list[Target]]:
        return lambda q: [Target(edition[lang or str(q["lang"])], str(q["page"]))]

    pdfs = reference_pdfs()
    pdf_questions = load("reference_pdf_questions.jsonl")

    def pdf_page(q: dict[str, object]) -> list[Target]:
        lang = str(q["lang"])
        return [Target(pdfs[lang].parent, pdfs[lang].name, int(str(q[f"pdf_page_{lang}"])))]

    return [
        Setting(
            "handbook HTML, same language", list(edition.values()), questions, page_in(None), True
        ),
        Setting(
            "handbook HTML, FR questions, EN edition", [edition["en"]], french, page_in("en"), True
        ),
        Setting(
            "handbook HTML, EN questions, FR edition", [edition["fr"]], english, page_in("fr"), True
        ),
        Setting(
            "Debian Reference PDFs (FR + EN), page +-1",
            [pdfs["en"].parent],
            pdf_questions,
            pdf_page,
            False,
        ),
    ]


def held_out_settings(work: Path) -> list[Setting]:
    """The first held-out set: the Developer's Reference and the New Maintainers' Guide."""
    return _held_out(
        "held-out",
        held_out(work / "corpus"),
        load("heldout_questions.jsonl"),
        lambda q: "developers-reference.pdf" if q["corpus"] == "devref" else "maint-guide.pdf",
    )


def held_out_2_settings(work: Path) -> list[Setting]:
    """The second held-out set: the Debian FAQ (HTML chapters, PDF) and the Installation Guide
    (HTML sections only: its questions have no PDF page)."""
    return _held_out(
        "held-out 2",
        held_out_2(work / "corpus-2"),
        load("heldout2_questions.jsonl"),
        lambda _q: "debian-faq.pdf",
    )


def _held_out(
    label: str,
    layout: dict[str, dict[str, Path]],
    questions: list[dict[str, object]],
    pdf_name: Callable[[dict[str, object]], str],
) -> list[Setting]:
    french = [q for q in questions if q["lang"] == "fr"]
    english = [q for q in questions if q["lang"] == "en"]

    def html_file(name: str, lang: str) -> str:
        return name.replace(".en.html", ".fr.html") if lang == "fr" else name

    def section_in(lang: str | None) -> Callable[[dict[str, object]], list[Target]]:
        def targets(q: dict[str, object]) -> list[Target]:
            edition = lang or str(q["lang"])
            name = html_file(str(q["html_file"]), edition)
            return [Target(layout["html"][edition], name, None, str(q["section"]))]

        return targets

    def pdf_page(lang: str | None) -> Callable[[dict[str, object]], list[Target]]:
        def targets(q: dict[str, object]) -> list[Target]:
            edition = lang or str(q["lang"])
            page = int(str(q[f"pdf_page_{edition}"]))
            return [Target(layout["pdf"][edition], pdf_name(q), page)]

        return targets

    def paged(qs: list[dict[str, object]]) -> list[dict[str, object]]:
        return [q for q in qs if q.get("pdf_page_en") is not None]

    html, pdf = layout["html"], layout["pdf"]
    return [
        Setting(
            f"{label} HTML, same language",
            [html["en"], html["fr"]],
            questions,
            section_in(None),
            False,  # sections: whole pages cannot be scored on them
        ),
        Setting(
            f"{label} HTML, FR questions, EN edition", [html["en"]], french, section_in("en"), False
        ),
        Setting(
            f"{label} HTML, EN questions, FR edition",
            [html["fr"]],
            english,
            section_in("fr"),
            False,
        ),
        Setting(
            f"{label} PDFs (FR + EN), page +-1",
            [pdf["en"], pdf["fr"]],
            paged(questions),
            pdf_page(None),
            False,
        ),
        Setting(
            f"{label} PDFs, FR questions, EN PDFs",
            [pdf["en"]],
            paged(french),
            pdf_page("en"),
            False,
        ),
        Setting(
            f"{label} PDFs, EN questions, FR PDFs",
            [pdf["fr"]],
            paged(english),
            pdf_page("fr"),
            False,
        ),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--only", choices=("tuning", "held-out", "held-out-2"))
    parser.add_argument(
        "--no-vector-cache",
        action="store_true",
        help="embed every passage afresh (to time the model) instead of reusing cached vectors",
    )
    parser.add_argument(
        "--explore", action="store_true", help="also score the fusion's weights (tuning set only)"
    )
    parser.add_argument("--setting", help="only the settings whose name holds this text")
    args = parser.parse_args()
    if args.explore:
        global EXPLORE
        EXPLORE, args.only = True, "tuning"
    model = Embedder(embedding_model())
    embedder = MemoEmbedder(model, None if args.no_vector_cache else vector_cache(model.path))
    report: dict[str, object] = {"model": embedder.name, "device": model.device, "k": K}
    with tempfile.TemporaryDirectory() as tmp:
        sets: dict[str, list[Setting]] = {}
        if args.only in (None, "tuning"):
            sets["tuning"] = tuning_settings()
        if args.only in (None, "held-out"):
            sets["held-out"] = held_out_settings(Path(tmp))
        if args.only in (None, "held-out-2"):
            sets["held-out-2"] = held_out_2_settings(Path(tmp))
        for set_name, settings in sets.items():
            results: dict[str, object] = {}
            for setting in settings:
                if args.setting and args.setting not in setting.name:
                    continue
                with tempfile.TemporaryDirectory(dir=tmp) as work:
                    results[setting.name] = evaluate(setting, embedder, Path(work))
                if not args.json:
                    print_row(setting.name, results[setting.name])
                embedder.save()
            report[set_name] = results
    report["embedded_afresh"] = embedder.fresh
    model.close()
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(f"passages embedded afresh: {report['embedded_afresh']} (the rest from the cache)")
    return 0


def print_row(name: str, row: object) -> None:
    assert isinstance(row, dict)
    methods = [m for m in ("ask", "search", "lexical", "dense", "naive") if m in row]
    cells = " ".join(f"{m} {row[m]['recall_at_5']:.3f}/{row[m]['mrr']:.3f}" for m in methods)
    print(f"{name}: {row['questions']} questions, {row['chunks']} chunks (recall@5/MRR)")
    print(f"    {cells}", flush=True)
    for point, result in row.get("explored", {}).items():
        a, b = result["ask"], result["search"]
        print(
            f"      {point}: ask {a['recall_at_5']:.3f}/{a['mrr']:.3f} "
            f"search {b['recall_at_5']:.3f}/{b['mrr']:.3f}",
            flush=True,
        )


if __name__ == "__main__":
    raise SystemExit(main())
