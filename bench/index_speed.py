"""Index a corpus and time it, against a naive FTS5 loader of the same files in the same run.

    .venv/bin/python bench/index_speed.py [--docs DIR | --corpus large [--limit N]] [--json]

Corpora:
  handbook (default): the Debian Administrator's Handbook, French and English HTML. The
    `debian-handbook` package is fetched once with `apt-get download` and unpacked with `dpkg -x`
    into ~/.cache/lanterne-bench/.
  large: `--limit` real files (default 10,000) copied into a temporary folder: /usr/share/doc
    (text files; small .gz files decompressed; files with no or an unknown suffix get `.txt`),
    then man page sources (/usr/share/man/*/*.gz, decompressed as plain text), then, if the
    machine has too few, handbook pages copied into numbered subfolders with a small edit each.
  --docs DIR: any folder.

Reports a cold index (files/s, MB/s), a re-scan of the unchanged folder, search latency over a
fixed set of French and English questions, and the naive reference: read each text/HTML page,
strip tags with a regex, insert whole pages into an FTS5 table (plain sqlite3, tokenize
'unicode61', one transaction), median of 3 runs. The ratio is Lanterne's cold index time over
the naive load's; target: within 4x. Both run on a warm page cache (every file is read once
before either).
"""

from __future__ import annotations

import argparse
import gzip
import html
import json
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# The repository root, for `bench.*` (as in bench/cancel_latency.py).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.questions import QUESTIONS
from bench.quiet import ForeignLoad
from lanterne.indexer.extract import is_supported
from lanterne.indexer.indexing import Indexer
from lanterne.indexer.reader_pool import available_cores
from lanterne.indexer.retriever import Retriever
from lanterne.indexer.scanner import scan
from lanterne.indexer.store import IndexStore

CACHE = Path.home() / ".cache" / "lanterne-bench"
TARGET_RATIO = 4.0
NAIVE_RUNS = 3
LARGE_FILES = 10_000
# Formats the naive loader cannot read as text (and the large corpus does not copy).
BINARY_SUFFIXES = {".pdf", ".docx", ".pptx", ".xlsx", ".odt", ".ods", ".odp", ".epub"}
MAX_COPY_BYTES = 2 * 1024 * 1024  # larger doc files are skipped: the corpus is about many files
MAX_GZ_BYTES = 256 * 1024  # compressed; larger .gz files are skipped (decompressing is not cheap)
TAG = re.compile(r"<[^>]*>")


def handbook() -> Path:
    html_dir = CACHE / "root" / "usr" / "share" / "doc" / "debian-handbook" / "html"
    if html_dir.is_dir():
        return html_dir
    CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run(["apt-get", "download", "debian-handbook"], cwd=CACHE, check=True)
    deb = next(CACHE.glob("debian-handbook_*.deb"))
    subprocess.run(["dpkg", "-x", str(deb), str(CACHE / "root")], check=True)
    return html_dir


# The large corpus ------------------------------------------------------------------------


def is_text(data: bytes) -> bool:
    return b"\0" not in data[:8192]


def text_name(name: str) -> str:
    """`name` if Lanterne reads it as text or HTML, else `name.txt` (README, changelog.Debian)."""
    path = Path(name)
    if is_supported(path) and path.suffix.lower() not in BINARY_SUFFIXES:
        return name
    return name + ".txt"


