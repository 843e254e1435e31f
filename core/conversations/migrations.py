"""The conversations database's schema migrations (run by lanterne.foundation.database).

Append new migrations at the end; never edit one that has shipped.
`tests/test_conversation_store.py` pins the resulting schema.
"""

from __future__ import annotations

import sqlite_utils

from lanterne.foundation.database import Migrations

MIGRATIONS = Migrations()


@MIGRATIONS.add
def m001_conversations(db: sqlite_utils.Database) -> None:
    db.execute(
        "CREATE TABLE conversations ("
        "id INTEGER PRIMARY KEY, "
        "title TEXT NOT NULL, "
        "created_at TEXT NOT NULL, "
        "updated_at TEXT NOT NULL)"
    )
    db.execute("CREATE INDEX conversations_updated ON conversations (updated_at)")
    # status: 'complete'; for answers also 'streaming' (being written), 'stopped' (by the user),
    # 'interrupted' (the app ended mid-answer: the text so far is kept) or 'error' (the text is
    # the error shown). sources and details are JSON.
    db.execute(
        "CREATE TABLE messages ("
        "id INTEGER PRIMARY KEY, "
        "conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE, "
        "role TEXT NOT NULL CHECK (role IN ('user', 'assistant')), "
        "text TEXT NOT NULL, "
        "status TEXT NOT NULL, "
        "sources TEXT NOT NULL DEFAULT '[]', "
        "details TEXT NOT NULL DEFAULT '{}', "
        "created_at TEXT NOT NULL)"
    )
    db.execute("CREATE INDEX messages_conversation ON messages (conversation_id, id)")
    db["messages"].enable_fts(  # type: ignore[union-attr]
        ["text"],
        fts_version="FTS5",
        tokenize="unicode61 remove_diacritics 2",
        create_triggers=True,
    )


@MIGRATIONS.add
def m002_feedback(db: sqlite_utils.Database) -> None:
    # rating: 1 (a good answer), -1 (a bad one) or NULL (not rated). edited_text: the answer as
    # the user corrected it, NULL if untouched (the model's text stays in `text`). Both feed the
    # demonstration-data export; feedback_at says when either last changed.
    db.execute("ALTER TABLE messages ADD COLUMN rating INTEGER CHECK (rating IN (-1, 1))")
    db.execute("ALTER TABLE messages ADD COLUMN edited_text TEXT")
    db.execute("ALTER TABLE messages ADD COLUMN feedback_at TEXT")


@MIGRATIONS.add
def m003_reasoning(db: sqlite_utils.Database) -> None:
    # reasoning: what the model wrote before its answer (gpt-oss, Qwen3...), kept apart from
    # `text` so that search, ratings, corrections and exports of the answer never see it.
    db.execute("ALTER TABLE messages ADD COLUMN reasoning TEXT NOT NULL DEFAULT ''")
