"""Search latency and memory on large indexes: 10k, 100k and 1M chunks of realistic text.

    .venv/bin/python bench/query_latency.py [--sizes 10000,100000,1000000] [--queries N]
        [--rounds R] [--k K] [--no-cache] [--json]

Each index is written through the real store (`IndexStore.add_folder` and `write_document`), so
the real schema, triggers and FTS tables are used. Its chunks are made from the Debian
Administrator's Handbook (French and English HTML, fetched as by `index_speed.py`): sentences of
one section, shuffled and recombined with a seeded generator into passages of 800-1,200
characters, 50 per synthetic document, so that a million chunks are not copies of one another
while their vocabulary and term frequencies stay those of real documentation.

An index is kept in ~/.cache/lanterne-bench/query-latency/<key>/<size>/ and reused; the key hashes
the schema that a new `IndexStore` creates (tables, triggers, FTS configuration) and this
generator's version, so a changed schema builds anew (old keys are listed, never deleted).
`--no-cache` builds in a temporary folder instead.

The questions are run in a fresh process per size, so that building the index does not count in
its peak RSS: one warm-up pass over all questions, then `--rounds` timed passes. Targets (the
issue's, on 2 cores): p95 <= 50 ms at 100k chunks and <= 150 ms at 1M.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.quiet import ForeignLoad
from lanterne.indexer.chunker import Chunk
from lanterne.indexer.retriever import Retriever, SearchResult
from lanterne.indexer.store import IndexStore

GENERATOR_VERSION = "1"  # bump when the synthetic text or documents change
CACHE_DIR = Path.home() / ".cache" / "lanterne-bench" / "query-latency"
DEFAULT_SIZES = [10_000, 100_000, 1_000_000]
TARGETS_MS = {100_000: 50.0, 1_000_000: 150.0}  # p95, from the issue
CHUNKS_PER_DOC = 50
MIN_CHARS, MAX_CHARS = 800, 1200
SEED = 20240611

QUESTIONS = [
    "Comment configurer un miroir APT ?",
    "How do I set up a firewall with nftables?",
    "Qu'est-ce que LVM et comment agrandir un volume ?",
    "How are Debian releases named?",
    "Comment installer un serveur LDAP ?",
    "backup with rsync",
    "sauvegarde des données",
    "How to compile a kernel?",
    "sources.list security updates",
    "Quel est le rôle de debconf ?",
    "Comment créer un RAID logiciel avec mdadm ?",
    "How do I configure a static IP address?",
    "Où sont stockés les journaux système ?",
    "What is the difference between apt and aptitude?",
    "Comment partager des fichiers avec Samba ?",
    "How to set up an NFS server",
    "Comment mettre à jour vers une nouvelle version de Debian ?",
    "What does the postinst script of a package do?",
    "configuration du serveur de messagerie Postfix",
    "How can I run a virtual machine with KVM and libvirt?",
    "Comment signer un paquet avec GnuPG ?",
    "How to configure the X11 display server",
    "Comment gérer les utilisateurs et les groupes ?",
    "What is systemd and how do I enable a service?",
    "Comment configurer le proxy HTTP Squid ?",
    "DNS server with bind9 zone file",
    "Comment fonctionne le démarrage avec GRUB ?",
    "How to mount a filesystem at boot with fstab",
    "Qu'est-ce qu'un paquet source et comment le recompiler ?",
    "How does AppArmor confine a program?",
    "Comment planifier une tâche avec cron ?",
    "Apache virtual host configuration",
    "Comment chiffrer une partition ?",
    "How do I print with CUPS?",
    "Quelles sont les différences entre stable, testing et unstable ?",
    "How are dependencies and conflicts between packages resolved?",
    "Comment surveiller une machine avec Munin ?",
    "OpenVPN certificate authority easy-rsa",
    "Comment installer Debian sur un poste de travail ?",
    "How do I report a bug in Debian?",
]

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


# Querying (in a fresh process per index) --------------------------------------------------


def search(retriever: Retriever, question: str, k: int) -> list[SearchResult]:
    """The one call of the retriever that is timed; new keyword arguments go here."""
    return retriever.search(question, k)


def _status_mb(field: str) -> float | None:
    """A field of /proc/self/status (VmRSS, VmHWM) in MB; None off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # kB
    except (OSError, ValueError, IndexError):
        pass
    return None


def _peak_rss_mb() -> float:
    """This process's peak RSS. VmHWM first: Linux carries the parent's peak across fork+exec
    into ru_maxrss (the builder's, here), while VmHWM belongs to the process's own memory."""
    hwm = _status_mb("VmHWM")
    if hwm is not None:
        return hwm
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / 1024 / (1024 if sys.platform == "darwin" else 1)  # bytes on macOS, KiB else


def _percentile(sorted_ms: list[float], q: float) -> float:
    return sorted_ms[max(0, math.ceil(q * len(sorted_ms)) - 1)]


