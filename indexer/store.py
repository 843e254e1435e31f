"""The index database: folders, documents, chunks and their full-text index.

One SQLite file in WAL mode so readers (search, the GUI) never wait on the single writer (the
indexer). Each document is replaced in one transaction: a crash leaves either the old or the new
version, and rows still marked 'pending' tell the next run where to resume.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from lanterne.foundation.database import transaction
from lanterne.foundation.read_only_folder import ReadOnlyIndex
from lanterne.foundation.stemming import stem_text
from lanterne.indexer import folder_presence
from lanterne.indexer.chunker import Chunk
from lanterne.indexer.folder_backup import backup_path, save_folders
from lanterne.indexer.index_health import OpenIndex
from lanterne.indexer.migrations import MIGRATIONS


@dataclass(frozen=True)
class DocumentState:
    id: int
    path: str
    size: int | None
    mtime_ns: int | None
    sha256: str | None
    status: str


@dataclass(frozen=True)
class PendingChunk:
    """A passage waiting for its vector."""

    id: int
    heading: str
    text: str

    @property
    def embedding_text(self) -> str:
        return f"{self.heading}\n{self.text}" if self.heading else self.text


@dataclass(frozen=True)
class VectorModel:
    """An embedding model that has vectors in the index, and the file that made them."""

    model: str  # the vectors' key (indexer.embedding.model_key)
    path: str
    name: str
    count: int


@dataclass(frozen=True)
class FileError:
    path: str
    reason: str


@dataclass(frozen=True)
class FolderStatus:
    path: str
    documents: int
    chunks: int
    pending: int
    errors: int
    state: str = "connected"  # or "not_connected", "gone" (indexer/folder_presence.py)
    missing_since: str | None = None  # when it was first found away (ISO 8601, UTC)


@dataclass(frozen=True)
class IndexStatus:
    folders: list[FolderStatus]
    documents: int
    chunks: int
    pending: int
    errors: list[FileError]


def storable(text: str) -> str:
    """Text SQLite can take. A name that is not valid UTF-8 (a Latin-1 file name on Linux)
    reaches Python with surrogates, in a path and in titles made from it; its odd bytes are
    kept as \\xNN escapes, so one such name cannot stop a whole index."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text


