"""Freshness: from a file saved in a watched folder to `lanterne search` finding it.

    .venv/bin/python bench/freshness.py [--trials 40] [--seed-files 200] [--burst 2000] [--json]

`lanterne index watch` runs as its own process on a temporary folder (LANTERNE_HOME in a
temporary directory too). Each trial, after a random pause of 0.2-1 s, saves one change that
carries a made-up word: a new file (create), new content in an existing file (modify), an
existing file under a new name (rename: its word must lead to the new path and no longer to the
old one), or a deleted file (delete: its word must no longer lead to it). From the moment the
change is on disk, the index is polled through the library, as `lanterne search` reads it
(`AppContext().open_store()` and `Retriever.search` in this process, so no process start-up is
counted), until the result shows. One `lanterne search --json` CLI call is then timed on its own
and checked to agree. Target: p95 <= 2 s. The temporary home sets no embedding model, so both
search by words only (lexical), as `lanterne search` does by default.

The burst writes `--burst` files at once into a new subfolder, then deletes them all, and times
each until the library's search finds every one of them (then none), polling the store's
document count and confirming with the search; each file's own word is then searched, and
`lanterne index status --json` checks that no file was lost (document count, pending, errors).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The repository root, for `bench.*` (as in bench/cancel_latency.py).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.quiet import ForeignLoad
from lanterne.context import AppContext
from lanterne.foundation.paths import HOME_ENV
from lanterne.indexer.retriever import Retriever

LANTERNE = Path(sys.executable).with_name("lanterne")
TARGET_P95_S = 2.0
OPERATIONS = ("create", "modify", "rename", "delete")
FILLER = [
    "Le compte rendu de la réunion du comité de pilotage reprend les décisions sur le budget.",
    "Les sauvegardes du serveur de fichiers tournent chaque nuit et sont gardées trente jours.",
    "The quarterly report lists the open tickets, the planned releases and the known issues.",
    "Please send the signed contract back before the end of the month so invoicing can start.",
    "La procédure d'accueil des nouveaux arrivants détaille les accès, le matériel et la charte.",
    "The migration plan moves the mail server first, then the shared calendars and contacts.",
]
SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]


class Words:
    """Made-up words that appear nowhere else: syllables, then a letter no stemmer removes."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def new(self) -> str:
        while True:
            word = "".join(self.rng.choice(SYLLABLES) for _ in range(4)) + "qx"
            if word not in self.used:
                self.used.add(word)
                return word


def note_text(rng: random.Random, word: str, lines: int = 6) -> str:
    body = [rng.choice(FILLER) for _ in range(lines)]
    body.insert(rng.randrange(len(body) + 1), f"Code du dossier : {word}.")
    return "\n".join(body) + "\n"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"n": 0, "p50": None, "p95": None, "max": None}
    return {
        "n": len(values),
        "p50": round(statistics.median(values), 4),
        "p95": round(percentile(values, 0.95), 4),
        "max": round(max(values), 4),
    }


class Index:
    """The index as `lanterne search` opens it, polled in this process."""

    def __init__(self) -> None:
        # search_cmd: `ctx.open_store()`, then `Retriever(store, embedder).search(...)`, where the
        # embedder is None without an embedding model (none in the temporary home): words only.
        # The store is an ordinary IndexStore connection, not opened read-only; this one only
        # reads.
        self.store = AppContext().open_store()
        self.retriever = Retriever(self.store)

    def paths(self, word: str, k: int = 10) -> set[str]:
        """The paths of the passages a search for `word` returns (the one call to `search`)."""
        return {r.path for r in self.retriever.search(word, k)}

    def shows(self, change: Change) -> bool:
        return shows(change, self.paths(change.word))

    def close(self) -> None:
        self.store.close()


