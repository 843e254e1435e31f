"""The index's health: damage met anywhere told as IndexDamagedError, and a quick check at the
first open after a Lanterne that had the index open stopped without closing it.

SQLite reports a damaged file only when a statement reaches a damaged page, so damage surfaces
wherever the index is read or written. The callers that own a connection (the CLI's commands,
the index service's threads, search, retrieval for answers) turn what they meet into
IndexDamagedError with `index_damage()`; opening the index does it here.

While a process has the index open, a marker `<index>.<pid>.open` sits beside it, removed when its
last connection closes. A marker whose process is gone means an unclean exit (a crash, a kill, a
power cut): the next process to open the index runs `PRAGMA quick_check` first, for at most
CHECK_SECONDS.
"""

from __future__ import annotations

import contextlib
import glob
import os
import sqlite3
import threading
import weakref
from pathlib import Path

import psutil
import sqlite_utils

from lanterne.foundation.database import (
    DatabaseUpgradeError,
    Migrations,
    open_database,
    quick_check,
)
from lanterne.foundation.db_faults import DatabaseDamagedError, is_damage
from lanterne.foundation.translation import _

CHECK_SECONDS = 5.0

FileIdentity = tuple[int, int]  # (device, inode): tells a file from one put in its place


class IndexDamagedError(DatabaseDamagedError):
    """The index file is damaged. `identity`: the file found damaged, so that it alone is set
    aside (another process may have replaced it with a rebuilt one meanwhile)."""

    def __init__(
        self, path: Path, identity: FileIdentity | None = None, what_now: str | None = None
    ) -> None:
        super().__init__(
            path,
            what_now or _("Lanterne sets it aside and rebuilds the index from your folders."),
        )
        self.identity = identity if identity is not None else last_opened(path)


def index_damage(
    exc: BaseException, path: Path, identity: FileIdentity | None = None
) -> IndexDamagedError | None:
    """`exc` as IndexDamagedError when it says the index is damaged, else None."""
    if isinstance(exc, IndexDamagedError):
        return exc
    if isinstance(exc, DatabaseUpgradeError) and is_damage(exc.failure.error):
        return IndexDamagedError(path, identity)
    return IndexDamagedError(path, identity) if is_damage(exc) else None


def file_identity(path: Path) -> FileIdentity | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


_lock = threading.RLock()  # IndexDamagedError reads last_opened() under it
_open_count: dict[Path, int] = {}
_identity: dict[Path, FileIdentity | None] = {}  # of the file this process opened last
_checked: set[Path] = set()


def last_opened(path: Path) -> FileIdentity | None:
    """The file this process last opened at `path` (None: none, or it did not exist yet)."""
    with _lock:
        return _identity.get(path)


class OpenIndex:
    """One connection to the index, counted so the process's open marker goes with the last."""

    def __init__(self, path: Path, migrations: Migrations) -> None:
        self.path = path
        identity = file_identity(path)
        with _lock:
            _identity[path] = identity
            first = path not in _checked
            _checked.add(path)
            if first:
                _check_after_unclean_exit(path, identity)
        try:
            self.db: sqlite_utils.Database = open_database(path, migrations)
        except (sqlite3.DatabaseError, DatabaseUpgradeError) as exc:
            damage = index_damage(exc, path, identity)
            if damage is None:
                raise
            raise damage from exc
        with _lock:
            if identity is None:  # created just now
                identity = _identity[path] = file_identity(path)
            self.identity = identity
            count = _open_count.get(path, 0)
            if count == 0:
                with contextlib.suppress(OSError):  # a read-only or full disk: no marker
                    _marker(path).touch()
            _open_count[path] = count + 1
        self._release = weakref.finalize(self, _count_closed, path)  # once, even if dropped

    def close(self) -> None:
        self.db.close()
        self._release()

    def check(self, seconds: float = CHECK_SECONDS) -> None:
        """Raise IndexDamagedError if SQLite's quick check finds a problem within `seconds`."""
        if quick_check(self.db.conn, seconds):
            raise IndexDamagedError(self.path, self.identity)


def _count_closed(path: Path) -> None:
    with _lock:
        count = _open_count.get(path, 0) - 1
        if count > 0:
            _open_count[path] = count
            return
        _open_count.pop(path, None)
        with contextlib.suppress(OSError):
            _marker(path).unlink()


def _marker(path: Path) -> Path:
    return path.with_name(f"{path.name}.{os.getpid()}.open")


def _check_after_unclean_exit(path: Path, identity: FileIdentity | None) -> None:
    """A marker left by a process that is gone: check the index before anything uses it."""
    stale = []
    for marker in path.parent.glob(glob.escape(path.name) + ".*.open"):
        pid = marker.name[len(path.name) + 1 : -len(".open")]
        if not pid.isdigit() or int(pid) == os.getpid() or not psutil.pid_exists(int(pid)):
            stale.append(marker)
    if not stale:
        return
    problems: list[str] | None = None
    if identity is not None:
        try:
            conn = sqlite3.connect(path)
            try:
                conn.execute("PRAGMA busy_timeout = 10000")
                problems = quick_check(conn, CHECK_SECONDS)
            finally:
                conn.close()
        except sqlite3.OperationalError:  # busy or unreadable now: the next open will tell
            problems = None
    for marker in stale:
        with contextlib.suppress(OSError):
            marker.unlink()
    if problems:
        raise IndexDamagedError(path, identity)
