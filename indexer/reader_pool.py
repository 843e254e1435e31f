"""Files are read in worker processes: every core extracts, and a hostile file is contained.

A thread stuck in a C parser (a PDF that loops, a zip bomb) can be neither stopped nor bounded,
a process can: each file gets a time budget after which its reader is killed and replaced, and
a memory limit that turns a runaway allocation into a recorded reason (an address-space limit on
Linux; elsewhere the kernel does not enforce one and indexer/reader_watchdog.py kills the reader).
A reader that crashes takes only its current file with it. Readers run at a lower priority so
that indexing never starves the chat model or the GUI.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess

from lanterne.foundation import language
from lanterne.indexer import reasons
from lanterne.indexer.file_reader import ReadJob, ReadOutcome, Unreadable, read_file
from lanterne.indexer.reader_watchdog import MemoryWatchdog

_NICENESS = 10


def available_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def start_method(platform: str | None = None) -> str:
    """How readers start. Linux: forked from a server process that imported the extractors once,
    without the app's threads (a plain fork would copy a held lock). macOS: spawned, as CPython
    does by default there: forking after numpy, Accelerate or Objective-C started is unsafe, and
    the fork server forks too. Windows: spawn is all there is."""
    platform = platform or sys.platform
    if platform in ("darwin", "win32"):
        return "spawn"
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def kernel_limits_memory(platform: str | None = None) -> bool:
    """Whether `RLIMIT_AS` holds a reader: macOS accepts the call but does not enforce it, and
    Windows has no resource limits; the watchdog stands in for it there."""
    return (platform or sys.platform) not in ("darwin", "win32")


def too_much_memory() -> str:
    """The reason of a file whose reading passed the memory limit, whichever way it was caught
    (the same sentence as a MemoryError in indexer/file_reader.py)."""
    return reasons.worded(reasons.TOO_MUCH_MEMORY)


def _limit_resources(memory_limit_mb: int | None) -> None:
    if hasattr(os, "nice"):
        os.nice(_NICENESS)
    if memory_limit_mb is None:
        return
    try:
        import resource
    except ImportError:  # Windows: the pool's watchdog holds the limit instead
        return
    limit = memory_limit_mb * 1024 * 1024
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _serve(conn: Connection, address_limit_mb: int | None) -> None:
    _limit_resources(address_limit_mb)
    language.preload()  # already loaded where the fork server preloaded it
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        conn.send(read_file(job))


def _context() -> BaseContext:
    method = start_method()
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        context.set_forkserver_preload(["lanterne.indexer.reader_preload"])
    return context


@dataclass
class _Reader:
    process: BaseProcess
    conn: Connection
    job: ReadJob | None = None
    started: float = 0.0


class ReaderPool:
    def __init__(
        self,
        workers: int,
        time_limit_s: float = 120.0,
        memory_limit_mb: int | None = 2048,
        *,
        watchdog: bool | None = None,
    ) -> None:
        """`watchdog`: hold readers to `memory_limit_mb` by watching them from here instead of
        by `RLIMIT_AS`; None chooses by platform (on where the kernel does not enforce it)."""
        self.workers = max(1, workers)
        self.time_limit_s = time_limit_s
        self.memory_limit_mb = memory_limit_mb
        self._context = _context()
        self._idle: list[_Reader] = []
        if watchdog is None:
            watchdog = not kernel_limits_memory()
        self._watchdog = (
            MemoryWatchdog(memory_limit_mb) if watchdog and memory_limit_mb is not None else None
        )
        self._address_limit_mb = None if watchdog else memory_limit_mb
        self.start_method = self._context.get_start_method()
        self.memory_guard = (  # for diagnostics: what holds a reader to memory_limit_mb
            "none" if memory_limit_mb is None else "watchdog" if watchdog else "address limit"
        )

    def _start(self) -> _Reader:
        parent, child = self._context.Pipe()
        process = self._context.Process(  # type: ignore[attr-defined]
            target=_serve,
            args=(child, self._address_limit_mb),
            name="lanterne-reader",
            daemon=True,  # never outlives the app, even if close() is never reached
        )
        process.start()
        child.close()
        return _Reader(process, parent)

    def read(self, jobs: Iterable[ReadJob]) -> Iterator[tuple[ReadJob, ReadOutcome]]:
        """Each job with its outcome, in the order they finish."""
        todo = iter(jobs)
        busy: dict[Connection, _Reader] = {}
        try:
            while True:
                while len(busy) < self.workers and (job := next(todo, None)) is not None:
                    reader = self._dispatch(job)
                    busy[reader.conn] = reader
                if not busy:
                    return
                deadline = min(r.started for r in busy.values()) + self.time_limit_s
                for conn in wait(list(busy), timeout=max(0.0, deadline - time.monotonic())):
                    yield self._collect(busy.pop(conn))  # type: ignore[call-overload]
                now = time.monotonic()
                for conn, reader in list(busy.items()):
                    if now - reader.started >= self.time_limit_s:
                        del busy[conn]
                        yield self._expire(reader)
        finally:  # the caller stopped early: readers still on a job are of no further use
            for reader in busy.values():
                self._discard(reader)

    def _dispatch(self, job: ReadJob) -> _Reader:
        reader = self._idle.pop() if self._idle else self._start()
        try:
            reader.conn.send(job)
        except OSError:  # died while idle (killed, out of memory): a new one takes the job
            self._discard(reader)
            reader = self._start()
            reader.conn.send(job)
        reader.job, reader.started = job, time.monotonic()
        if self._watchdog is not None and reader.process.pid is not None:
            self._watchdog.watch(reader.process.pid)
        return reader

    def _unwatch(self, reader: _Reader) -> bool:
        """The reader is done with its file; whether the watchdog killed it for its memory."""
        pid = reader.process.pid
        return self._watchdog is not None and pid is not None and self._watchdog.release(pid)

    def _collect(self, reader: _Reader) -> tuple[ReadJob, ReadOutcome]:
        assert reader.job is not None
        job, reader.job = reader.job, None
        try:
            outcome: ReadOutcome = reader.conn.recv()
        except (EOFError, OSError):
            killed = self._unwatch(reader)
            outcome = Unreadable(too_much_memory() if killed else self._crash_reason(reader))
            self._discard(reader)
        else:
            if self._unwatch(reader):  # killed just after it answered: the answer holds
                self._discard(reader)
            else:
                self._idle.append(reader)
        return job, outcome

    def _expire(self, reader: _Reader) -> tuple[ReadJob, ReadOutcome]:
        assert reader.job is not None
        if self._unwatch(reader):
            self._discard(reader)
            return reader.job, Unreadable(too_much_memory())
        self._discard(reader)
        reason = reasons.worded(reasons.TOO_SLOW, seconds=round(self.time_limit_s))
        return reader.job, Unreadable(reason)

    def pids(self) -> list[int]:
        """The idle readers' process ids (for diagnostics)."""
        return [r.process.pid for r in self._idle if r.process.pid is not None]

    def _crash_reason(self, reader: _Reader) -> str:
        reader.process.join(timeout=1.0)
        code = reader.process.exitcode
        if code is not None and code < 0:
            return reasons.worded(reasons.READER_SIGNAL, signal=-code)
        return reasons.worded(reasons.READER_EXIT, code=code)

    def _discard(self, reader: _Reader) -> None:
        self._unwatch(reader)
        reader.process.kill()
        reader.process.join(timeout=5.0)
        reader.conn.close()

    def close(self) -> None:
        if self._watchdog is not None:
            self._watchdog.close()
        readers, self._idle = self._idle, []
        for reader in readers:
            with contextlib.suppress(OSError):
                reader.conn.send(None)
        for reader in readers:
            reader.process.join(timeout=2.0)
            if reader.process.is_alive():
                reader.process.kill()
                reader.process.join(timeout=2.0)
            reader.conn.close()
