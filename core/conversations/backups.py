"""Copies of the conversations database, taken with SQLite's online backup API.

One is taken before every upgrade of an existing database and one a day (when the store opens
and the newest is older than a day); the newest few are kept in `<data dir>/backups/`, named
after the moment they were taken (UTC). A copy is written under a temporary name, checked, and
renamed only once whole and sound: a half-written or damaged copy is never among the backups.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lanterne.foundation.db_faults import DamageFoundError

KEEP = 5
DAILY = timedelta(days=1)
_STAMP = "%Y%m%d-%H%M%S-%f"
_PARTIAL = ".partial"


def utc_now() -> datetime:
    """The clock every backup and recovery reads (tests move it)."""
    return datetime.now(UTC)


def stamp(moment: datetime) -> str:
    """A moment as it appears in file names (UTC, no characters a file system refuses)."""
    return moment.astimezone(UTC).strftime(_STAMP)


@dataclass(frozen=True)
class Backup:
    path: Path
    taken: datetime  # UTC


class BackupUnsoundError(DamageFoundError):
    """The copy just taken fails SQLite's check: the database it was taken from is damaged."""


def backup_dir(db_path: Path) -> Path:
    return db_path.parent / "backups"


def backups(db_path: Path) -> list[Backup]:
    """The backups of `db_path`, newest first (half-written ones are not backups)."""
    found: list[Backup] = []
    prefix, suffix = db_path.stem + "-", db_path.suffix
    with contextlib.suppress(FileNotFoundError):
        for entry in backup_dir(db_path).iterdir():
            name = entry.name
            if not (name.startswith(prefix) and name.endswith(suffix)):
                continue
            try:
                taken = datetime.strptime(name[len(prefix) : -len(suffix)], _STAMP)
            except ValueError:
                continue
            found.append(Backup(entry, taken.replace(tzinfo=UTC)))
    return sorted(found, key=lambda b: b.taken, reverse=True)


def is_sound(path: Path) -> bool:
    """Whether `path` is a readable conversations database that passes PRAGMA quick_check."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        if conn.execute("PRAGMA quick_check").fetchall() != [("ok",)]:
            return False
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        return {"conversations", "messages"} <= tables
    except sqlite3.Error:
        return False
    finally:
        conn.close()


def newest_sound(db_path: Path) -> Backup | None:
    """The newest backup that SQLite can read whole; damaged ones are passed over."""
    for backup in backups(db_path):
        if is_sound(backup.path):
            return backup
    return None


def due(db_path: Path, now: datetime | None = None) -> bool:
    """Whether the daily backup is due: none yet, or the newest is a day old."""
    existing = backups(db_path)
    return not existing or (now or utc_now()) - existing[0].taken >= DAILY


def take(conn: sqlite3.Connection, db_path: Path, keep: int = KEEP) -> Backup:
    """Copy the database open on `conn` into the backups folder, then keep the newest `keep`.

    Raises BackupUnsoundError (nothing kept) when the copy fails its check, OSError or
    sqlite3.Error when it cannot be written."""
    folder = backup_dir(db_path)
    folder.mkdir(parents=True, exist_ok=True)
    _remove_stale_partials(folder)
    moment = utc_now()
    final = folder / f"{db_path.stem}-{stamp(moment)}{db_path.suffix}"
    partial = final.with_name(final.name + _PARTIAL)
    try:
        target = sqlite3.connect(partial)
        try:
            conn.backup(target)
            target.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        finally:
            target.close()
        _sync(partial)
        if not is_sound(partial):
            raise BackupUnsoundError(db_path)
        partial.replace(final)
    finally:
        for leftover in (partial, partial.with_name(partial.name + "-journal")):
            leftover.unlink(missing_ok=True)
    for old in backups(db_path)[keep:]:
        old.path.unlink(missing_ok=True)
    return Backup(final, moment)


def copy_into_place(backup: Path, db_path: Path) -> None:
    """Put a backup where the database goes: copied under a temporary name, then renamed."""
    work = db_path.with_name(db_path.name + ".restoring")
    work.unlink(missing_ok=True)
    try:
        source = sqlite3.connect(f"{backup.resolve().as_uri()}?mode=ro", uri=True)
        target = sqlite3.connect(work)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        _sync(work)
        work.replace(db_path)
    finally:
        work.unlink(missing_ok=True)


def _sync(path: Path) -> None:
    with path.open("rb+") as handle:
        os.fsync(handle.fileno())


def _remove_stale_partials(folder: Path) -> None:
    """Copies a crash left half-written (an hour old: not another process's copy under way)."""
    limit = utc_now().timestamp() - 3600
    for entry in folder.glob(f"*{_PARTIAL}*"):
        with contextlib.suppress(OSError):
            if entry.stat().st_mtime < limit:
                entry.unlink()
