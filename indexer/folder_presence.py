"""Whether a watched folder is there now: connected, not connected, or gone.

A folder on a USB drive, a network share or a cloud mount goes away without being deleted: its
documents, passages and vectors are kept (searchable, their results marked as not connected), and
when it comes back the usual size/mtime/hash reconciliation reads only what changed. What the
index remembers of each folder (`folder_presence`: the device it was on and whether it was a mount
point, written whenever it is seen connected) decides, in this order:

- its root cannot be reached (stat or listing fails other than "no such file"): not connected;
- it was a mount point and is not one now (the empty folder a drive is mounted on): not connected;
- it is empty while the index holds documents of it, and nothing says it is the folder seen
  before (no memory of it, or another device): not connected;
- it is missing: not connected, or "gone" once it has been missing longer than the user's delay
  (index.missing_folder_days) while the disk that held it is here (its nearest existing parent
  is on the device it was on): deleted or moved on purpose, so the user is asked to decide.

Nothing is forgotten without the user: a folder leaves the index only by `index remove`.
"""

from __future__ import annotations

import os
import re
import sqlite3
import stat
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import sqlite_utils

from lanterne.foundation.database import transaction

State = Literal["connected", "not_connected", "gone"]


@dataclass(frozen=True)
class Presence:
    state: State
    missing_since: str | None = None  # when it was first found away (ISO 8601, UTC)
    place_present: bool = False  # away while the disk that held it is here: deleted or moved?

    @property
    def connected(self) -> bool:
        return self.state == "connected"


CONNECTED = Presence("connected")


@dataclass(frozen=True)
class _Memory:
    device: int | None
    mount_point: bool
    missing_since: str | None


@dataclass(frozen=True)
class _Seen:
    connected: bool
    device: int | None = None
    mount_point: bool = False
    place_present: bool = False


def look(
    db: sqlite_utils.Database, folder_id: int, root: Path, gone_after_days: float | None = None
) -> Presence:
    """The folder's presence now, read only (search, the source opener). Without a delay
    (`gone_after_days` None) a missing folder is never called gone."""
    memory = _memory(db, folder_id)
    seen = _observe(db, folder_id, root, memory, record=False)
    return _presence(seen, memory.missing_since if memory else None, gone_after_days)


def note(
    db: sqlite_utils.Database, folder_id: int, root: Path, gone_after_days: float | None = None
) -> Presence:
    """The folder's presence now, remembered: its device and mount point when connected, the
    moment it was first found away otherwise. Writes only when that changes."""
    memory = _memory(db, folder_id)
    seen = _observe(db, folder_id, root, memory, record=True)
    since = memory.missing_since if memory else None
    if seen.connected:
        since = None
        if memory != _Memory(seen.device, seen.mount_point, None):
            _remember(db, folder_id, _Memory(seen.device, seen.mount_point, None))
    elif since is None:
        since = _now()
        kept = memory or _Memory(None, False, None)
        _remember(db, folder_id, _Memory(kept.device, kept.mount_point, since))
    return _presence(seen, since, gone_after_days)


def away(db: sqlite_utils.Database, folder_ids: Iterable[int]) -> set[int]:
    """Which of these folders are not connected now (read only)."""
    ids = sorted(set(folder_ids))
    if not ids:
        return set()
    rows = db.execute(
        f"SELECT id, path FROM folders WHERE id IN ({', '.join('?' for _ in ids)})", ids
    ).fetchall()
    return {int(r[0]) for r in rows if not look(db, int(r[0]), Path(r[1])).connected}


def folder_of(db: sqlite_utils.Database, path: Path) -> tuple[Path, Presence] | None:
    """The watched folder holding `path`, and whether it is there now (read only)."""
    for folder_id, root in db.execute("SELECT id, path FROM folders ORDER BY path").fetchall():
        if path.is_relative_to(root):
            return Path(root), look(db, int(folder_id), Path(root))
    return None


