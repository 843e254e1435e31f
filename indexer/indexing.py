"""The indexing pipeline: scan -> extract -> chunk -> store, one file per transaction.

Unchanged files (same size and mtime, or else same content hash) are never re-read past the hash.
A file that cannot be read gets its reason recorded and the rest continues.
"""

from __future__ import annotations

import os
import stat
import threading
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from lanterne.foundation.language import Language
from lanterne.foundation.translation import _
from lanterne.indexer import folder_presence, reasons
from lanterne.indexer.chunker import Chunk
from lanterne.indexer.file_reader import ReadJob, ReadOutcome, Unchanged, Unreadable
from lanterne.indexer.ignore_rules import IGNORE_FILE, IgnoreRules
from lanterne.indexer.pause_gate import PauseGate
from lanterne.indexer.reader_pool import ReaderPool, available_cores
from lanterne.indexer.regular_file import is_regular
from lanterne.indexer.scanner import is_candidate, scan
from lanterne.indexer.store import IndexStore, path_key


@dataclass(frozen=True)
class IndexOptions:
    chunk_chars: int = 1200
    chunk_overlap: int = 150
    max_file_bytes: int = 50 * 1024 * 1024
    readers: int = field(default_factory=lambda: min(4, available_cores()))
    file_time_limit_s: float = 120.0
    file_memory_limit_mb: int | None = 2048
    ignore_patterns: tuple[str, ...] = ()  # gitignore lines for every watched folder


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    current: Path | None
    indexed: int
    unchanged: int
    failed: int


ProgressCallback = Callable[[Progress], None]


class FolderError(ValueError):
    """A folder that cannot be watched; the message says why."""