def cli(*args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    start = time.perf_counter()
    result = subprocess.run([str(LANTERNE), *args], capture_output=True, text=True, timeout=120)
    return result, time.perf_counter() - start


def cli_search_paths(word: str) -> tuple[set[str], float]:
    result, seconds = cli("search", word, "--json")
    if result.returncode != 0:
        raise RuntimeError(f"lanterne search failed: {result.stderr.strip()}")
    return {r["path"] for r in json.loads(result.stdout)["results"]}, seconds


def cli_status() -> dict[str, Any]:
    result, _seconds = cli("index", "status", "--json")
    if result.returncode != 0:
        raise RuntimeError(f"lanterne index status failed: {result.stderr.strip()}")
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def wait_for(check: Callable[[], bool], since: float, timeout: float, interval: float) -> float:
    """Seconds from `since` until `check()` holds (the end of the check that saw it), or -1."""
    while True:
        ok = check()
        now = time.perf_counter()
        if ok:
            return now - since
        if now - since > timeout:
            return -1.0
        time.sleep(interval)


class Watcher:
    """`lanterne index watch --json` in its own process; its stdout is drained on a thread."""

    def __init__(self, log: Path) -> None:
        self.log = log.open("w")
        self.proc = subprocess.Popen(
            [str(LANTERNE), "index", "watch", "--json"],
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        self.ready = threading.Event()
        self.batches: list[float] = []  # perf_counter() when each "updated" line arrived
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        decoder = json.JSONDecoder()
        buffer = ""
        for line in self.proc.stdout:
            buffer += line
            while True:
                stripped = buffer.lstrip()
                try:
                    event, end = decoder.raw_decode(stripped)
                except ValueError:
                    break
                buffer = stripped[end:]
                if event.get("event") == "ready":
                    self.ready.set()
                elif event.get("event") == "updated":
                    self.batches.append(time.perf_counter())

    def first_batch_after(self, since: float) -> float | None:
        """Seconds from `since` to the first batch the watcher reported after it."""
        later = [t for t in list(self.batches) if t >= since]
        return later[0] - since if later else None

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not self.ready.wait(0.1):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"lanterne index watch did not start; see {self.log.name}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.thread.join(timeout=5)
        self.log.close()
        return self.proc.returncode


@dataclass(frozen=True)
class Change:
    saved: float  # perf_counter() once the change is on disk
    word: str
    present: Path | None  # the search for `word` must return this path…
    absent: Path | None  # …and must not return this one


def save_change(
    op: str, docs: Path, files: dict[Path, str], words: Words, rng: random.Random
) -> Change:
    """Save one change of kind `op` to the folder; `files` follows each file's word."""
    if op == "create":
        path = docs / f"note-{words.new()}.txt"
        word = words.new()
        path.write_text(note_text(rng, word), encoding="utf-8")
        saved = time.perf_counter()
        files[path] = word
        return Change(saved, word, present=path, absent=None)
    path = rng.choice(sorted(files))
    if op == "modify":
        word = words.new()
        path.write_text(note_text(rng, word), encoding="utf-8")
        saved = time.perf_counter()
        files[path] = word
        return Change(saved, word, present=path, absent=None)
    word = files.pop(path)
    if op == "rename":
        target = path.with_name(f"renamed-{words.new()}.txt")
        path.rename(target)
        saved = time.perf_counter()
        files[target] = word
        return Change(saved, word, present=target, absent=path)
    path.unlink()
    return Change(time.perf_counter(), word, present=None, absent=path)


def shows(change: Change, paths: set[str]) -> bool:
    """Whether search results (their paths) show the change."""
    if change.present is not None and str(change.present) not in paths:
        return False
    return change.absent is None or str(change.absent) not in paths


def burst(
    index: Index,
    docs: Path,
    count: int,
    baseline: int,
    words: Words,
    rng: random.Random,
    timeout: float,
) -> dict[str, Any]:
    """`count` files written at once into a new subfolder, then all deleted."""
    folder = docs / "burst"
    shared = words.new()  # in every burst file: its search must return all of them
    unique = [words.new() for _ in range(count)]
    texts = [note_text(rng, f"{shared} {word}", lines=8) for word in unique]

    prefix = str(folder) + os.sep
    search_s: list[float] = []  # how long one search for all of them takes

    def burst_paths() -> set[str]:
        t0 = time.perf_counter()
        found = {p for p in index.paths(shared, count + 10) if p.startswith(prefix)}
        search_s.append(time.perf_counter() - t0)
        return found

    def indexed() -> int:
        """Documents the index holds as indexed (passages committed with them)."""
        return index.store.status().documents

    # Polled cheaply with the store's document count, and confirmed by the search itself: a
    # search with k >= count builds a snippet for every result, too slow to poll with.
    began = time.perf_counter()
    folder.mkdir()
    for i, text in enumerate(texts):
        (folder / f"lot-{i:05d}.txt").write_text(text, encoding="utf-8")
    written = time.perf_counter()
    found_s = wait_for(
        lambda: indexed() >= baseline + count and len(burst_paths()) == count, began, timeout, 0.05
    )
    searchable = len(burst_paths())
    # Each file under its own word too (one search each), then the CLI's own count.
    missing_words = sum(1 for w in unique if not index.paths(w, 3))
    after_add = cli_status()

    deleting = time.perf_counter()
    shutil.rmtree(folder)
    removed = time.perf_counter()
    gone_s = wait_for(lambda: indexed() <= baseline and not burst_paths(), deleting, timeout, 0.05)
    left = len(burst_paths())
    after_delete = cli_status()
    return {
        "files": count,
        "search_s_max": round(max(search_s), 3),
        "create": {
            "write_s": round(written - began, 3),
            "all_found_s": None if found_s < 0 else round(found_s, 3),
            "after_last_write_s": None if found_s < 0 else round(found_s - (written - began), 3),
            "searchable": searchable,
            "missing_unique_words": missing_words,
            "status_documents": after_add["documents"],
            "expected_documents": baseline + count,
            "status_pending": after_add["pending"],
            "status_errors": len(after_add["errors"]),
        },
        "delete": {
            "delete_s": round(removed - deleting, 3),
            "all_gone_s": None if gone_s < 0 else round(gone_s, 3),
            "after_last_delete_s": None if gone_s < 0 else round(gone_s - (removed - deleting), 3),
            "still_found": left,
            "status_documents": after_delete["documents"],
            "expected_documents": baseline,
            "status_pending": after_delete["pending"],
        },
    }


def seed(docs: Path, count: int, words: Words, rng: random.Random) -> dict[Path, str]:
    files = {}
    for i in range(count):
        word = words.new()
        path = docs / f"seed-{i:04d}.txt"
        path.write_text(note_text(rng, word), encoding="utf-8")
        files[path] = word
    return files


def measure(args: argparse.Namespace, root: Path) -> dict[str, Any]:
    rng = random.Random(args.seed)
    words = Words(rng)
    docs = root / "docs"
    docs.mkdir()
    files = seed(docs, args.seed_files, words, rng)
    added, add_s = cli("index", "add", str(docs), "--json")
    if added.returncode != 0:
        raise RuntimeError(f"lanterne index add failed: {added.stderr.strip()}")

    load = ForeignLoad()
    watcher = Watcher(root / "watch.log")
    index = Index()
    try:
        watcher.wait_ready(120)
        ops = [OPERATIONS[i % len(OPERATIONS)] for i in range(args.trials)]
        rng.shuffle(ops)
        latency: dict[str, list[float]] = {op: [] for op in OPERATIONS}
        reported: dict[str, list[float]] = {op: [] for op in OPERATIONS}
        cli_s: list[float] = []
        timeouts: list[str] = []
        disagreements = 0
        for op in ops:
            time.sleep(rng.uniform(0.2, 1.0))
            change = save_change(op, docs, files, words, rng)
            check = functools.partial(index.shows, change)
            seconds = wait_for(check, change.saved, args.timeout, args.poll)
            if seconds < 0:
                timeouts.append(f"{op} {change.word}")
                continue
            latency[op].append(seconds)
            paths, call_s = cli_search_paths(change.word)
            cli_s.append(call_s)
            disagreements += not shows(change, paths)
            # The watcher prints its line once the whole batch is applied, which can be after
            # the change became visible: looked up only now, after the CLI call.
            batch_s = watcher.first_batch_after(change.saved)
            if batch_s is not None:
                reported[op].append(batch_s)
        burst_result = (
            burst(index, docs, args.burst, len(files), words, rng, args.burst_timeout)
            if args.burst
            else None
        )
    finally:
        index.close()
        code = watcher.stop()
    foreign = load.cores()
    everything = [s for op in OPERATIONS for s in latency[op]]
    overall = summary(everything)
    p95 = overall["p95"]
    return {
        "trials": args.trials,
        "seed_files": args.seed_files,
        "initial_add_s": round(add_s, 2),
        "poll_interval_s": args.poll,
        "latency_s": {**{op: summary(latency[op]) for op in OPERATIONS}, "all": overall},
        # From the save to the watcher's "updated" line (printed once its batch is committed).
        "watch_reported_s": {
            **{op: summary(reported[op]) for op in OPERATIONS},
            "all": summary([s for op in OPERATIONS for s in reported[op]]),
        },
        "timeouts": timeouts,
        "target_p95_s": TARGET_P95_S,
        "meets_target": p95 is not None and p95 <= TARGET_P95_S and not timeouts,
        "cli_search_call_s": summary(cli_s),
        "cli_disagreements": disagreements,
        "burst": burst_result,
        "watch_batches": len(watcher.batches),
        "watch_exit_code": code,
        "foreign_cpu_cores": round(foreign, 2),
    }


def fmt(value: object) -> str:
    return "—" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def print_table(result: dict[str, Any]) -> None:
    print(
        f"{result['trials']} trials on a folder of {result['seed_files']} files; "
        f"polled every {result['poll_interval_s']} s through the library"
    )
    print(
        f"{'operation':10} {'n':>4} {'p50 s':>8} {'p95 s':>8} {'max s':>8}"
        f"   watch reported: {'p50 s':>8} {'p95 s':>8}"
    )
    for op, s in result["latency_s"].items():
        w = result["watch_reported_s"][op]
        print(
            f"{op:10} {s['n']:4} {fmt(s['p50']):>8} {fmt(s['p95']):>8} {fmt(s['max']):>8}"
            f"   {'':16}{fmt(w['p50']):>8} {fmt(w['p95']):>8}"
        )
    c = result["cli_search_call_s"]
    print(
        f"{'CLI call':10} {c['n']:4} {fmt(c['p50']):>8} {fmt(c['p95']):>8} {fmt(c['max']):>8}"
        f"   (one `lanterne search --json`, disagreements: {result['cli_disagreements']})"
    )
    verdict = "meets" if result["meets_target"] else "misses"
    print(
        f"target p95 <= {result['target_p95_s']:g} s: {verdict}"
        + (f"; timed out: {', '.join(result['timeouts'])}" if result["timeouts"] else "")
    )
    b = result["burst"]
    if b:
        c, d = b["create"], b["delete"]
        print(
            f"burst of {b['files']} files: written in {fmt(c['write_s'])} s, all found after "
            f"{fmt(c['all_found_s'])} s ({fmt(c['after_last_write_s'])} s after the last write); "
            f"searchable {c['searchable']}, unique words missing {c['missing_unique_words']}, "
            f"status {c['status_documents']} documents (expected {c['expected_documents']}), "
            f"{c['status_pending']} pending, {c['status_errors']} errors"
        )
        print(
            f"burst deleted in {fmt(d['delete_s'])} s, all gone after {fmt(d['all_gone_s'])} s "
            f"({fmt(d['after_last_delete_s'])} s after the last delete); still found "
            f"{d['still_found']}, status {d['status_documents']} documents "
            f"(expected {d['expected_documents']}), {d['status_pending']} pending; "
            f"one search for all of them took up to {fmt(b['search_s_max'])} s"
        )
    print(
        f"watch: {result['watch_batches']} batches, exit code {result['watch_exit_code']}; "
        f"other processes' CPU during the run: {result['foreign_cpu_cores']} cores"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--seed-files", type=int, default=200, help="files in the folder at start")
    parser.add_argument("--burst", type=int, default=2000, help="files in the burst (0: none)")
    parser.add_argument("--poll", type=float, default=0.01, help="seconds between two searches")
    parser.add_argument("--timeout", type=float, default=30.0, help="per trial, seconds")
    parser.add_argument("--burst-timeout", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.seed_files < args.trials:
        parser.error("--seed-files must be at least --trials (modify, rename, delete need files)")

    with tempfile.TemporaryDirectory(prefix="lanterne-freshness-") as tmp:
        root = Path(tmp)
        # The watcher, the CLI calls and this process's AppContext all find the index here.
        os.environ[HOME_ENV] = str(root / "home")
        result = measure(args, root)
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print_table(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
