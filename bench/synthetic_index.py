"""A large index of realistic chunks for latency benchmarks, built once and cached.

Chunks are made from the Debian Administrator's Handbook (French and English HTML, fetched as by
`index_speed.py`): sentences of one section, shuffled and recombined with a seeded generator into
passages of 800-1,200 characters, 50 per synthetic document, so that a million chunks are not
copies of one another while their vocabulary and term frequencies stay those of real
documentation. Each index is written through the real store (`IndexStore.add_folder` and
`write_document`), so the real schema, triggers and FTS tables are used.

An index is kept in ~/.cache/lanterne-bench/query-latency/<key>/<size>/ and reused; the key hashes
the schema that a new `IndexStore` creates (tables, triggers, FTS configuration) and this
generator's version, so a changed schema builds anew (old keys are listed, never deleted).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from lanterne.indexer.chunker import Chunk
from lanterne.indexer.store import IndexStore

GENERATOR_VERSION = "1"  # bump when the synthetic text or documents change
CACHE_DIR = Path.home() / ".cache" / "lanterne-bench" / "query-latency"
CHUNKS_PER_DOC = 50
MIN_CHARS, MAX_CHARS = 800, 1200
SEED = 20240611


_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_SPACES = re.compile(r"\s+")
_NUMBERING = re.compile(r"^[\dA-Z]+(\.\d+)*\.\s+")
_FR_WORDS = frozenset(
    ["le", "la", "les", "des", "est", "une", "un", "et", "du", "pour", "dans", "sur", "avec", "que"]
)
_EN_WORDS = frozenset(
    ["the", "is", "and", "of", "to", "in", "for", "with", "that", "are", "this", "on", "can", "be"]
)


# Source text ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    chapter: str
    heading: str
    sentences: tuple[str, ...]


def _lang_of(text: str) -> str | None:
    words = text.lower().split()
    fr = sum(w in _FR_WORDS for w in words)
    en = sum(w in _EN_WORDS for w in words)
    if fr > 2 * en and fr >= 2:
        return "fr"
    if en > 2 * fr and en >= 2:
        return "en"
    return None


def _text(element: Any) -> str:
    return _SPACES.sub(" ", element.text_content()).strip()


def handbook_sections(html: Path) -> dict[str, list[list[Section]]]:
    """Per language, per handbook page: its sections' sentences (paragraphs in that language)."""
    import lxml.html  # here, so that the query process does not carry it

    pages: dict[str, list[list[Section]]] = {"fr": [], "en": []}
    for folder in ("fr-FR", "en-US"):
        for file in sorted((html / folder).glob("*.html")):
            tree = lxml.html.parse(str(file))
            chapter, heading = file.stem, ""
            found: dict[str, dict[tuple[str, str], list[str]]] = {"fr": {}, "en": {}}
            for el in tree.iter("h1", "h2", "h3", "h4", "div"):
                if el.tag in ("h1", "h2"):
                    chapter = heading = _NUMBERING.sub("", _text(el))
                elif el.tag in ("h3", "h4"):
                    heading = _NUMBERING.sub("", _text(el))
                elif "para" in (el.get("class") or "").split():
                    text = _text(el)
                    lang = _lang_of(text)
                    if lang is None:
                        continue
                    sentences = [s for s in _SENTENCE_END.split(text) if 20 <= len(s) <= 600]
                    found[lang].setdefault((chapter, heading), []).extend(sentences)
            for lang, sections in found.items():
                page = [
                    Section(ch, hd, tuple(sentences))
                    for (ch, hd), sentences in sections.items()
                    if sentences
                ]
                if sum(len(s.sentences) for s in page) >= 20:
                    pages[lang].append(page)
    return pages


# Synthetic documents ----------------------------------------------------------------------


@dataclass(frozen=True)
class SyntheticDocument:
    folder: Path
    path: Path
    title: str
    lang: str
    chunks: list[Chunk]


FOLDERS = [
    Path("/home/camille/Documents"),
    Path("/home/camille/Téléchargements"),
    Path("/mnt/nas/archives/informatique"),
]
_SUBDIRS = ["admin", "réseau", "serveurs", "notes", "formations/debian", "docs/infra", "2023"]
_EXTS = ["pdf", "pdf", "html", "docx", "md", "odt", "epub", "txt"]


def _passage(rng: random.Random, page: list[Section], section: Section) -> str:
    """800-1,200 characters: the section's sentences shuffled, then others from the same page."""
    target = rng.randint(MIN_CHARS, MAX_CHARS)
    pool = list(section.sentences)
    rng.shuffle(pool)
    parts: list[str] = []
    size = 0
    misses = 0
    while size < target and misses < 40:
        if not pool:
            pool = list(rng.choice(page).sentences)
            rng.shuffle(pool)
        sentence = pool.pop()
        if size + len(sentence) + 1 > MAX_CHARS:
            misses += 1
            if size >= MIN_CHARS:
                break
            continue
        parts.append(sentence)
        size += len(sentence) + 1
    # two or three paragraphs, as the chunker joins blocks
    cuts = sorted(rng.sample(range(1, len(parts)), min(len(parts) - 1, rng.randint(1, 2))))
    paragraphs = [
        " ".join(parts[a:b]) for a, b in zip([0, *cuts], [*cuts, len(parts)], strict=True)
    ]
    return "\n\n".join(paragraphs)


