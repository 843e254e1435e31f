"""The indexing pipeline: scan -> extract -> chunk -> store, one file per transaction.

Unchanged files (same size and mtime, or else same content hash) are never re-read past the hash.
A file that cannot be read gets its reason recorded and the rest continues.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lanterne.indexer import language
from lanterne.indexer.chunker import Chunk, chunk_document
from lanterne.indexer.document import ExtractionError
from lanterne.indexer.extract import extract
from lanterne.indexer.ignore_rules import IGNORE_FILE, IgnoreRules
from lanterne.indexer.language import Language
from lanterne.indexer.scanner import is_candidate, scan
from lanterne.indexer.store import IndexStore
from lanterne.translation import _


@dataclass(frozen=True)
class IndexOptions:
    chunk_chars: int = 1200
    chunk_overlap: int = 150
    max_file_bytes: int = 50 * 1024 * 1024


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
        found = list(scan(folder)) if folder.is_dir() else []
        seen = {str(p) for p, _st in found}
        self.store.remove_documents([p for p in known if p not in seen])
        todo = []
        for path, st in found:
            state = known.get(str(path))
            if (
                state is None
                or state.status != "indexed"
                or (state.size != st.st_size or state.mtime_ns != st.st_mtime_ns)
            ):
                todo.append((path, st))
        self.store.mark_pending(folder_id, [p for p, _st in todo])
        if todo:
            language.preload()
        indexed = failed = 0
        unchanged = len(found) - len(todo)
        total = len(todo)
        for done, (path, st) in enumerate(todo):
            if progress:
                progress(Progress(done, total, path, indexed, unchanged, failed))
            outcome = self._index_one(folder_id, path, st)
            indexed += outcome == "indexed"
            unchanged += outcome == "unchanged"
            failed += outcome == "error"
        final = Progress(total, total, None, indexed, unchanged, failed)
        if progress:
            progress(final)
        return final

    def index_path(self, path: Path) -> str | None:
        """Index (or re-index) one file under a watched folder; returns the outcome."""
        path = path.resolve()
        if path.name == IGNORE_FILE:  # the rules changed: bring the whole folder in line
            folder = self._owning_folder(path)
            if folder is None:
                return None
            self.sync_folder(folder[1])
            return "rescanned"
        if not is_candidate(path):
            return None
        owning = self._owning_folder(path)
        if owning is None:
            return None
        owner, root = owning
        if IgnoreRules(root).ignores(path):
            self.remove_path(path)
            return "removed"
        try:
            st = path.stat()
        except OSError:
            self.remove_path(path)
            return "removed"
        return self._index_one(owner, path, st)

    def remove_path(self, path: Path) -> None:
        """Forget a deleted file, or every file under a deleted folder."""
        key = str(path)
        prefix = key.rstrip(os.sep) + os.sep
        rows = self.store.db.execute(
            "SELECT path FROM documents WHERE path = ? OR substr(path, 1, ?) = ?",
            [key, len(prefix), prefix],
        ).fetchall()
        self.store.remove_documents([r[0] for r in rows])

    def _owning_folder(self, path: Path) -> tuple[int, Path] | None:
        for folder_id, folder in self.store.folders():
            if path.is_relative_to(folder):
                return folder_id, folder
        return None

    def _index_one(self, folder_id: int, path: Path, st: os.stat_result) -> str:
        size, mtime_ns = st.st_size, st.st_mtime_ns
        if size > self.options.max_file_bytes:
            reason = _("File too large ({size} MB; the limit is {limit} MB).").format(
                size=size // (1024 * 1024), limit=self.options.max_file_bytes // (1024 * 1024)
            )
            self.store.write_error(folder_id, path, size=size, mtime_ns=mtime_ns, reason=reason)
            return "error"
        try:
            data = path.read_bytes()
        except OSError as exc:
            reason = _("The file could not be read: {error}").format(error=exc.strerror or exc)
            self.store.write_error(folder_id, path, size=size, mtime_ns=mtime_ns, reason=reason)
            return "error"
        digest = hashlib.sha256(data).hexdigest()
        previous = self.store.document(path)
        if previous is not None and previous.sha256 == digest and previous.status != "error":
            self.store.touch_document(path, mtime_ns=mtime_ns)
            return "unchanged"
        try:
            doc = extract(path, data)
            chunks = chunk_document(doc, self.options.chunk_chars, self.options.chunk_overlap)
        except ExtractionError as exc:
            self.store.write_error(folder_id, path, size=size, mtime_ns=mtime_ns, reason=exc.reason)
            return "error"
        except Exception as exc:  # a hostile or broken file must never stop the whole index
            reason = _("Unexpected error while reading this file: {error}").format(
                error=f"{type(exc).__name__}: {exc}"
            )
            self.store.write_error(folder_id, path, size=size, mtime_ns=mtime_ns, reason=reason)
            return "error"
        lang = _main_language(chunks)
        self.store.write_document(
            folder_id,
            path,
            size=size,
            mtime_ns=mtime_ns,
            sha256=digest,
            title=doc.title,
            lang=lang,
            chunks=chunks,
        )
        return "indexed"


def _main_language(chunks: list[Chunk]) -> Language:
    """The language most of the document's text is in."""
    chars: dict[Language, int] = {}
    for c in chunks:
        chars[c.lang] = chars.get(c.lang, 0) + len(c.text)
    return max(chars, key=lambda lang: chars[lang]) if chars else "other"