def path_key(path: Path | str) -> str:
    """A path as the index stores it: the same file always gets the same key."""
    return storable(str(path))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class IndexStore:
    """One connection to the index; open one per thread."""

    def __init__(self, path: Path, read_only: bool = False) -> None:
        """`read_only`: for reading in a data folder Lanterne cannot write to."""
        self.path = path
        self.handle: OpenIndex | ReadOnlyIndex = (
            ReadOnlyIndex(path, MIGRATIONS.names()) if read_only else OpenIndex(path, MIGRATIONS)
        )  # damage at open: IndexDamagedError
        self.db = self.handle.db

    def close(self) -> None:
        self.handle.close()

    # Folders ------------------------------------------------------------------------------

    def add_folder(self, folder: Path) -> int:
        with transaction(self.db):
            added = self.db.execute(
                "INSERT OR IGNORE INTO folders (path, added_at) VALUES (?, ?)",
                [path_key(folder), _now()],
            ).rowcount
        if added or not backup_path(self.path).exists():
            save_folders(self.db, self.path)
        row = self.db.execute(
            "SELECT id FROM folders WHERE path = ?", [path_key(folder)]
        ).fetchone()
        return int(row[0])

    def folders(self) -> list[tuple[int, Path]]:
        rows = self.db.execute("SELECT id, path FROM folders ORDER BY path").fetchall()
        return [(int(r[0]), Path(r[1])) for r in rows]

    def remove_folder(self, folder: Path) -> bool:
        row = self.db.execute(
            "SELECT id FROM folders WHERE path = ?", [path_key(folder)]
        ).fetchone()
        if row is None:
            return False
        with transaction(self.db):
            self.db.execute(
                "DELETE FROM chunks WHERE document_id IN "
                "(SELECT id FROM documents WHERE folder_id = ?)",
                [row[0]],
            )
            self.db.execute("DELETE FROM documents WHERE folder_id = ?", [row[0]])
            self.db.execute("DELETE FROM folders WHERE id = ?", [row[0]])
        save_folders(self.db, self.path)
        return True

    # Documents ----------------------------------------------------------------------------

    def documents_in(self, folder_id: int) -> dict[str, DocumentState]:
        rows = self.db.execute(
            "SELECT id, path, size, mtime_ns, sha256, status FROM documents WHERE folder_id = ?",
            [folder_id],
        ).fetchall()
        return {r[1]: DocumentState(*r) for r in rows}

    def document(self, path: Path) -> DocumentState | None:
        row = self.db.execute(
            "SELECT id, path, size, mtime_ns, sha256, status FROM documents WHERE path = ?",
            [path_key(path)],
        ).fetchone()
        return DocumentState(*row) if row else None

    def forget_contents(self, folder: Path) -> None:
        """Make the next scan read every file of the folder again; its passages stay
        searchable until each file is rewritten."""
        with transaction(self.db):
            self.db.execute(
                "UPDATE documents SET status = 'pending', sha256 = NULL "
                "WHERE folder_id = (SELECT id FROM folders WHERE path = ?)",
                [path_key(folder)],
            )

    def mark_pending(self, folder_id: int, paths: list[Path]) -> None:
        """Record files found but not yet indexed, so a crash or restart resumes with them."""
        with transaction(self.db):
            self.db.conn.executemany(
                "INSERT INTO documents (folder_id, path, status) VALUES (?, ?, 'pending') "
                "ON CONFLICT(path) DO UPDATE SET status = 'pending'",
                [(folder_id, path_key(p)) for p in paths],
            )

    def write_document(
        self,
        folder_id: int,
        path: Path,
        *,
        size: int,
        mtime_ns: int,
        sha256: str,
        title: str | None,
        lang: str,
        chunks: list[Chunk],
        stems: list[tuple[str, str]] | None = None,
    ) -> None:
        """`stems`: each chunk's (text, heading) stems when the reader computed them already."""
        if stems is None:
            stems = [(stem_text(c.text, c.lang), stem_text(c.heading, c.lang)) for c in chunks]
        with transaction(self.db):
            doc_id = self._upsert(
                folder_id, path, size, mtime_ns, sha256, title, lang, "indexed", None
            )
            self.db.execute("DELETE FROM chunks WHERE document_id = ?", [doc_id])
            # Ids chosen here (this connection is the only writer) so that both tables are
            # filled by one executemany each rather than a statement per passage.
            row = self.db.execute("SELECT COALESCE(MAX(id), 0) FROM chunks").fetchone()
            ids = range(int(row[0]) + 1, int(row[0]) + 1 + len(chunks))
            self.db.conn.executemany(
                "INSERT INTO chunks (id, document_id, ordinal, text, heading, page, line, lang) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        i,
                        doc_id,
                        c.ordinal,
                        storable(c.text),
                        storable(c.heading),
                        c.page,
                        c.line,
                        c.lang,
                    )
                    for i, c in zip(ids, chunks, strict=True)
                ],
            )
            self.db.conn.executemany(
                "INSERT INTO chunks_stems (rowid, text, heading) VALUES (?, ?, ?)",
                [
                    (i, storable(text), storable(heading))
                    for i, (text, heading) in zip(ids, stems, strict=True)
                ],
            )

    def write_error(
        self, folder_id: int, path: Path, *, size: int | None, mtime_ns: int | None, reason: str
    ) -> None:
        with transaction(self.db):
            doc_id = self._upsert(
                folder_id, path, size, mtime_ns, None, None, None, "error", reason
            )
            self.db.execute("DELETE FROM chunks WHERE document_id = ?", [doc_id])

    def touch_document(self, path: Path, *, size: int, mtime_ns: int) -> None:
        """The content hash is unchanged: remember its stamp so the next scan skips it."""
        with transaction(self.db):
            self.db.execute(
                "UPDATE documents SET size = ?, mtime_ns = ?, status = 'indexed' WHERE path = ?",
                [size, mtime_ns, path_key(path)],
            )

    def remove_documents(self, paths: list[str]) -> None:
        with transaction(self.db):
            for path in paths:
                self.db.execute(
                    "DELETE FROM chunks WHERE document_id IN "
                    "(SELECT id FROM documents WHERE path = ?)",
                    [path],
                )
                self.db.execute("DELETE FROM documents WHERE path = ?", [path])

    def _upsert(
        self,
        folder_id: int,
        path: Path,
        size: int | None,
        mtime_ns: int | None,
        sha256: str | None,
        title: str | None,
        lang: str | None,
        status: str,
        error: str | None,
    ) -> int:
        self.db.execute(
            "INSERT INTO documents "
            "(folder_id, path, size, mtime_ns, sha256, title, lang, status, error, indexed_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(path) DO UPDATE SET folder_id = excluded.folder_id, size = excluded.size, "
            "mtime_ns = excluded.mtime_ns, sha256 = excluded.sha256, title = excluded.title, "
            "lang = excluded.lang, status = excluded.status, error = excluded.error, "
            "indexed_at = excluded.indexed_at",
            [
                *(folder_id, path_key(path), size, mtime_ns, sha256),
                *(title and storable(title), lang, status, error and storable(error), _now()),
            ],
        )
        row = self.db.execute(
            "SELECT id FROM documents WHERE path = ?", [path_key(path)]
        ).fetchone()
        return int(row[0])

    # Vectors ------------------------------------------------------------------------------

    def chunks_to_embed(
        self, model: str, limit: int, recent_after_ns: int = 0
    ) -> list[PendingChunk]:
        """Chunks with no vector from `model`, those the user is most likely to search first:
        files changed since `recent_after_ns` (what they work on now), then the most recently
        added folder's (the one they just chose), newest files first; a document's passages
        in order. Documents are ranked, not chunks, so the sort stays small on large indexes."""
        missing = "NOT EXISTS (SELECT 1 FROM vectors v WHERE v.chunk_id = c.id AND v.model = ?)"
        rows = self.db.execute(
            "WITH waiting AS (SELECT DISTINCT c.document_id AS id FROM chunks c "
            f"WHERE {missing}), "
            "next AS (SELECT d.id, (d.mtime_ns >= ?) AS recent, f.added_at, d.mtime_ns "
            "FROM waiting w JOIN documents d ON d.id = w.id JOIN folders f ON f.id = d.folder_id "
            "ORDER BY recent DESC, f.added_at DESC, d.mtime_ns DESC LIMIT ?) "
            "SELECT c.id, c.heading, c.text FROM next JOIN chunks c ON c.document_id = next.id "
            f"WHERE {missing} "
            "ORDER BY next.recent DESC, next.added_at DESC, next.mtime_ns DESC, c.id LIMIT ?",
            [model, recent_after_ns, limit, model, limit],
        ).fetchall()
        return [PendingChunk(int(r[0]), r[1] or "", r[2]) for r in rows]

    def write_vectors(
        self, model: str, chunks: list[PendingChunk], scales: list[float], vectors: list[bytes]
    ) -> None:
        """Store one batch; chunks deleted or rewritten meanwhile (by the indexer) are skipped.

        A rewritten file's new passages can take the ids its old ones had, hence the text check.
        """
        with transaction(self.db):
            self.db.conn.executemany(
                "INSERT OR REPLACE INTO vectors (chunk_id, model, scale, vector) "
                "SELECT ?, ?, ?, ? WHERE EXISTS "
                "(SELECT 1 FROM chunks WHERE id = ? AND text = ? AND COALESCE(heading, '') = ?)",
                [
                    (c.id, model, scale, blob, c.id, c.text, c.heading)
                    for c, scale, blob in zip(chunks, scales, vectors, strict=True)
                ],
            )

    def remember_vector_model(self, model: str, path: Path, name: str) -> None:
        """Record which file makes `model`'s vectors, so searches can embed questions with it."""
        with transaction(self.db):
            self.db.execute(
                "INSERT INTO vector_models (model, path, name, used_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (model) DO UPDATE SET path = excluded.path, name = excluded.name, "
                "used_at = excluded.used_at",
                [model, str(path), name, _now()],
            )

    def vector_models(self) -> list[VectorModel]:
        """The models that have vectors here, most vectors first."""
        rows = self.db.execute(
            "SELECT v.model, COALESCE(m.path, ''), COALESCE(m.name, v.model), COUNT(*) AS n "
            "FROM vectors v LEFT JOIN vector_models m ON m.model = v.model "
            "GROUP BY v.model ORDER BY n DESC, v.model"
        ).fetchall()
        return [VectorModel(r[0], r[1], r[2], int(r[3])) for r in rows]

    def has_other_vectors(self, model: str) -> bool:
        """Whether any model but `model` has vectors: two range lookups on the (model, id)
        index, so every search can ask without scanning the vectors."""
        row = self.db.execute(
            "SELECT EXISTS (SELECT 1 FROM vectors WHERE model < ?) "
            "OR EXISTS (SELECT 1 FROM vectors WHERE model > ?)",
            [model, model],
        ).fetchone()
        return bool(row[0])

    def drop_vectors_except(self, model: str) -> int:
        """Forget every other model's vectors (once `model` has embedded every passage);
        returns how many went."""
        if not self.has_other_vectors(model):
            return 0
        with transaction(self.db):
            gone = self.db.execute("DELETE FROM vectors WHERE model != ?", [model]).rowcount
            self.db.execute("DELETE FROM vector_models WHERE model != ?", [model])
            self.db.execute("DELETE FROM word_vectors WHERE model != ?", [model])
        return int(gone)

    # Words, for a question's words in the other language (indexer/word_neighbours.py) -----

    def count_new_words(self, words_of: Callable[[str], list[str]], batch: int = 2000) -> int:
        """Add the words of passages written since the last count to `words` (how many
        passages hold each); returns how many passages were read."""
        read = 0
        while True:
            last = int(self.db.execute("SELECT last_chunk_id FROM word_scan").fetchone()[0])
            rows = self.db.execute(
                "SELECT id, text, heading FROM chunks WHERE id > ? ORDER BY id LIMIT ?",
                [last, batch],
            ).fetchall()
            if not rows:
                return read
            counts: dict[str, int] = {}
            for _id, text, heading in rows:
                for word in set(words_of(f"{heading or ''} {text}")):
                    counts[word] = counts.get(word, 0) + 1
            with transaction(self.db):
                self.db.conn.executemany(
                    "INSERT INTO words (word, passages) VALUES (?, ?) "
                    "ON CONFLICT (word) DO UPDATE SET passages = passages + excluded.passages",
                    list(counts.items()),
                )
                self.db.execute("UPDATE word_scan SET last_chunk_id = ?", [int(rows[-1][0])])
            read += len(rows)

    def words_to_embed(self, model: str, min_passages: int, limit: int, most: int) -> list[str]:
        """Up to `limit` of the `most` widespread words (held by `min_passages` or more) that
        have no vector from `model` yet."""
        rows = self.db.execute(
            "WITH widest AS (SELECT word FROM words WHERE passages >= ? "
            "ORDER BY passages DESC LIMIT ?) "
            "SELECT w.word FROM widest w WHERE NOT EXISTS "
            "(SELECT 1 FROM word_vectors v WHERE v.model = ? AND v.word = w.word) LIMIT ?",
            [min_passages, most, model, limit],
        ).fetchall()
        return [str(r[0]) for r in rows]

    def write_word_vectors(self, model: str, words: list[str], vectors: list[bytes]) -> None:
        with transaction(self.db):
            self.db.conn.executemany(
                "INSERT OR REPLACE INTO word_vectors (model, word, vector) VALUES (?, ?, ?)",
                [(model, w, v) for w, v in zip(words, vectors, strict=True)],
            )

    def known_words(self, words: list[str]) -> set[str]:
        """Which of `words` some passage holds."""
        if not words:
            return set()
        rows = self.db.execute(
            f"SELECT word FROM words WHERE word IN ({', '.join('?' for _ in words)})", words
        ).fetchall()
        return {str(r[0]) for r in rows}

    def word_vectors(self, model: str) -> tuple[list[str], list[bytes]]:
        rows = self.db.execute(
            "SELECT word, vector FROM word_vectors WHERE model = ?", [model]
        ).fetchall()
        return [r[0] for r in rows], [r[1] for r in rows]

    def vector_counts(self, model: str) -> tuple[int, int]:
        """(chunks with a vector from `model`, all chunks)."""
        row = self.db.execute(
            "SELECT (SELECT COUNT(*) FROM vectors WHERE model = ?), (SELECT COUNT(*) FROM chunks)",
            [model],
        ).fetchone()
        return int(row[0]), int(row[1])

    # Status -------------------------------------------------------------------------------

    def status(self, gone_after_days: float | None = None) -> IndexStatus:
        """`gone_after_days`: the user's delay before a missing folder is called gone."""
        folders = []
        for folder_id, folder in self.folders():
            presence = folder_presence.note(self.db, folder_id, folder, gone_after_days)
            counts = self.db.execute(
                "SELECT "
                " SUM(status = 'indexed'), SUM(status = 'pending'), SUM(status = 'error'),"
                " (SELECT COUNT(*) FROM chunks c JOIN documents d ON c.document_id = d.id"
                "  WHERE d.folder_id = ?) "
                "FROM documents WHERE folder_id = ?",
                [folder_id, folder_id],
            ).fetchone()
            folders.append(
                FolderStatus(
                    path=str(folder),
                    documents=int(counts[0] or 0),
                    pending=int(counts[1] or 0),
                    errors=int(counts[2] or 0),
                    chunks=int(counts[3] or 0),
                    state=presence.state,
                    missing_since=presence.missing_since,
                )
            )
        errors = [
            FileError(path=r[0], reason=r[1])
            for r in self.db.execute(
                "SELECT path, error FROM documents WHERE status = 'error' ORDER BY path"
            ).fetchall()
        ]
        return IndexStatus(
            folders=folders,
            documents=sum(f.documents for f in folders),
            chunks=sum(f.chunks for f in folders),
            pending=sum(f.pending for f in folders),
            errors=errors,
        )
