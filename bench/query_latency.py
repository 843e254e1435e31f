"""Search latency and memory on large indexes: 10k, 100k and 1M chunks of realistic text.

    .venv/bin/python bench/query_latency.py [--sizes 10000,100000,1000000] [--queries N]
        [--rounds R] [--k K] [--no-cache] [--json]

The indexes (realistic chunks recombined from the Debian handbook, written through the real
store, cached by schema) come from `bench/synthetic_index.py`. `--no-cache` builds in a
temporary folder instead.

The questions are run in a fresh process per size, so that building the index does not count in
its peak RSS: one warm-up pass over all questions, then `--rounds` timed passes. Targets (the
issue's, on 2 cores): p95 <= 50 ms at 100k chunks and <= 150 ms at 1M.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.questions import QUESTIONS as HANDBOOK_QUESTIONS
from bench.quiet import ForeignLoad
from bench.synthetic_index import (
    Section,
    build_index,
    cached_index,
    db_mb,
    handbook_sections,
    schema_key,
    stale_caches,
)
from lanterne.indexer.retriever import Retriever, SearchResult
from lanterne.indexer.store import IndexStore

DEFAULT_SIZES = [10_000, 100_000, 1_000_000]
TARGETS_MS = {100_000: 50.0, 1_000_000: 150.0}  # p95, from the issue

QUESTIONS = [
    *HANDBOOK_QUESTIONS,
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