def is_mount_point(path: Path) -> bool:
    """Whether a file system is mounted on `path`, bind mounts of a folder of the same disk
    included (Linux lists them in /proc/self/mountinfo; os.path.ismount cannot tell them)."""
    try:
        if os.path.ismount(path):
            return True
    except OSError:
        return False
    return sys.platform.startswith("linux") and str(path) in _linux_mount_points()


_OCTAL = re.compile(r"\\([0-7]{3})")  # mountinfo writes space, tab, newline, backslash so


def _linux_mount_points() -> set[str]:
    try:
        text = Path("/proc/self/mountinfo").read_bytes().decode("utf-8", "surrogateescape")
    except OSError:
        return set()
    points = set()
    for line in text.splitlines():
        fields = line.split(" ")
        if len(fields) > 4:
            points.add(_OCTAL.sub(lambda m: chr(int(m.group(1), 8)), fields[4]))
    return points


def _observe(
    db: sqlite_utils.Database, folder_id: int, root: Path, memory: _Memory | None, record: bool
) -> _Seen:
    try:
        st = root.stat()
    except (FileNotFoundError, NotADirectoryError):
        return _missing(root, memory)
    except OSError:
        return _Seen(False)  # there, but out of reach (a share whose server does not answer)
    if not stat.S_ISDIR(st.st_mode):
        return _missing(root, memory)
    was_mount = memory is not None and memory.mount_point
    mount = is_mount_point(root) if record or was_mount else False
    if was_mount and not mount:
        return _Seen(False)  # the empty folder a drive or share was mounted on
    try:
        with os.scandir(root) as entries:
            empty = next(entries, None) is None
    except OSError:
        return _Seen(False)
    same_disk = memory is not None and memory.device == st.st_dev
    if empty and not same_disk and _has_documents(db, folder_id):
        return _Seen(False)  # nothing says this empty folder is the one indexed
    return _Seen(True, st.st_dev, mount)


def _missing(root: Path, memory: _Memory | None) -> _Seen:
    """Away. Deleted or moved on purpose when the nearest existing parent is on the disk the
    folder was on (a drive's folder leaves a parent on another disk, or none)."""
    if memory is None or memory.device is None or memory.mount_point:
        return _Seen(False)
    return _Seen(False, place_present=_nearest_device(root) == memory.device)


def _nearest_device(root: Path) -> int | None:
    for parent in root.parents:
        try:
            return parent.stat().st_dev
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError:
            return None
    return None


def _presence(seen: _Seen, since: str | None, gone_after_days: float | None) -> Presence:
    if seen.connected:
        return CONNECTED
    state: State = "not_connected"
    if seen.place_present and since is not None and gone_after_days is not None:
        limit = datetime.now(UTC) - timedelta(days=max(0.0, gone_after_days))
        if datetime.fromisoformat(since) <= limit:
            state = "gone"
    return Presence(state, since, seen.place_present)


def _has_documents(db: sqlite_utils.Database, folder_id: int) -> bool:
    row = db.execute(
        "SELECT EXISTS (SELECT 1 FROM documents WHERE folder_id = ?)", [folder_id]
    ).fetchone()
    return bool(row[0])


def _memory(db: sqlite_utils.Database, folder_id: int) -> _Memory | None:
    row = db.execute(
        "SELECT device, mount_point, missing_since FROM folder_presence WHERE folder_id = ?",
        [folder_id],
    ).fetchone()
    if row is None:
        return None
    return _Memory(None if row[0] is None else int(row[0]), bool(row[1]), row[2])


def _remember(db: sqlite_utils.Database, folder_id: int, memory: _Memory) -> None:
    """A memo, written by whoever looks (the indexer, `index status`): when the index cannot be
    written now (locked, read-only, full) the next look writes it."""
    try:
        with transaction(db):
            db.execute(
                "INSERT INTO folder_presence (folder_id, device, mount_point, missing_since) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (folder_id) DO UPDATE SET "
                "device = excluded.device, mount_point = excluded.mount_point, "
                "missing_since = excluded.missing_since",
                [folder_id, memory.device, int(memory.mount_point), memory.missing_since],
            )
    except sqlite3.OperationalError:
        pass


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
