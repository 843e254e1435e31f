"""The reader processes as each platform needs them: how they start, and what holds their memory.

macOS must not fork after numpy (readers are spawned, as CPython does there) and does not enforce
`RLIMIT_AS`; Windows has neither fork nor rlimits. There a watchdog in the app kills a reader that
goes past the memory limit. Both are simulated here: `sys.platform` patched, or the watchdog
forced on where the kernel would otherwise hold the limit.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import namedtuple
from pathlib import Path

import psutil
import pytest

from lanterne.indexer import file_reader
from lanterne.indexer.file_reader import Passages, ReadJob, Unreadable, read_file
from lanterne.indexer.reader_pool import (
    ReaderPool,
    kernel_limits_memory,
    start_method,
    too_much_memory,
)
from lanterne.indexer.reader_watchdog import MemoryWatchdog, used_bytes

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="forks readers and reads RSS")


def job(path: Path) -> ReadJob:
    return ReadJob(path, None, chunk_chars=1200, chunk_overlap=150)


def huge_text(folder: Path) -> Path:
    """A plain text file whose reading takes several times 250 MB."""
    huge = folder / "huge.txt"
    line = "Une ligne de texte ordinaire, répétée jusqu'à faire beaucoup de mémoire.\n"
    huge.write_text(line * (120 * 1024 * 1024 // len(line)))
    return huge


@pytest.mark.parametrize(
    ("platform", "method", "kernel_limit"),
    [("linux", "forkserver", True), ("darwin", "spawn", False), ("win32", "spawn", False)],
)
def test_each_platform_starts_and_limits_readers_its_own_way(
    monkeypatch: pytest.MonkeyPatch, platform: str, method: str, kernel_limit: bool
) -> None:
    monkeypatch.setattr(sys, "platform", platform)
    assert start_method() == method
    assert kernel_limits_memory() is kernel_limit
    pool = ReaderPool(workers=1, memory_limit_mb=500)
    try:  # no reader starts before the first file
        assert pool.start_method == method
        assert pool.memory_guard == ("address limit" if kernel_limit else "watchdog")
    finally:
        pool.close()
    assert ReaderPool(workers=1, memory_limit_mb=None).memory_guard == "none"


def test_the_watchdog_gives_the_same_reason_as_a_memory_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    note = tmp_path / "note.txt"
    note.write_text("Un texte.\n")

    def exhausted(*_args: object) -> None:
        raise MemoryError

    monkeypatch.setattr(file_reader, "extract", exhausted)
    outcome = read_file(job(note))
    assert isinstance(outcome, Unreadable) and outcome.reason == too_much_memory()


def test_windows_committed_memory_counts_when_its_working_set_was_trimmed() -> None:
    linux = namedtuple("linux", "rss vms")
    windows = namedtuple("windows", "rss vms private")
    assert used_bytes(linux(100, 10**12)) == 100  # macOS's vms counts shared regions: not used
    assert used_bytes(windows(100, 900, 800)) == 800


@linux_only
def test_the_watchdog_kills_a_busy_reader_past_its_limit_and_only_that() -> None:
    def sleeper() -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])

    over, done = sleeper(), sleeper()
    watchdog = MemoryWatchdog(limit_mb=1, interval_s=60.0)  # checked by hand below
    try:
        watchdog.watch(over.pid)
        watchdog.watch(done.pid)
        assert not watchdog.release(done.pid)  # finished its file before the check
        watchdog.check()
        assert over.wait(timeout=10) != 0 and done.poll() is None
        assert watchdog.release(over.pid)
        assert not watchdog.release(over.pid)  # told once: the reader's next file starts clean
    finally:
        watchdog.close()
        for process in (over, done):
            process.kill()
            process.wait()


@linux_only
def test_a_reader_held_by_the_watchdog_reports_too_much_memory(tmp_path: Path) -> None:
    huge = huge_text(tmp_path)
    fine = tmp_path / "fine.txt"
    fine.write_text("Petit fichier.\n")
    # A reader idles at about 110 MB; no address limit is set with the watchdog on.
    pool = ReaderPool(workers=1, memory_limit_mb=250, watchdog=True)
    try:
        assert dict(pool.read([job(huge)])) == {job(huge): Unreadable(too_much_memory())}
        assert pool.pids() == []  # killed, not a MemoryError caught under an address limit
        assert isinstance(dict(pool.read([job(fine)]))[job(fine)], Passages)
    finally:
        pool.close()


@linux_only
def test_readers_spawned_as_on_macos_read_and_stay_within_their_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    huge = huge_text(tmp_path)
    fine = tmp_path / "fine.md"
    fine.write_text("# Réunion\n\nLes installations du serveur sont prévues.\n")
    pool = ReaderPool(workers=1, memory_limit_mb=250)
    try:
        read = dict(pool.read([job(fine)]))[job(fine)]
        assert isinstance(read, Passages) and read.chunks[0].lang == "fr"
        (pid,) = pool.pids()
        reader = psutil.Process(pid)  # spawned: a fresh interpreter, child of this process
        assert reader.ppid() == os.getpid() and "spawn_main" in " ".join(reader.cmdline())
        assert dict(pool.read([job(huge)])) == {job(huge): Unreadable(too_much_memory())}
        assert pool.pids() == []
    finally:
        pool.close()