class CorpusBuilder:
    def __init__(self, dest: Path, limit: int) -> None:
        self.dest = dest
        self.limit = limit
        self.count = 0
        self.bytes = 0
        self.sources: dict[str, int] = {}

    def full(self) -> bool:
        return self.count >= self.limit

    def put(self, relative: Path, data: bytes, source: str) -> None:
        target = self.dest / relative
        if target.exists():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        self.count += 1
        self.bytes += len(data)
        self.sources[source] = self.sources.get(source, 0) + 1

    def add_docs(self, root: Path = Path("/usr/share/doc")) -> None:
        """/usr/share/doc's text files, one folder per package, the rest of the path flattened
        (so no folder name the scanner skips, such as `examples/build`, hides a file)."""
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            here = Path(dirpath)
            for name in sorted(filenames):
                if self.full():
                    return
                path = here / name
                if name.startswith(".") or path.is_symlink() or not path.is_file():
                    continue
                parts = path.relative_to(root).parts
                if len(parts) < 2:
                    continue
                try:
                    size = path.stat().st_size
                    if name.endswith(".gz"):
                        if size > MAX_GZ_BYTES:
                            continue
                        data = gzip.decompress(path.read_bytes())
                        name = name[:-3]
                    else:
                        if size > MAX_COPY_BYTES:
                            continue
                        data = path.read_bytes()
                except (OSError, EOFError, gzip.BadGzipFile):
                    continue
                if not data.strip() or not is_text(data) or len(data) > MAX_COPY_BYTES:
                    continue
                flat = "__".join([*parts[1:-1], text_name(name)])
                self.put(Path("doc") / parts[0] / flat, data, "usr-share-doc")

    def add_man_pages(self, root: Path = Path("/usr/share/man")) -> None:
        """Man page sources as plain text: English sections first, then the translations."""
        sections = sorted(root.glob("man*"))
        sections += sorted(p for d in sorted(root.iterdir()) for p in d.glob("man*"))
        seen_sections: set[Path] = set()
        for section in sections:
            if section in seen_sections or not section.is_dir():
                continue
            seen_sections.add(section)
            for path in sorted(section.glob("*.gz")):
                if self.full():
                    return
                if path.is_symlink():
                    continue
                try:
                    data = gzip.decompress(path.read_bytes())
                except (OSError, EOFError, gzip.BadGzipFile):
                    continue
                # `.so other.1`: a one-line alias of another page, not a page.
                if data.startswith(b".so ") or not is_text(data):
                    continue
                relative = section.relative_to(root)
                self.put(Path("man") / relative / (path.name[:-3] + ".txt"), data, "man-pages")

    def add_handbook_copies(self) -> None:
        """Handbook pages copied into numbered subfolders, each with one edited paragraph."""
        if self.full():
            return
        html_dir = handbook()
        pages = sorted(p for lang in ("en-US", "fr-FR") for p in (html_dir / lang).glob("*.html"))
        copy = 0
        while not self.full():
            copy += 1
            for page in pages:
                if self.full():
                    return
                data = (
                    page.read_bytes().replace(b"<body", f"<!-- copie {copy} --><body".encode(), 1)
                    + f"<p>Copie {copy} de {page.name}.</p>\n".encode()
                )
                lang = page.parent.name
                self.put(
                    Path("handbook") / f"copie-{copy:03d}" / lang / page.name, data, "handbook"
                )


def build_large_corpus(dest: Path, limit: int) -> dict[str, Any]:
    start = time.perf_counter()
    builder = CorpusBuilder(dest, limit)
    builder.add_docs()
    builder.add_man_pages()
    builder.add_handbook_copies()
    return {
        "corpus_files": builder.count,
        "corpus_sources": builder.sources,
        "corpus_build_s": round(time.perf_counter() - start, 2),
    }


# The naive reference ---------------------------------------------------------------------


def naive_files(folders: list[Path]) -> list[Path]:
    """The text and HTML files under the folders, hidden ones left out."""
    found = []
    for folder in folders:
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                path = Path(dirpath) / name
                if (
                    not name.startswith(".")
                    and is_supported(path)
                    and path.suffix.lower() not in BINARY_SUFFIXES
                ):
                    found.append(path)
    return found


def naive_load(folders: list[Path], db_path: Path) -> tuple[float, float, int]:
    """Walk, read, strip tags with a regex, insert whole pages into FTS5.

    Returns (seconds, CPU seconds of this process, pages)."""
    start = time.perf_counter()
    cpu = time.process_time()
    db = sqlite3.connect(db_path)
    db.execute("CREATE VIRTUAL TABLE pages USING fts5(path UNINDEXED, body, tokenize='unicode61')")
    pages = 0
    with db:
        for path in naive_files(folders):
            text = path.read_bytes().decode("utf-8", errors="replace")
            body = html.unescape(TAG.sub(" ", text))
            db.execute("INSERT INTO pages (path, body) VALUES (?, ?)", [str(path), body])
            pages += 1
    db.close()
    return time.perf_counter() - start, time.process_time() - cpu, pages