def query_worker(db: Path, questions: list[str], rounds: int, k: int) -> dict[str, Any]:
    store = IndexStore(db)
    retriever = Retriever(store)
    rss_before = _status_mb("VmRSS") or float("nan")
    t0 = time.perf_counter()
    search(retriever, questions[0], k)
    first_ms = (time.perf_counter() - t0) * 1000
    for q in questions:  # warm-up
        search(retriever, q, k)
    load = ForeignLoad()
    latencies: list[float] = []
    per_question: dict[str, list[float]] = {q: [] for q in questions}
    empty = 0
    for _round in range(rounds):
        for q in questions:
            t0 = time.perf_counter()
            results = search(retriever, q, k)
            ms = (time.perf_counter() - t0) * 1000
            latencies.append(ms)
            per_question[q].append(ms)
            empty += not results
    foreign = load.cores()
    peak = _peak_rss_mb()  # this process does nothing but open the index and query it
    store.close()
    latencies.sort()
    slowest = sorted(per_question, key=lambda q: statistics.median(per_question[q]), reverse=True)
    return {
        "queries": len(latencies),
        "empty_results": empty,
        "first_ms": round(first_ms, 2),
        "p50_ms": round(_percentile(latencies, 0.50), 2),
        "p95_ms": round(_percentile(latencies, 0.95), 2),
        "max_ms": round(latencies[-1], 2),
        "slowest_questions": slowest[:3],
        "rss_before_queries_mb": round(rss_before, 1),
        "peak_rss_mb": round(peak, 1),
        "query_rss_growth_mb": round(peak - rss_before, 1),
        "foreign_cpu_cores": round(foreign, 2),
    }


def run_worker(db: Path, queries: int, rounds: int, k: int) -> dict[str, Any]:
    out = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--worker",
            str(db),
            "--queries",
            str(queries),
            "--rounds",
            str(rounds),
            "--k",
            str(k),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


# Main -------------------------------------------------------------------------------------


def _questions(n: int) -> list[str]:
    return [QUESTIONS[i % len(QUESTIONS)] for i in range(max(1, n))]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes",
        default=",".join(str(s) for s in DEFAULT_SIZES),
        help="index sizes in chunks, comma-separated (default: %(default)s)",
    )
    parser.add_argument("--queries", type=int, default=len(QUESTIONS), help="distinct questions")
    parser.add_argument("--rounds", type=int, default=5, help="timed passes over the questions")
    parser.add_argument("--k", type=int, default=5, help="results per search (app default: 5)")
    parser.add_argument("--no-cache", action="store_true", help="build in a temporary folder")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker is not None:
        print(json.dumps(query_worker(args.worker, _questions(args.queries), args.rounds, args.k)))
        return 0

    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    key = schema_key()
    loaded: dict[str, list[list[Section]]] = {}

    def sections() -> dict[str, list[list[Section]]]:
        if not loaded:
            from bench.index_speed import handbook  # imports the whole indexer: not in workers

            loaded.update(handbook_sections(handbook()))
        return loaded

    results = []
    for size in sizes:
        if args.no_cache:
            with tempfile.TemporaryDirectory() as tmp:
                db = Path(tmp) / "index.sqlite3"
                build_s, reused = build_index(db, size, sections()), False
                mb = db_mb(db)
                query = run_worker(db, args.queries, args.rounds, args.k)
        else:
            db, build_s, reused = cached_index(size, key, sections)
            mb = db_mb(db)
            query = run_worker(db, args.queries, args.rounds, args.k)
        target = TARGETS_MS.get(size)
        results.append(
            {
                "chunks": size,
                "build_s": round(build_s, 1),
                "build_chunks_per_s": round(size / build_s),
                "reused_cache": reused,
                "index_mb": round(mb, 1),
                **query,
                "target_p95_ms": target,
                "meets_target": None if target is None else query["p95_ms"] <= target,
            }
        )
        if not args.json:
            r = results[-1]
            print(
                f"{size:>9} chunks  build {r['build_s']:>7.1f} s"
                f"{' (cached)' if reused else '         '}  {r['index_mb']:>8.1f} MB  "
                f"p50 {r['p50_ms']:>7.2f}  p95 {r['p95_ms']:>7.2f}  max {r['max_ms']:>7.2f} ms  "
                f"first {r['first_ms']:>7.2f} ms  peak RSS {r['peak_rss_mb']:>6.1f} MB"
                + (f"  target p95 <= {target:.0f} ms" if target else "")
                + ("" if r["empty_results"] == 0 else f"  ({r['empty_results']} empty)")
                + (
                    f"  [others used {r['foreign_cpu_cores']} cores]"
                    if r["foreign_cpu_cores"] >= 0.5
                    else ""
                ),
                flush=True,
            )
    report = {
        "sqlite": sqlite3.sqlite_version,
        "cpus": os.cpu_count(),
        "schema_key": key,
        "k": args.k,
        "questions": args.queries,
        "rounds": args.rounds,
        "sizes": results,
    }
    stale = [] if args.no_cache else stale_caches(key)
    if args.json:
        report["stale_caches"] = [{"path": str(p), "gb": round(gb, 2)} for p, gb in stale]
        print(json.dumps(report, indent=2))
    else:
        for r in results:
            print(f"slowest at {r['chunks']}: " + " | ".join(r["slowest_questions"]))
        for path, gb in stale:
            print(f"note: {path} ({gb:.2f} GB) is an index for another schema; delete it by hand")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