def synthetic_documents(
    sections: dict[str, list[list[Section]]], chunks: int, seed: int = SEED
) -> Iterator[SyntheticDocument]:
    rng = random.Random(seed)
    made = 0
    n = 0
    while made < chunks:
        lang = "fr" if rng.random() < 0.55 else "en"
        page = rng.choice(sections[lang])
        ext = rng.choice(_EXTS)
        count = min(CHUNKS_PER_DOC, chunks - made)
        title = page[0].chapter
        slug = re.sub(r"\W+", "-", title.lower()).strip("-")[:40] or "document"
        folder = rng.choice(FOLDERS)
        path = folder / rng.choice(_SUBDIRS) / f"{slug}-{n:06d}.{ext}"
        doc_chunks = []
        for ordinal in range(count):
            # mostly this page's sections in order of reading, sometimes a jump elsewhere
            if rng.random() < 0.8:
                section = page[min(len(page) - 1, ordinal * len(page) // count)]
            else:
                section = rng.choice(page)
            doc_chunks.append(
                Chunk(
                    ordinal=ordinal,
                    text=_passage(rng, page, section),
                    heading_path=(section.chapter, section.heading)
                    if section.heading != section.chapter
                    else (section.chapter,),
                    page=ordinal // 2 + 1 if ext in ("pdf", "odt", "epub") else None,
                    line=ordinal * 18 + 1 if ext in ("md", "txt") else None,
                    lang="fr" if lang == "fr" else "en",
                )
            )
        yield SyntheticDocument(folder, path, title, lang, doc_chunks)
        made += count
        n += 1


# Building ---------------------------------------------------------------------------------


def schema_key() -> str:
    """A hash of what a new store creates (tables, indexes, triggers, FTS config) + generator."""
    with tempfile.TemporaryDirectory() as tmp:
        store = IndexStore(Path(tmp) / "index.sqlite3")
        rows = store.db.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name"
        ).fetchall()
        store.close()
    digest = hashlib.sha256(repr((rows, GENERATOR_VERSION)).encode())
    return digest.hexdigest()[:12]


def build_index(db: Path, size: int, sections: dict[str, list[list[Section]]]) -> float:
    """Write `size` chunks through the store; returns the seconds it took (text generation too)."""
    store = IndexStore(db)
    folder_ids = {folder: store.add_folder(folder) for folder in FOLDERS}
    start = time.perf_counter()
    mtime = 1_700_000_000_000_000_000
    step = max(size // 20, 50_000)  # progress on stderr every 5% of large builds
    done = 0
    for i, doc in enumerate(synthetic_documents(sections, size)):
        raw = "\n".join(c.text for c in doc.chunks).encode()
        store.write_document(
            folder_ids[doc.folder],
            doc.path,
            size=len(raw) + 4096,
            mtime_ns=mtime + i * 1_000_000_000,
            sha256=hashlib.sha256(raw).hexdigest(),
            title=doc.title,
            lang=doc.lang,
            chunks=doc.chunks,
        )
        done += len(doc.chunks)
        if done % step < len(doc.chunks) and done < size:
            spent = time.perf_counter() - start
            print(
                f"building {size}: {done} chunks in {spent:.0f} s, "
                f"about {spent * (size - done) / done:.0f} s to go",
                file=sys.stderr,
                flush=True,
            )
    store.close()  # checkpoints the WAL into the database
    elapsed = time.perf_counter() - start
    check = IndexStore(db)
    written = check.status().chunks
    check.close()
    if written != size:
        raise RuntimeError(f"{db}: {written} chunks written, {size} expected")
    return elapsed


def db_mb(db: Path) -> float:
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*")) / 1e6


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def cached_index(
    size: int, key: str, sections_of: Callable[[], dict[str, list[list[Section]]]]
) -> tuple[Path, float, bool]:
    """The index of `size` chunks for this schema: (path, seconds its build took, reused)."""
    final = CACHE_DIR / key / str(size)
    db = final / "index.sqlite3"
    meta = final / "build.json"
    for left in (CACHE_DIR / key).glob(f"{size}.building-*"):  # builds cut short
        pid = left.name.rpartition("-")[2]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(left, ignore_errors=True)
    if meta.is_file() and db.is_file():
        return db, float(json.loads(meta.read_text())["build_s"]), True
    work = CACHE_DIR / key / f"{size}.building-{os.getpid()}"
    build_s = build_index(work / "index.sqlite3", size, sections_of())
    (work / "build.json").write_text(json.dumps({"build_s": build_s, "chunks": size}))
    shutil.rmtree(final, ignore_errors=True)
    work.rename(final)
    return db, build_s, False


def stale_caches(key: str) -> list[tuple[Path, float]]:
    if not CACHE_DIR.is_dir():
        return []
    return [
        (d, sum(p.stat().st_size for p in d.rglob("*") if p.is_file()) / 1e9)
        for d in sorted(CACHE_DIR.iterdir())
        if d.is_dir() and d.name != key
    ]