# The run ---------------------------------------------------------------------------------


def warm_cache(folders: list[Path]) -> int:
    """Read every candidate file once; returns their total size in bytes."""
    total = 0
    for folder in folders:
        for path, _st in scan(folder):
            total += len(path.read_bytes())
    return total


def measure(docs: list[Path], tmp: Path) -> dict[str, Any]:
    size = warm_cache(docs)
    store = IndexStore(tmp / "index.sqlite3")
    indexer = Indexer(store)
    load = ForeignLoad()
    start = time.perf_counter()
    cpu = time.process_time()
    indexed = 0
    for folder in docs:
        indexed += indexer.add_folder(folder).indexed
    cold = time.perf_counter() - start
    cold_cpu = time.process_time() - cpu
    machine_cpu = load.machine_cpu_s()
    status = store.status()
    start = time.perf_counter()
    for folder in docs:
        indexer.add_folder(folder)
    rescan = time.perf_counter() - start

    retriever = Retriever(store)
    latencies = []
    for _round in range(5):
        for q in QUESTIONS:
            t0 = time.perf_counter()
            retriever.search(q, 5)
            latencies.append((time.perf_counter() - t0) * 1000)
    db_size = sum(p.stat().st_size for p in tmp.glob("index.sqlite3*"))
    indexer.close()

    # The reference is short, so it is run NAIVE_RUNS times (a fresh database each) and the
    # median kept: one stall of this shared machine would otherwise move the ratio a lot.
    naive = [naive_load(docs, tmp / f"naive-{i}.sqlite3") for i in range(NAIVE_RUNS)]
    naive_s = statistics.median(run[0] for run in naive)
    naive_cpu_s = statistics.median(run[1] for run in naive)
    naive_pages = naive[0][2]
    latencies.sort()
    return {
        "folders": [str(d) for d in docs],
        "files": indexed,
        "chunks": status.chunks,
        "errors": len(status.errors),
        "source_mb": round(size / 1e6, 2),
        "cold_index_s": round(cold, 2),
        # CPU time of this process (the writer), and of every process meanwhile: the readers
        # run as a fork server's children, which this process cannot count as its own. On a
        # quiet machine the difference is the readers' work.
        "cold_index_writer_cpu_s": round(cold_cpu, 2),
        "cold_index_cpu_s": round(machine_cpu, 2),
        "cores": available_cores(),
        "files_per_s": round(indexed / cold, 1),
        "mb_per_s": round(size / 1e6 / cold, 2),
        "unchanged_rescan_s": round(rescan, 3),
        "search_ms_p50": round(statistics.median(latencies), 2),
        "search_ms_p95": round(latencies[int(len(latencies) * 0.95) - 1], 2),
        "index_mb": round(db_size / 1e6, 2),
        "naive_files": naive_pages,
        "naive_s": round(naive_s, 3),
        "naive_files_per_s": round(naive_pages / naive_s, 1),
        "naive_cpu_s": round(naive_cpu_s, 3),
        "vs_naive_ratio": round(cold / naive_s, 2),
        "vs_naive_cpu_ratio": round(machine_cpu / naive_cpu_s, 2),
        "target_ratio": TARGET_RATIO,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=Path, help="folder to index (instead of --corpus)")
    parser.add_argument("--corpus", choices=("handbook", "large"), default="handbook")
    parser.add_argument(
        "--limit",
        type=int,
        default=LARGE_FILES,
        help=f"files in the large corpus (default {LARGE_FILES:,}; smaller for a quick check)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="lanterne-index-speed-") as tmp_name:
        tmp = Path(tmp_name)
        extra: dict[str, Any] = {}
        if args.docs is not None:
            corpus, docs = "docs", [args.docs]
        elif args.corpus == "large":
            corpus, docs = "large", [tmp / "corpus"]
            extra = build_large_corpus(docs[0], args.limit)
        else:
            html_dir = handbook()
            corpus, docs = "handbook", [html_dir / "fr-FR", html_dir / "en-US"]
        (tmp / "db").mkdir()
        result = {"corpus": corpus, **extra, **measure(docs, tmp / "db")}

    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:20} {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
