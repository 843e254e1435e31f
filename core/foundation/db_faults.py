"""The faults a laptop's disk really has, told apart once for every part of Lanterne.

SQLite says a file is damaged with SQLITE_CORRUPT ("database disk image is malformed") or
SQLITE_NOTADB ("file is not a database"), and a full disk with SQLITE_FULL; the operating
system says the latter with ENOSPC (or EDQUOT, over a quota). Python reports all of them as
plain sqlite3 or OS errors, so each caller would otherwise match messages of its own.
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

from lanterne.foundation.translation import _, format_size

_SQLITE_CORRUPT = 11
_SQLITE_FULL = 13
_SQLITE_NOTADB = 26
# The shared-memory file (-shm) of a WAL database cannot grow: on a full disk, SQLite says
# "disk I/O error" with this extended code rather than SQLITE_FULL.
_SQLITE_IOERR_SHMSIZE = 10 | (19 << 8)
_DAMAGE_WORDS = ("malformed", "file is not a database", "database corrupt")
_FULL_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def _primary_code(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else int(code) & 0xFF  # extended codes keep the primary below


class DamageFoundError(sqlite3.DatabaseError):
    """Damage Lanterne found itself (a failed quick check, another program's file in the
    database's place), handled as SQLite's own report of damage is."""

    def __init__(self, path: Path) -> None:
        super().__init__(str(path))
        self.path = path


def is_damage(exc: BaseException) -> bool:
    """Whether `exc` says a database file is damaged (not merely busy, locked or unreachable)."""
    if isinstance(exc, DamageFoundError):
        return True
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    code = _primary_code(exc)
    if code is not None:
        return code in (_SQLITE_CORRUPT, _SQLITE_NOTADB)
    text = str(exc).lower()
    return any(words in text for words in _DAMAGE_WORDS)


def is_disk_full(exc: BaseException) -> bool:
    """Whether `exc` says there is no room left to write (SQLite's or the system's words)."""
    if isinstance(exc, sqlite3.Error):
        code = _primary_code(exc)
        if code is not None:
            return code == _SQLITE_FULL or exc.sqlite_errorcode == _SQLITE_IOERR_SHMSIZE
        return "database or disk is full" in str(exc).lower()
    return isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS


class DatabaseDamagedError(Exception):
    """A database file is damaged; the message says which and what Lanterne does about it."""

    def __init__(self, path: Path, what_now: str) -> None:
        super().__init__(
            _("The file {file} is damaged. {what_now}").format(file=path, what_now=what_now)
        )
        self.path = path


class DiskFullError(OSError):
    """No room left in a folder Lanterne writes to; the message names the folder."""

    def __init__(self, folder: Path, needed: int | None = None, what_now: str = "") -> None:
        """`what_now`: what happens next and what to do once there is room, where Lanterne
        does not simply go on by itself."""
        if what_now:
            if needed:
                message = _("The disk holding {folder} is full: free at least {size} there.")
            else:
                message = _("The disk holding {folder} is full: free some space there.")
        elif needed:
            message = _(
                "The disk holding {folder} is full: free at least {size} there, and Lanterne "
                "goes on by itself."
            )
        else:
            message = _(
                "The disk holding {folder} is full: free some space there, and Lanterne goes "
                "on by itself."
            )
        message = message.format(folder=folder, size=format_size(needed) if needed else "")
        super().__init__(errno.ENOSPC, f"{message} {what_now}" if what_now else message)
        self.folder = folder
        self.needed = needed
        self.what_now = what_now

    def __str__(self) -> str:
        return str(self.strerror)
