"""The index database's schema migrations (run by lanterne.foundation.database).

Append new migrations at the end; never edit one that has shipped. `tests/test_index_schema.py`
pins the resulting schema.
"""

from __future__ import annotations

import sqlite_utils

from lanterne.foundation.database import Migrations
from lanterne.foundation.stemming import stem_text

MIGRATIONS = Migrations()
migration = MIGRATIONS.add


@migration
def m001_initial(db: sqlite_utils.Database) -> None:
    db["folders"].create(  # type: ignore[union-attr]
        {"id": int, "path": str, "added_at": str}, pk="id", not_null={"path", "added_at"}
    )
    db["folders"].create_index(["path"], unique=True)  # type: ignore[union-attr]
    db["documents"].create(  # type: ignore[union-attr]
        {
            "id": int,
            "folder_id": int,
            "path": str,
            "size": int,
            "mtime_ns": int,
            "sha256": str,
            "title": str,
            "lang": str,
            "status": str,  # 'indexed' or 'error'
            "error": str,
            "indexed_at": str,
        },
        pk="id",
        not_null={"folder_id", "path", "status"},
        foreign_keys=[("folder_id", "folders", "id")],
    )
    db["documents"].create_index(["path"], unique=True)  # type: ignore[union-attr]
    db["documents"].create_index(["folder_id"])  # type: ignore[union-attr]
    db["chunks"].create(  # type: ignore[union-attr]
        {
            "id": int,
            "document_id": int,
            "ordinal": int,
            "text": str,
            "heading": str,
            "page": int,
            "line": int,
            "lang": str,
        },
        pk="id",
        not_null={"document_id", "ordinal", "text"},
        foreign_keys=[("document_id", "documents", "id")],
    )
    db["chunks"].create_index(["document_id"])  # type: ignore[union-attr]
    # Porter stemming over unicode61 with diacritics folded: "été" matches "ete", "indexing"
    # matches "index". French stemming arrives with the indexer's own issue.
    db["chunks"].enable_fts(  # type: ignore[union-attr]
        ["text", "heading"],
        fts_version="FTS5",
        tokenize="porter unicode61 remove_diacritics 2",
        create_triggers=True,
    )


@migration
def m002_french_english_stems(db: sqlite_utils.Database) -> None:
    """Replace the porter (English-only) index by one over Snowball stems in each chunk's language.

    Rows of `chunks_stems` are written by the store next to their chunk (the stems come from
    Python, which FTS5 cannot call); a trigger removes them with their chunk.
    """
    db["chunks"].disable_fts()  # type: ignore[union-attr]
    db.execute(
        "CREATE VIRTUAL TABLE chunks_stems USING fts5("
        "text, heading, tokenize = 'unicode61 remove_diacritics 2')"
    )
    db.execute(
        "CREATE TRIGGER chunks_stems_ad AFTER DELETE ON chunks BEGIN "
        "DELETE FROM chunks_stems WHERE rowid = old.id; END"
    )
    rows = db.execute("SELECT id, text, heading, lang FROM chunks").fetchall()
    db.conn.executemany(
        "INSERT INTO chunks_stems (rowid, text, heading) VALUES (?, ?, ?)",
        [(r[0], stem_text(r[1], r[3]), stem_text(r[2] or "", r[3])) for r in rows],
    )


@migration
def m003_vectors(db: sqlite_utils.Database) -> None:
    """Chunk embeddings, int8 with a scale (see indexer/vectors.py), one model's at a time per
    chunk. A chunk without a row for the configured model is the embedding queue: durable by
    construction, resumed after any crash. `id` only grows, so readers load just what is new;
    `vector_changes` counts deletions so they know when to reload."""
    db.execute(
        "CREATE TABLE vectors (id INTEGER PRIMARY KEY AUTOINCREMENT, "
        "chunk_id INTEGER NOT NULL UNIQUE, model TEXT NOT NULL, "
        "scale REAL NOT NULL, vector BLOB NOT NULL)"
    )
    db.execute("CREATE INDEX vectors_model_id ON vectors (model, id)")
    db.execute(
        "CREATE TABLE vector_changes (id INTEGER PRIMARY KEY CHECK (id = 1), "
        "deleted INTEGER NOT NULL)"
    )
    db.execute("INSERT INTO vector_changes (id, deleted) VALUES (1, 0)")
    db.execute(
        "CREATE TRIGGER chunks_vectors_ad AFTER DELETE ON chunks BEGIN "
        "DELETE FROM vectors WHERE chunk_id = old.id; END"
    )
    db.execute(
        "CREATE TRIGGER vectors_ad AFTER DELETE ON vectors BEGIN "
        "UPDATE vector_changes SET deleted = deleted + 1 WHERE id = 1; END"
    )


