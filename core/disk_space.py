"""A full disk: how much room is left, how much the index still needs, and the rule for going on.

Any write into the data folder can fail for want of room (core/foundation/db_faults.py tells
that error apart). What was being written is rolled back whole, so nothing is lost: the index
keeps its files marked 'pending', a conversation's answer stays in memory. The index service and the
conversations' thread then wait here, looking at the free space every few seconds, and go on
once the user has freed some; the CLI says what to do and stops.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from lanterne.foundation.db_faults import DiskFullError
from lanterne.foundation.translation import _
from lanterne.indexer.store import IndexStore

POLL_S = 2.0  # how often the free space is looked at while waiting
ROOM = 1024**2  # space freed since the disk filled that counts as room to go on
# Tried again this often even when no space was seen to be freed: a quota, which the free space
# of the disk does not show, may have been raised.
RETRY_S = 60.0
WAL_ROOM = 1024**2  # the index's write-ahead log, on top of what its rows take
VECTOR_ROW = 96  # bytes a vector's row takes beyond the vector's own bytes (keys, scale, index)


def free_bytes(folder: Path) -> int | None:
    """Free space for this user on the disk holding `folder` (or its nearest existing parent);
    None when it cannot be told."""
    path = folder
    while not path.exists() and path.parent != path:
        path = path.parent
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


def wait_for_room(
    folder: Path,
    stop: threading.Event,
    *,
    room: int = ROOM,
    poll_s: float = POLL_S,
    retry_s: float = RETRY_S,
) -> bool:
    """Wait until the disk holding `folder` has `room` more bytes free than when it filled up (the
    user freed some), or `retry_s` has passed; False when `stop` was set first."""
    full = free_bytes(folder) or 0
    deadline = time.monotonic() + retry_s
    while not stop.wait(poll_s):
        free = free_bytes(folder)
        if (free is not None and free >= full + room) or time.monotonic() >= deadline:
            return True
    return False


def _file_sizes(path: Path) -> int:
    total = 0
    for suffix in ("", "-wal"):
        with contextlib.suppress(OSError):
            total += path.with_name(path.name + suffix).stat().st_size
    return total


def index_full_error(store: IndexStore, what_now: str = "") -> DiskFullError:
    """The index could not be written: its folder, and about how much more it needs to take in
    the files still waiting (the room each indexed file takes so far, times the files left)."""
    needed: int | None = None
    try:
        status = store.status()
        written = status.documents + len(status.errors)
        if status.pending and written:
            needed = _file_sizes(store.path) // written * status.pending + WAL_ROOM
    except sqlite3.Error:  # the estimate is a help, never a second failure
        pass
    return DiskFullError(store.path.parent, max(needed or 0, ROOM), what_now)


def vectors_full_error(
    store: IndexStore, model: str, dimensions: int, what_now: str = ""
) -> DiskFullError:
    """Vectors could not be written: the room the passages still without one need."""
    needed = ROOM
    try:
        embedded, total = store.vector_counts(model)
        needed = max(needed, (total - embedded) * (dimensions + VECTOR_ROW) + WAL_ROOM)
    except sqlite3.Error:
        pass
    return DiskFullError(store.path.parent, needed, what_now)


class RoomWait:
    """Threads of one service waiting for room, said once: `report` gets the message when one
    starts waiting, and None once work went on (`went_on`, called by the service when a file
    or a batch of vectors was written after the wait), never merely because a wait ended."""

    def __init__(
        self,
        report: Callable[[str | None], None] | None = None,
        *,
        poll_s: float = POLL_S,
        retry_s: float = RETRY_S,
    ) -> None:
        self.report = report
        self.poll_s = poll_s
        self.retry_s = retry_s
        self._lock = threading.Lock()
        self._waiting = 0
        self._said = False  # a message is out that went_on() takes back

    @property
    def waiting(self) -> bool:
        return self._waiting > 0

    def wait(self, error: DiskFullError, stop: threading.Event) -> bool:
        """Say `error` and wait for room in its folder; False when `stop` was set first."""
        with self._lock:
            self._waiting += 1
            self._said = True
            if self.report is not None:
                self.report(str(error))
        try:
            return wait_for_room(error.folder, stop, poll_s=self.poll_s, retry_s=self.retry_s)
        finally:
            with self._lock:
                self._waiting -= 1

    def went_on(self) -> None:
        """Something was written after a wait: the message goes, once no thread waits."""
        if not self._said:  # the usual case, without taking the lock
            return
        with self._lock:
            if self._said and not self._waiting:
                self._said = False
                if self.report is not None:
                    self.report(None)


def going_on_text() -> str:
    """What the GUI and `index watch` say once there is room again."""
    return _("There is room on the disk again: indexing goes on.")
