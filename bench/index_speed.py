"""Index the Debian Administrator's Handbook (French and English HTML) and time it.

    .venv/bin/python bench/index_speed.py [--docs DIR] [--json]

Without --docs, the `debian-handbook` package is fetched once with `apt-get download` and
unpacked with `dpkg -x` into ~/.cache/lanterne-bench/. Reports a cold index, a re-scan of the
unchanged folder, and search latency over a fixed set of French and English questions.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from lanterne.indexer.indexing import Indexer
from lanterne.indexer.retriever import Retriever
from lanterne.indexer.store import IndexStore

CACHE = Path.home() / ".cache" / "lanterne-bench"
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
]


def handbook() -> Path:
    html = CACHE / "root" / "usr" / "share" / "doc" / "debian-handbook" / "html"
    if html.is_dir():
        return html
    CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run(["apt-get", "download", "debian-handbook"], cwd=CACHE, check=True)
    deb = next(CACHE.glob("debian-handbook_*.deb"))
    subprocess.run(["dpkg", "-x", str(deb), str(CACHE / "root")], check=True)
    return html


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=Path, help="folder to index (default: the handbook)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.docs is None:
        html = handbook()
        docs = [html / "fr-FR", html / "en-US"]
    else:
        docs = [args.docs]

    with tempfile.TemporaryDirectory() as tmp:
        store = IndexStore(Path(tmp) / "index.sqlite3")
        indexer = Indexer(store)
        start = time.perf_counter()
        indexed = 0
        for folder in docs:
            indexed += indexer.add_folder(folder).indexed
        cold = time.perf_counter() - start
        status = store.status()
        size = sum(
            p.stat().st_size
            for f in docs
            for p in f.rglob("*")
            if p.is_file() and p.suffix.lower() in (".html", ".htm", ".md", ".txt")
        )
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
        db_size = sum(p.stat().st_size for p in Path(tmp).glob("index.sqlite3*"))
        store.close()

    latencies.sort()
    result = {
        "folders": [str(d) for d in docs],
        "files": indexed,
        "chunks": status.chunks,
        "errors": len(status.errors),
        "source_mb": round(size / 1e6, 2),
        "cold_index_s": round(cold, 2),
        "files_per_s": round(indexed / cold, 1),
        "mb_per_s": round(size / 1e6 / cold, 2),
        "unchanged_rescan_s": round(rescan, 3),
        "search_ms_p50": round(statistics.median(latencies), 2),
        "search_ms_p95": round(latencies[int(len(latencies) * 0.95) - 1], 2),
        "index_mb": round(db_size / 1e6, 2),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:20} {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