class Indexer:
    """Owns the index's single writer connection."""

    def __init__(self, store: IndexStore, options: IndexOptions | None = None) -> None:
        self.store = store
        self.options = options or IndexOptions()
        self._pools: list[ReaderPool] = []  # the live one, if any; a list the finalizer can see
        weakref.finalize(self, _close_pools, self._pools)  # an Indexer dropped without close()
        self.gate = PauseGate()  # paused: the next file waits (the one being written finishes)
        self.stop = threading.Event()  # set: a paused indexer gives up waiting

    def close(self) -> None:
        self.stop_readers()
        self.store.close()

    def stop_readers(self) -> None:
        """Stop the reader processes (each holds ~100 MB); the next file starts new ones."""
        _close_pools(self._pools)

    def _readers(self) -> ReaderPool:
        if not self._pools:
            self._pools.append(
                ReaderPool(
                    self.options.readers,
                    self.options.file_time_limit_s,
                    self.options.file_memory_limit_mb,
                )
            )
        return self._pools[0]

    def add_folder(self, folder: Path, progress: ProgressCallback | None = None) -> Progress:
        folder = folder.expanduser().resolve()
        if not folder.exists():
            raise FolderError(_("Folder not found: {path}").format(path=folder))
        if not folder.is_dir():
            raise FolderError(_("Not a folder: {path}").format(path=folder))
        if not os.access(folder, os.R_OK | os.X_OK):
            raise FolderError(_("Folder cannot be read: {path}").format(path=folder))
        self.store.add_folder(folder)
        return self.sync_folder(folder, progress)

    def reindex_folder(self, folder: Path, progress: ProgressCallback | None = None) -> Progress:
        """Read every file of the folder again, changed or not (after an extractor update, or
        to retry files that failed)."""
        folder = folder.expanduser().resolve()
        db = self.store.db
        for folder_id, watched in self.store.folders():
            if watched == folder and not folder_presence.look(db, folder_id, folder).connected:
                raise FolderError(_not_connected(folder))
        self.store.forget_contents(folder)
        return self.sync_folder(folder, progress)

    def remove_folder(self, folder: Path) -> bool:
        """Forget a folder and everything indexed from it (the files themselves are untouched)."""
        return self.store.remove_folder(folder.expanduser().resolve())

    def sync_all(self, progress: ProgressCallback | None = None) -> Progress:
        last = Progress(0, 0, None, 0, 0, 0)
        for _folder_id, folder in self.store.folders():
            last = self.sync_folder(folder, progress)
        return last

    def sync_folder(self, folder: Path, progress: ProgressCallback | None = None) -> Progress:
        """Bring the index in line with the folder: new, changed, and deleted files."""
        folder_id = self.store.add_folder(folder)
        known = self.store.documents_in(folder_id)
        found = list(scan(folder, self.options.ignore_patterns)) if folder.is_dir() else []
        # Looked at after the scan: a drive unplugged while it was listed keeps its documents.
        if not folder_presence.note(self.store.db, folder_id, folder).connected:
            return Progress(0, 0, None, 0, 0, 0)  # they wait for it, neither read nor forgotten
        seen = {path_key(p) for p, _st in found}
        self.store.remove_documents([p for p in known if p not in seen])
        todo = []
        for path, st in found:
            state = known.get(path_key(path))
            if (
                state is None
                or state.status != "indexed"
                or (state.size != st.st_size or state.mtime_ns != st.st_mtime_ns)
            ):
                todo.append((path, st))
        self.store.mark_pending(folder_id, [p for p, _st in todo])
        indexed = failed = 0
        unchanged = len(found) - len(todo)
        total = len(todo)
        if progress:
            progress(Progress(0, total, todo[0][0] if todo else None, indexed, unchanged, failed))
        for done, (path, outcome) in enumerate(self._index(folder_id, todo), start=1):
            indexed += outcome == "indexed"
            unchanged += outcome == "unchanged"
            failed += outcome == "error"
            if progress and done < total:
                progress(Progress(done, total, path, indexed, unchanged, failed))
        final = Progress(total, total, None, indexed, unchanged, failed)
        if progress:
            progress(final)
        return final

    def index_path(self, path: Path) -> str | None:
        """Index (or re-index) one file under a watched folder; returns the outcome."""
        return self.index_paths([path])[path.resolve()]

    def index_paths(self, paths: list[Path]) -> dict[Path, str | None]:
        """Index (or re-index) files under watched folders, read in parallel; each resolved
        path's outcome (None: not a file Lanterne indexes)."""
        outcomes: dict[Path, str | None] = {}
        todo: dict[int, list[tuple[Path, os.stat_result]]] = {}
        for path in dict.fromkeys(p.resolve() for p in paths):
            owning = self._owning_folder(path)
            if owning is None:
                outcomes[path] = None
                continue
            owner, root = owning
            if path.name == IGNORE_FILE:  # the rules changed: bring the whole folder in line
                self.sync_folder(root)
                outcomes[path] = "rescanned"
            elif not is_candidate(path):
                outcomes[path] = None
            elif IgnoreRules(root, self.options.ignore_patterns).ignores(path):
                self.remove_path(path)
                outcomes[path] = "removed"
            else:
                try:
                    st = path.stat()
                except OSError:
                    st = None
                if st is not None and is_regular(st):
                    todo.setdefault(owner, []).append((path, st))
                elif st is not None and stat.S_ISDIR(st.st_mode):  # its own event syncs it
                    self.store.remove_documents([path_key(path)])
                    outcomes[path] = "removed"
                else:  # gone, or a pipe, socket or device now has its name: not a document
                    self.remove_path(path)
                    outcomes[path] = "removed"
        for owner, files in todo.items():
            outcomes.update(self._index(owner, files))
        return outcomes

    def remove_path(self, path: Path) -> None:
        """Forget a deleted file, or every file under a deleted folder, except those of a
        watched folder that is not connected: they wait for it."""
        key = path_key(path)
        prefix = key.rstrip(os.sep) + os.sep
        rows = self.store.db.execute(
            "SELECT path, folder_id FROM documents WHERE path = ? OR substr(path, 1, ?) = ?",
            [key, len(prefix), prefix],
        ).fetchall()
        away = folder_presence.away(self.store.db, {int(r[1]) for r in rows})
        self.store.remove_documents([r[0] for r in rows if int(r[1]) not in away])

    def _owning_folder(self, path: Path) -> tuple[int, Path] | None:
        for folder_id, folder in self.store.folders():
            if path.is_relative_to(folder):
                return folder_id, folder
        return None

    def _index(
        self, folder_id: int, files: list[tuple[Path, os.stat_result]]
    ) -> Iterator[tuple[Path, str]]:
        """Read the files in the reader processes and write each as it comes back; yields
        (path, outcome) in the order they finish."""
        stats = {path: st for path, st in files}
        jobs = []
        for path, st in files:
            if st.st_size > self.options.max_file_bytes:
                reason = reasons.worded(
                    reasons.TOO_LARGE,
                    size=st.st_size // (1024 * 1024),
                    limit=self.options.max_file_bytes // (1024 * 1024),
                )
                self.store.write_error(
                    folder_id, path, size=st.st_size, mtime_ns=st.st_mtime_ns, reason=reason
                )
                yield path, "error"
                continue
            previous = self.store.document(path)
            known = previous.sha256 if previous and previous.status != "error" else None
            jobs.append(ReadJob(path, known, self.options.chunk_chars, self.options.chunk_overlap))
        for job, outcome in self._readers().read(jobs):
            yield job.path, self._write(folder_id, job.path, stats[job.path], outcome)
            self.gate.wait(self.stop)

    def _write(self, folder_id: int, path: Path, st: os.stat_result, outcome: ReadOutcome) -> str:
        if isinstance(outcome, Unreadable):
            self.store.write_error(
                folder_id, path, size=st.st_size, mtime_ns=st.st_mtime_ns, reason=outcome.reason
            )
            return "error"
        size, mtime_ns = outcome.version.size, outcome.version.mtime_ns
        if isinstance(outcome, Unchanged):
            self.store.touch_document(path, size=size, mtime_ns=mtime_ns)
            return "unchanged"
        self.store.write_document(
            folder_id,
            path,
            size=size,
            mtime_ns=mtime_ns,
            sha256=outcome.sha256,
            title=outcome.title,
            lang=_main_language(outcome.chunks),
            chunks=outcome.chunks,
            stems=outcome.stems,
        )
        return "indexed"


def _not_connected(folder: Path) -> str:
    return _(
        "{path} is not connected: connect the drive or network share it is on, then try again."
    ).format(path=folder)


def _close_pools(pools: list[ReaderPool]) -> None:
    while pools:
        pools.pop().close()


def _main_language(chunks: list[Chunk]) -> Language:
    """The language most of the document's text is in."""
    chars: dict[Language, int] = {}
    for c in chunks:
        chars[c.lang] = chars.get(c.lang, 0) + len(c.text)
    return max(chars, key=lambda lang: chars[lang]) if chars else "other"
