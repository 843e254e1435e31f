"""A damaged conversations database: kept aside, restored from a backup, what it holds salvaged.

The damaged file (with its -wal and -shm) moves to `<data dir>/damaged/`, where it stays for
diagnosis; the newest backup that passes SQLite's check takes its place (a new, empty database
when there is none); then the rows still readable in the damaged file that the backup lacks are
added (salvage.py, merge.py). The user is told, in words, what was restored and from when.

An unclean exit is noticed by a marker file beside the database, written while a store has it
open and removed when the store closes; a marker whose process is gone means a crash (or a
power cut), after which the store runs PRAGMA quick_check before trusting the file.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path

import psutil
from filelock import FileLock

from lanterne.conversations import backups
from lanterne.conversations.merge import merge
from lanterne.conversations.migrations import MIGRATIONS
from lanterne.conversations.salvage import salvage
from lanterne.foundation.database import MIGRATIONS_TABLE, open_database
from lanterne.foundation.db_faults import DatabaseDamagedError
from lanterne.foundation.translation import _, format_when, ngettext

_log = logging.getLogger(__name__)
_SIDE_FILES = ("", "-wal", "-shm", "-journal")


@dataclass(frozen=True)
class Restoration:
    path: Path
    kept_as: Path
    backup: backups.Backup | None
    recovered: int | None  # None: the salvage itself failed

    def notice(self) -> str:
        """What happened, for the user: from which backup, and what came back after it."""
        if self.backup is None:
            restored = _("No backup of your conversations could be used.")
            salvaged = ngettext(
                "{n} message was recovered from the damaged file.",
                "{n} messages were recovered from the damaged file.",
                self.recovered or 0,
            ).format(n=self.recovered or 0)
            if not self.recovered:
                salvaged = _("Nothing could be recovered from the damaged file.")
        else:
            restored = _("Your conversations were restored from the backup of {date}.").format(
                date=format_when(self.backup.taken)
            )
            salvaged = ngettext(
                "{n} message written after it was recovered from the damaged file.",
                "{n} messages written after it were recovered from the damaged file.",
                self.recovered or 0,
            ).format(n=self.recovered or 0)
            if not self.recovered:
                salvaged = _("Nothing written after it could be recovered from the damaged file.")
        kept = _("The damaged file was kept as {file}.").format(file=self.kept_as)
        return str(DatabaseDamagedError(self.path, f"{restored} {salvaged} {kept}"))


def file_identity(path: Path) -> tuple[int, int] | None:
    """Which file is at `path` now (another process may have restored it meanwhile)."""
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_dev, status.st_ino


def is_foreign(path: Path) -> bool:
    """Whether `path` is another program's SQLite database (a file copied or synced over it):
    opened as is, it would get the conversation tables added and the user would see none."""
    if not path.is_file() or path.stat().st_size == 0:
        return False
    try:
        conn = sqlite3.connect(path)
        try:
            rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        finally:
            conn.close()
    except sqlite3.Error:  # damage, or no database at all: the store's own opening says which
        return False
    names = {row[0] for row in rows}
    ours = {"conversations", "messages"} <= names or names == {MIGRATIONS_TABLE}
    return bool(names) and not ours


def restore(path: Path, opened: tuple[int, int] | None) -> Restoration | None:
    """Set the damaged `path` aside, restore, salvage. `opened`: the identity of the file the
    caller found damaged; None back if another process restored it first (nothing to do).
    Raises DatabaseDamagedError when the damaged file cannot be moved aside."""
    with FileLock(str(path) + ".recover.lock", timeout=60):
        if opened is not None and file_identity(path) not in (opened, None):
            return None
        kept_as = _set_aside(path)
        backup = backups.newest_sound(path)
        try:
            if backup is not None:
                backups.copy_into_place(backup.path, path)
            db = open_database(path, MIGRATIONS, synchronous="FULL")
        except BaseException:  # no room for the copy...: all as it was, to be tried again
            _put_back(kept_as, path)
            raise
        try:
            recovered: int | None = merge(salvage(kept_as), db)
        except Exception:  # the salvage is a bonus: whatever it meets, the restore stands
            _log.info("salvage of %s failed", kept_as, exc_info=True)
            recovered = None
        finally:
            db.close()
    return Restoration(path, kept_as, backup, recovered)


def _set_aside(path: Path) -> Path:
    folder = path.parent / "damaged"
    kept_as = folder / f"{path.stem}-{backups.stamp(backups.utc_now())}{path.suffix}"
    moved: list[tuple[Path, Path]] = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for suffix in _SIDE_FILES:
            source = path.with_name(path.name + suffix)
            if source.exists():
                target = kept_as.with_name(kept_as.name + suffix)
                source.replace(target)
                moved.append((target, source))
    except OSError as exc:
        for target, source in reversed(moved):  # all of it stays together, or none moves
            with contextlib.suppress(OSError):
                target.replace(source)
        raise DatabaseDamagedError(
            path,
            _(
                "Lanterne could not move it aside to restore your conversations ({reason}). "
                "Close every other Lanterne window, then start Lanterne again."
            ).format(reason=exc.strerror or exc),
        ) from exc
    return kept_as


def _put_back(kept_as: Path, path: Path) -> None:
    for suffix in _SIDE_FILES:
        with contextlib.suppress(OSError):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
            kept_as.with_name(kept_as.name + suffix).replace(path.with_name(path.name + suffix))


class OpenMarker:
    """`<db>.open-<pid>-<random>` while a store has the database open."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file = path.with_name(f"{path.name}.open-{os.getpid()}-{uuid.uuid4().hex[:8]}")

    def stale(self) -> list[Path]:
        """Markers left by processes that are gone: each one an unclean exit."""
        left: list[Path] = []
        for marker in self.path.parent.glob(f"{self.path.name}.open-*"):
            pid = marker.name.rsplit(".open-", 1)[1].split("-", 1)[0]
            if pid.isdigit() and not psutil.pid_exists(int(pid)):
                left.append(marker)
        return left

    def enter(self) -> None:
        with contextlib.suppress(OSError):  # no marker: only the quick check is skipped
            self.file.write_text(str(os.getpid()), encoding="utf-8")

    def leave(self) -> None:
        self.forget([self.file])

    @staticmethod
    def forget(markers: list[Path]) -> None:
        for marker in markers:
            with contextlib.suppress(OSError):
                marker.unlink()