@migration
def m004_vectors_per_model(db: sqlite_utils.Database) -> None:
    """A chunk may hold one vector per model, so that changing the embedding model keeps
    search by meaning on the old vectors until the new model has embedded every passage; the
    old ones are dropped then. `vector_models` remembers which file made each model's vectors,
    so a search can embed its question with the same model."""
    db.execute("DROP TRIGGER chunks_vectors_ad")  # a rename checks the triggers' tables
    db.execute(
        "CREATE TABLE vectors_by_model (id INTEGER PRIMARY KEY AUTOINCREMENT, "
        "chunk_id INTEGER NOT NULL, model TEXT NOT NULL, "
        "scale REAL NOT NULL, vector BLOB NOT NULL, UNIQUE (chunk_id, model))"
    )
    db.execute(
        "INSERT INTO vectors_by_model (id, chunk_id, model, scale, vector) "
        "SELECT id, chunk_id, model, scale, vector FROM vectors ORDER BY id"
    )
    db.execute("DROP TABLE vectors")  # its index and its trigger go with it
    db.execute("ALTER TABLE vectors_by_model RENAME TO vectors")
    db.execute("CREATE INDEX vectors_model_id ON vectors (model, id)")
    db.execute(
        "CREATE TRIGGER chunks_vectors_ad AFTER DELETE ON chunks BEGIN "
        "DELETE FROM vectors WHERE chunk_id = old.id; END"
    )
    db.execute(
        "CREATE TRIGGER vectors_ad AFTER DELETE ON vectors BEGIN "
        "UPDATE vector_changes SET deleted = deleted + 1 WHERE id = 1; END"
    )
    db.execute(
        "CREATE TABLE vector_models (model TEXT PRIMARY KEY, path TEXT NOT NULL, "
        "name TEXT NOT NULL, used_at TEXT NOT NULL)"
    )


@migration
def m005_word_neighbours(db: sqlite_utils.Database) -> None:
    """The index's own words (how many passages hold each) and their vectors per embedding
    model: a question word the index lacks is searched by its nearest index word in meaning
    (indexer/word_neighbours.py), int8 without a scale: only cosines are taken of them. `word_scan`
    remembers how far the passages were counted."""
    db.execute("CREATE TABLE words (word TEXT PRIMARY KEY, passages INTEGER NOT NULL)")
    db.execute(
        "CREATE TABLE word_scan (id INTEGER PRIMARY KEY CHECK (id = 1), "
        "last_chunk_id INTEGER NOT NULL)"
    )
    db.execute("INSERT INTO word_scan (id, last_chunk_id) VALUES (1, 0)")
    db.execute(
        "CREATE TABLE word_vectors (model TEXT NOT NULL, word TEXT NOT NULL, "
        "vector BLOB NOT NULL, PRIMARY KEY (model, word))"
    )


@migration
def m006_folder_presence(db: sqlite_utils.Database) -> None:
    """What the index remembers of each watched folder to tell a drive or share that is not
    connected from a folder deleted on purpose (indexer/folder_presence.py): the device its root
    was on and whether it was a mount point when last seen, and since when it has been away.
    A removed folder takes its row with it."""
    db.execute(
        "CREATE TABLE folder_presence (folder_id INTEGER PRIMARY KEY "
        "REFERENCES folders (id) ON DELETE CASCADE, device INTEGER, "
        "mount_point INTEGER NOT NULL DEFAULT 0, missing_since TEXT)"
    )
