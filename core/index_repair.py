"""A damaged index set aside and rebuilt from the watched folders.

The index is derived data: all it holds can be read again from the folders. The process that meets
damage (indexer/index_health.py tells it) calls `claim_repair()`, which:

1. takes the repair lock (`<index>.repair.lock`), held by whoever is repairing or rebuilding;
2. if the file at the index's path is still the one found damaged, moves it with its -wal and
   -shm to `<data>/damaged/index-<time>.sqlite3` for diagnosis (the newest KEEP_DAMAGED kept);
3. creates an empty index holding the watched folders (index-folders.json, else those the damaged
   file still gives, plus the organisation's), and writes `index-rebuild.json`.

The holder then reads every folder again (the CLI in the foreground, the index service in the
background: words first, vectors after, as usual) and calls `Rebuild.finish()`, which removes
index-rebuild.json and lets go of the lock. While that file exists, search and status say that
the index is being rebuilt. A rebuild whose process stopped leaves it behind; the next process to
take the lock (`resume_rebuild()`) finishes the job.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout

from lanterne.foundation.database import transaction
from lanterne.foundation.db_faults import DatabaseDamagedError
from lanterne.foundation.settings import Settings
from lanterne.foundation.translation import _, format_number
from lanterne.indexer.folder_backup import Folders, load_folders, save_folders
from lanterne.indexer.index_health import (
    FileIdentity,
    IndexDamagedError,
    file_identity,
    index_damage,
    last_opened,
)
from lanterne.indexer.store import IndexStore, path_key

KEEP_DAMAGED = 3
DAMAGED_FOLDER = "damaged"


class RepairError(DatabaseDamagedError):
    """The damaged index could not be set aside; the message says what to do."""


def marker_path(index_path: Path) -> Path:
    return index_path.with_name(index_path.stem + "-rebuild.json")


def damaged_folder(index_path: Path) -> Path:
    return index_path.parent / DAMAGED_FOLDER


@dataclass
class Rebuild:
    """This process rebuilds the index: it holds the repair lock until finish() or release()."""

    index_path: Path
    lock: FileLock
    damaged: str  # where the damaged file was set aside
    folders: int

    def message(self) -> str:
        if not self.damaged:
            return _(
                "The index {file} was missing or empty: Lanterne is rebuilding it from your "
                "folders ({folders}). Search results may be incomplete until it is done."
            ).format(file=self.index_path, folders=format_number(self.folders))
        if not self.folders:
            return _(
                "The index was damaged. It was set aside as {damaged} for diagnosis; the list "
                "of your folders could not be read from it: add your folders again."
            ).format(damaged=self.damaged)
        return _(
            "The index was damaged. It was set aside as {damaged} for diagnosis, and Lanterne "
            "is rebuilding it from your folders ({folders}): search results may be incomplete "
            "until it is done."
        ).format(damaged=self.damaged, folders=format_number(self.folders))

    def finish(self) -> None:
        """Every folder was read again: the index is whole."""
        with contextlib.suppress(FileNotFoundError):
            marker_path(self.index_path).unlink()
        self.release()

    def release(self) -> None:
        """Stopped before the end: the marker stays for the next process to finish the job."""
        if self.lock.is_locked:
            self.lock.release()


def _lock(index_path: Path) -> FileLock:
    return FileLock(str(index_path) + ".repair.lock", thread_local=False)


def claim_repair(
    index_path: Path,
    settings: Settings,
    identity: FileIdentity | None,
    wait: float = 0.0,
    stop: threading.Event | None = None,
) -> Rebuild | None:
    """Set the damaged file `identity` aside and start a rebuild. None when another process
    holds the lock past `wait` seconds (it is repairing), or when the file at the index's path
    is another one (repaired already) and no rebuild is left to finish. RepairError when the
    file cannot be moved."""
    lock = _lock(index_path)
    deadline = time.monotonic() + wait
    while True:
        try:
            lock.acquire(timeout=min(0.5, wait))
            break
        except Timeout:
            if time.monotonic() >= deadline or (stop is not None and stop.is_set()):
                return None

    def set_aside() -> None:
        if identity is not None and file_identity(index_path) == identity:
            damaged = quarantine(index_path)
            folders = load_folders(index_path)
            if folders is None:
                folders = _folders_in(damaged) or []
            _new_index(index_path, _with_policy(folders, settings), damaged)

    return _rebuild_under(lock, index_path, set_aside)


def resume_rebuild(index_path: Path, settings: Settings) -> Rebuild | None:
    """A rebuild for this process to do now: one a process that stopped left unfinished, or
    the index gone or emptied (a sync tool, a hand) while the folder list names folders. None
    when there is none, or when another process is at it."""
    if not marker_path(index_path).exists() and not _lost(index_path):
        return None
    lock = _lock(index_path)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return None  # its process is still at it

    def start_again() -> None:
        if _lost(index_path):
            leftovers = [index_path.with_name(index_path.name + s) for s in ("", "-wal", "-shm")]
            aside = quarantine(index_path) if any(p.exists() for p in leftovers) else None
            folders = _with_policy(load_folders(index_path) or [], settings)
            _new_index(index_path, folders, aside)

    return _rebuild_under(lock, index_path, start_again)


def _rebuild_under(lock: FileLock, index_path: Path, prepare: Callable[[], None]) -> Rebuild | None:
    """`prepare` with the repair lock held, then the rebuild left to do, which keeps the lock;
    the lock is let go when there is none, or when `prepare` fails."""
    try:
        prepare()
        rebuild = _ongoing(index_path, lock)
        if rebuild is None:
            lock.release()
        return rebuild
    except BaseException:
        lock.release()
        raise


def _lost(index_path: Path) -> bool:
    """No index, or an empty file, where the folder list says folders were watched."""
    try:
        if index_path.stat().st_size > 0:
            return False
    except FileNotFoundError:
        pass
    except OSError:
        return False
    return bool(load_folders(index_path))


def _ongoing(index_path: Path, lock: FileLock) -> Rebuild | None:
    try:
        marker = json.loads(marker_path(index_path).read_text(encoding="utf-8"))
        return Rebuild(index_path, lock, str(marker["damaged"]), int(marker["folders"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):  # a marker cut short: rebuild anyway
        return Rebuild(index_path, lock, str(damaged_folder(index_path)), 0)


def quarantine(index_path: Path) -> Path:
    """Move the index and its -wal and -shm into the damaged folder; the new name."""
    folder = damaged_folder(index_path)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")  # sorts as the files were set aside
    target = folder / f"{index_path.stem}-{stamp}{index_path.suffix}"
    n = 1
    while target.exists():
        n += 1
        target = folder / f"{index_path.stem}-{stamp}-{n}{index_path.suffix}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # The journal files first: a -wal left beside a new, empty index would be replayed
        # into it.
        for suffix in ("-wal", "-shm", "-journal", ""):
            source = index_path.with_name(index_path.name + suffix)
            if source.exists():
                source.replace(target.with_name(target.name + suffix))
    except PermissionError as exc:
        raise RepairError(
            index_path,
            _(
                "It could not be set aside: another program is using it. Close every Lanterne "
                "window and command, then try again."
            ),
        ) from exc
    except OSError as exc:
        raise RepairError(
            index_path,
            _(
                "It could not be moved into {folder}: check that this folder can be written "
                "to, then try again."
            ).format(folder=folder),
        ) from exc
    _keep_newest(folder, index_path)
    return target


def _keep_newest(folder: Path, index_path: Path) -> None:
    kept = sorted(folder.glob(f"{index_path.stem}-*{index_path.suffix}"), reverse=True)
    for old in kept[KEEP_DAMAGED:]:
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(OSError):
                old.with_name(old.name + suffix).unlink()


def _folders_in(damaged: Path) -> Folders | None:
    """The folders the damaged file still gives (read as it is, its -wal aside), or None."""
    try:
        uri = damaged.resolve().as_uri() + "?immutable=1"
        conn = sqlite3.connect(uri, uri=True)
        try:
            rows = conn.execute(
                "SELECT path, added_at FROM folders ORDER BY added_at, id"
            ).fetchall()
        finally:
            conn.close()
    except (sqlite3.Error, ValueError):
        return None
    return [(str(path), str(added_at)) for path, added_at in rows if isinstance(path, str)]


def _with_policy(folders: Folders, settings: Settings) -> Folders:
    known = {path for path, _added in folders}
    now = datetime.now(UTC).isoformat(timespec="seconds")
    for folder in settings.policy_folders():
        if path_key(folder) not in known:
            folders.append((path_key(folder), now))
    return folders


def _new_index(index_path: Path, folders: Folders, damaged: Path | None) -> None:
    """An empty index holding `folders`, and the marker saying it is to be rebuilt."""
    store = IndexStore(index_path)
    try:
        with transaction(store.db):
            store.db.conn.executemany(
                "INSERT OR IGNORE INTO folders (path, added_at) VALUES (?, ?)", folders
            )
        save_folders(store.db, index_path)
    finally:
        store.close()
    marker = {"damaged": str(damaged or ""), "folders": len(folders)}
    marker_path(index_path).write_text(json.dumps(marker), encoding="utf-8")


# Damage met where no repair can run (search, answers): the index service is told --------

_listeners: list[Callable[[Path, FileIdentity | None], None]] = []


def on_damage(listener: Callable[[Path, FileIdentity | None], None]) -> Callable[[], None]:
    """Call `listener` when damage is met elsewhere in this process; returns its removal."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener)


@contextlib.contextmanager
def telling_damage(index_path: Path) -> Iterator[None]:
    """Damage met inside becomes IndexDamagedError that says what happens now, after the
    index service (if this process runs one) was told to repair it."""
    try:
        yield
    except Exception as exc:
        damage = index_damage(exc, index_path)
        if damage is None:
            raise
        identity = damage.identity or last_opened(index_path)
        for listener in list(_listeners):
            listener(index_path, identity)
        what_now = (
            _("Lanterne is rebuilding the index from your folders: try again in a moment.")
            if _listeners
            else _("Run `lanterne index status` to rebuild the index from your folders.")
        )
        raise IndexDamagedError(index_path, identity, what_now) from exc


def rebuild_notice(index_path: Path, store: IndexStore | None = None) -> str | None:
    """What search and status say while the index is rebuilt (with the counts so far, read
    from `store`), or None."""
    if not marker_path(index_path).exists():
        return None
    notice = _(
        "The index was damaged and is being rebuilt from your folders: results may be incomplete."
    )
    if store is not None:
        status = store.status()
        notice += " " + _("{documents} documents and {chunks} passages read so far.").format(
            documents=format_number(status.documents), chunks=format_number(status.chunks)
        )
    return notice
