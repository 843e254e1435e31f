"""What an index holds, comparable between two databases, and the invariants it must keep.

Row ids, timestamps and the order of writing differ between an index built in one go and one
resumed after crashes; what a user can find must not. `contents()` keeps only that: folders,
each document's recorded state and its passages, and the stems the search reads for each.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

Contents = dict[str, Any]


TABLES = {"folders", "documents", "chunks", "chunks_stems", "vectors"}


def _connect(path: Path) -> sqlite3.Connection:
    # A plain connection: it neither migrates nor switches the journal. (Not read-only: FTS5's
    # integrity-check is an INSERT.) Callers check first that the file exists.
    return sqlite3.connect(path, timeout=30)


def contents(path: Path) -> Contents:
    conn = _connect(path)
    try:
        folders = sorted(r[0] for r in conn.execute("SELECT path FROM folders"))
        documents = {
            r[0]: r[1:]
            for r in conn.execute(
                "SELECT path, status, size, mtime_ns, sha256, title, lang, error FROM documents"
            )
        }
        passages: dict[str, list[tuple[object, ...]]] = {}
        for row in conn.execute(
            "SELECT d.path, c.ordinal, c.text, c.heading, c.page, c.line, c.lang, "
            "s.text, s.heading FROM chunks c JOIN documents d ON d.id = c.document_id "
            "LEFT JOIN chunks_stems s ON s.rowid = c.id ORDER BY d.path, c.ordinal"
        ):
            passages.setdefault(row[0], []).append(row[1:])
        return {"folders": folders, "documents": documents, "passages": passages}
    finally:
        conn.close()


def problems(path: Path) -> list[str]:
    """Broken invariants: SQLite's and FTS5's own checks, then the index's relations.

    A run killed during start-up may leave no data directory, or an index whose first
    migration never committed: no tables at all is a sound state, some of them is not."""
    if not path.exists():
        return []
    conn = _connect(path)
    try:
        found: list[str] = []
        integrity = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        if integrity != ["ok"]:
            found.append(f"integrity_check: {integrity[:5]}")
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")} & TABLES
        if not tables:
            return found
        if tables != TABLES:
            return [*found, f"partial schema: {sorted(tables)}"]
        queries = {
            "chunks without a document": "SELECT COUNT(*) FROM chunks WHERE document_id "
            "NOT IN (SELECT id FROM documents)",
            "documents without a folder": "SELECT COUNT(*) FROM documents WHERE folder_id "
            "NOT IN (SELECT id FROM folders)",
            "chunks without stems": "SELECT COUNT(*) FROM chunks WHERE id "
            "NOT IN (SELECT rowid FROM chunks_stems)",
            "stems without a chunk": "SELECT COUNT(*) FROM chunks_stems WHERE rowid "
            "NOT IN (SELECT id FROM chunks)",
            "duplicate passages": "SELECT COUNT(*) FROM (SELECT document_id, ordinal "
            "FROM chunks GROUP BY 1, 2 HAVING COUNT(*) > 1)",
            "passages of unindexed documents": "SELECT COUNT(*) FROM chunks WHERE document_id "
            "IN (SELECT id FROM documents WHERE status = 'error')",
            "vectors without a chunk": "SELECT COUNT(*) FROM vectors WHERE chunk_id "
            "NOT IN (SELECT id FROM chunks)",
        }
        for name, query in queries.items():
            count = conn.execute(query).fetchone()[0]
            if count:
                found.append(f"{name}: {count}")
        try:  # FTS5's own check of its index against its content
            conn.execute("INSERT INTO chunks_stems (chunks_stems) VALUES ('integrity-check')")
        except sqlite3.DatabaseError as exc:
            found.append(f"chunks_stems integrity-check: {exc}")
        return found
    finally:
        conn.close()


def differences(got: Contents, want: Contents) -> list[str]:
    """What a user would see differently: missing, stale or extra documents and passages."""
    found: list[str] = []
    if got["folders"] != want["folders"]:
        found.append(f"folders {got['folders']} != {want['folders']}")
    for kind in ("documents", "passages"):
        mine, theirs = got[kind], want[kind]
        for path in sorted(set(mine) | set(theirs)):
            if path not in mine:
                found.append(f"{kind}: missing {path}")
            elif path not in theirs:
                found.append(f"{kind}: extra {path}")
            elif mine[path] != theirs[path]:
                detail = f": {mine[path]} != {theirs[path]}" if kind == "documents" else ""
                found.append(f"{kind}: {path} differs{detail}")
    return found
