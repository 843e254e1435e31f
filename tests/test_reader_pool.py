"""The reader processes: parallel, and each file held to a time and a memory budget."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from lanterne.indexer.file_reader import Passages, ReadJob, Unchanged, Unreadable
from lanterne.indexer.reader_pool import ReaderPool

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and rlimits are POSIX")


def job(path: Path, previous: str | None = None) -> ReadJob:
    return ReadJob(path, previous, chunk_chars=1200, chunk_overlap=150)


def slow_file(path: Path) -> Path:
    """A file that keeps its reader busy for seconds: 40 MB of paragraphs to chunk, tell the
    language of and stem (a named pipe no longer serves: it is refused without a wait)."""
    paragraph = "Ce paragraphe ordinaire parle des sauvegardes du service et de la nuit.\n\n"
    path.write_text(paragraph * (40 * 1024 * 1024 // len(paragraph)), "utf-8")
    return path


def test_files_come_back_read_and_stemmed(tmp_path: Path) -> None:
    paths = []
    for i in range(6):
        path = tmp_path / f"note{i}.md"
        path.write_text(f"# Réunion {i}\n\nLes installations du serveur numéro {i} sont prévues.\n")
        paths.append(path)
    pool = ReaderPool(workers=2)
    try:
        outcomes = dict(pool.read(job(p) for p in paths))
        assert {j.path for j in outcomes} == set(paths)
        first = outcomes[job(paths[0])]
        assert isinstance(first, Passages)
        assert first.chunks[0].lang == "fr"
        assert "install" in first.stems[0][0].split()
        # Same content as indexed: nothing to redo, whichever reader gets it.
        again = dict(pool.read([job(paths[0], first.sha256)]))
        assert again == {job(paths[0], first.sha256): Unchanged(first.version)}
        assert first.version.size == paths[0].stat().st_size
    finally:
        pool.close()


@posix_only
def test_a_file_past_its_time_budget_is_given_up_and_the_rest_goes_on(tmp_path: Path) -> None:
    stuck = slow_file(tmp_path / "stuck.txt")
    fine = tmp_path / "fine.txt"
    fine.write_text("Ce fichier se lit sans peine.\n")
    pool = ReaderPool(workers=1, time_limit_s=1.0)
    try:
        start = time.monotonic()
        outcomes = dict(pool.read([job(stuck), job(fine)]))
        assert time.monotonic() - start < 10
        reason = outcomes[job(stuck)]
        assert isinstance(reason, Unreadable) and "longer than 1 s" in reason.reason
        assert isinstance(outcomes[job(fine)], Passages)
    finally:
        pool.close()


@posix_only
def test_a_reader_that_dies_costs_only_its_file(tmp_path: Path) -> None:
    stuck = slow_file(tmp_path / "stuck.txt")
    fine = tmp_path / "fine.txt"
    fine.write_text("Un autre fichier, sans histoire.\n")
    pool = ReaderPool(workers=1, time_limit_s=60.0)
    try:
        list(pool.read([job(fine)]))  # one reader up, idle
        (pid,) = pool.pids()
        threading.Timer(0.5, os.kill, (pid, signal.SIGKILL)).start()
        outcomes = dict(pool.read([job(stuck), job(fine)]))
        reason = outcomes[job(stuck)]
        assert isinstance(reason, Unreadable) and f"signal {signal.SIGKILL}" in reason.reason
        assert isinstance(outcomes[job(fine)], Passages)
    finally:
        pool.close()


@posix_only
def test_a_file_past_its_memory_budget_gets_a_reason(tmp_path: Path) -> None:
    huge = tmp_path / "huge.txt"
    line = "Une ligne de texte ordinaire, répétée jusqu'à faire beaucoup de mémoire.\n"
    huge.write_text(line * (120 * 1024 * 1024 // len(line)))
    fine = tmp_path / "fine.txt"
    fine.write_text("Petit fichier.\n")
    pool = ReaderPool(workers=1, memory_limit_mb=400)
    try:
        outcomes = dict(pool.read([job(huge), job(fine)]))
        reason = outcomes[job(huge)]
        assert isinstance(reason, Unreadable)
        assert "memory" in reason.reason, reason.reason
        assert isinstance(outcomes[job(fine)], Passages)
    finally:
        pool.close()
