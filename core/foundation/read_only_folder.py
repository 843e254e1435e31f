"""A data folder Lanterne cannot write to: said in words, and still read where reading suffices.

The data folder becomes read-only when its drive or share is mounted read-only, when a backup
or sync tool restores it without write permission, or when an administrator locks it. SQLite
then fails at the first statement ("unable to open database file": a WAL database needs its
-shm file), and writing the settings or a lock file fails with EROFS or EACCES. Everything that
writes is refused at once with `DataFolderReadOnlyError`, which names the folder and what to do;
what only reads (`lanterne search`, `index status`, `ask`) opens the index read-only instead and
says that nothing can change meanwhile.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

import sqlite_utils

from lanterne.foundation.translation import _

_SQLITE_READONLY = 8
_SQLITE_CANTOPEN = 14
_READ_ONLY_ERRNOS = {errno.EROFS, errno.EACCES, errno.EPERM}


class DataFolderReadOnlyError(OSError):
    """Lanterne cannot write to its data folder; the message names it and says what to do."""

    def __init__(self, folder: Path) -> None:
        super().__init__(
            errno.EROFS,
            _(
                "Lanterne cannot write to its data folder {folder}: it is read-only (a drive "
                "or share mounted read-only, or its permissions). Make it writable again, or "
                "set LANTERNE_HOME to a folder you can write to."
            ).format(folder=folder),
        )
        self.folder = folder

    def __str__(self) -> str:
        return str(self.strerror)


def writable(folder: Path) -> bool:
    """Whether Lanterne may create and change files in `folder` (a folder not there yet is
    judged by the nearest one that is)."""
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    return os.access(folder, os.W_OK)


def check_writable(folder: Path) -> None:
    """Raise DataFolderReadOnlyError unless Lanterne may write in `folder`."""
    if not writable(folder):
        raise DataFolderReadOnlyError(folder)


def is_read_only(exc: BaseException, folder: Path) -> bool:
    """Whether `exc` says a database or a file in the data folder `folder` could not be
    written because it is read-only."""
    if isinstance(exc, DataFolderReadOnlyError):
        return True
    if isinstance(exc, sqlite3.Error):
        return int(getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF == _SQLITE_READONLY
    if not isinstance(exc, OSError) or exc.errno not in _READ_ONLY_ERRNOS or not exc.filename:
        return False
    return Path(os.fsdecode(exc.filename)).resolve().is_relative_to(folder.resolve())


def reading_notice(folder: Path) -> str:
    """Said beside what a read-only folder still lets Lanterne show."""
    return _(
        "Lanterne cannot write to its data folder {folder}: the index is shown as it is, and "
        "nothing can be added or updated until the folder is writable again."
    ).format(folder=folder)


def open_read_only(path: Path, migrations: list[str]) -> sqlite_utils.Database:
    """The database at `path` for reading only, in a folder Lanterne cannot write to; raises
    DataFolderReadOnlyError when that is not possible (no database yet, one that needs
    upgrading, or transactions left in a -wal file SQLite cannot read without its -shm).

    `mode=ro` reads a WAL database whose -wal and -shm files are there; after a clean close
    they are gone and cannot be made, so the file is then opened as immutable (nothing waits
    in a -wal file: it is complete as it is)."""
    folder = path.parent
    if not path.is_file():
        raise DataFolderReadOnlyError(folder)
    wal = path.with_name(path.name + "-wal")
    uri = path.resolve().as_uri()
    try:
        conn = sqlite3.connect(f"{uri}?mode=ro", uri=True)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError as exc:
        if int(getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF != _SQLITE_CANTOPEN:
            raise
        if wal.exists() and wal.stat().st_size > 0:
            raise DataFolderReadOnlyError(folder) from exc
        conn = sqlite3.connect(f"{uri}?immutable=1", uri=True)
    try:
        done = {row[0] for row in conn.execute("SELECT name FROM _lanterne_migrations")}
    except sqlite3.DatabaseError:
        done = set()
    if set(migrations) - done:  # this version's tables are not all there: cannot be read
        conn.close()
        raise DataFolderReadOnlyError(folder)
    return sqlite_utils.Database(conn)


class ReadOnlyIndex:
    """The index opened for reading only (IndexStore's `read_only`)."""

    def __init__(self, path: Path, migrations: list[str]) -> None:
        self.path = path
        self.db = open_read_only(path, migrations)

    def close(self) -> None:
        self.db.close()
