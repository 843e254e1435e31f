"""Holds the file readers to their memory limit where the kernel does not.

Linux enforces `RLIMIT_AS`, so a runaway allocation in a reader becomes a MemoryError and a
recorded reason. macOS accepts the call and then ignores the limit, and Windows has no rlimits
at all: there a thread in the app looks at each busy reader's memory a few times a second and
kills one that went past the limit, before it takes the machine's memory with it. A thread, not
the pool's own loop, because the indexer may pause between files while readers still work.
"""

from __future__ import annotations

import threading
from typing import Any

import psutil

CHECK_INTERVAL_S = 0.1  # a reader allocating fast can overshoot by what it allocates in this time


def used_bytes(info: Any) -> int:
    """The memory a reader holds: its resident set, or on Windows its committed private memory
    when larger (Windows trims a working set under pressure while the commit keeps growing)."""
    return max(int(info.rss), int(getattr(info, "private", 0)))


class MemoryWatchdog:
    def __init__(self, limit_mb: int, interval_s: float = CHECK_INTERVAL_S) -> None:
        self.limit_bytes = limit_mb * 1024 * 1024
        self.interval_s = interval_s
        self._lock = threading.Lock()
        self._watched: dict[int, Any] = {}  # pid -> psutil.Process, while it reads a file
        self._killed: set[int] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, pid: int) -> None:
        """The reader `pid` started on a file."""
        try:
            process = psutil.Process(pid)  # kept: psutil then never kills a reused pid
        except psutil.Error:  # already gone: the pool sees it die
            return
        with self._lock:
            self._watched[pid] = process
            self._killed.discard(pid)
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name="lanterne-reader-watchdog", daemon=True
            )
            self._thread.start()

    def release(self, pid: int) -> bool:
        """The reader `pid` is done with its file; whether the watchdog killed it meanwhile."""
        with self._lock:
            self._watched.pop(pid, None)
            killed = pid in self._killed
            self._killed.discard(pid)
        return killed

    def check(self) -> None:
        """One look at every busy reader; kills those over the limit."""
        with self._lock:
            watched = list(self._watched.items())
        for pid, process in watched:
            try:
                used = used_bytes(process.memory_info())
            except psutil.Error:  # exited: the pool sees it
                continue
            if used <= self.limit_bytes:
                continue
            with self._lock:  # not if its file was done meanwhile: the kill would hit the next
                if pid not in self._watched or self._watched[pid] is not process:
                    continue
                self._killed.add(pid)
                try:
                    process.kill()
                except psutil.Error:
                    continue

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.check()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
