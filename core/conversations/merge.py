"""Rows salvaged from a damaged database, added to the restored one without duplicates.

The restored backup wins for every row it holds: its copy was checked whole, while a damaged
file can return a damaged row without an error. What the backup lacks is added: conversations
and messages written after it. A row whose id the backup gives to another row (a conversation
deleted after the backup, its id used again) is added under a new id. Messages whose
conversation could not be read are gathered under a "Recovered conversation".
"""

from __future__ import annotations

import sqlite3
from typing import Any

import sqlite_utils

from lanterne.conversations.salvage import CONVERSATION_FIELDS, MESSAGE_FIELDS, Salvaged
from lanterne.foundation.database import transaction
from lanterne.foundation.translation import _


def merge(found: Salvaged, db: sqlite_utils.Database) -> int:
    """Add what the backup lacks, in one transaction; returns how many messages were added."""
    with transaction(db):
        ids = _merge_conversations(found, db)
        return _merge_messages(found, db, ids)


def _existing(db: sqlite_utils.Database, table: str, rowid: int, column: str) -> Any:
    row = db.execute(f"SELECT {column} FROM {table} WHERE id = ?", [rowid]).fetchone()
    return None if row is None else (row[0],)


def _insert(db: sqlite_utils.Database, table: str, rowid: int | None, row: dict[str, Any]) -> int:
    names = ["id", *row] if rowid is not None else list(row)
    values = [rowid, *row.values()] if rowid is not None else list(row.values())
    cursor = db.execute(
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
        values,
    )
    return int(cursor.lastrowid or 0)


def _merge_conversations(found: Salvaged, db: sqlite_utils.Database) -> dict[int, int]:
    """Salvaged conversation id -> its id in the restored database."""
    ids: dict[int, int] = {}
    for rowid, row in sorted(found.conversations.items()):
        held = _existing(db, "conversations", rowid, "created_at")
        if held is None:
            ids[rowid] = _insert(db, "conversations", rowid, row)
        elif held[0] == row["created_at"]:  # the same conversation: the backup's row stays
            ids[rowid] = rowid
            db.execute(
                "UPDATE conversations SET updated_at = max(updated_at, ?) WHERE id = ?",
                [row["updated_at"], rowid],
            )
        else:
            ids[rowid] = _insert(db, "conversations", None, row)
    return ids


def _merge_messages(found: Salvaged, db: sqlite_utils.Database, ids: dict[int, int]) -> int:
    added = 0
    for rowid, row in sorted(found.messages.items()):
        owner = _owner(db, ids, row)
        held = _existing(db, "messages", rowid, "conversation_id || ' ' || created_at")
        if held is not None and held[0] == f"{owner} {row['created_at']}":
            continue  # the backup holds it already
        values = {name: row[name] for name in MESSAGE_FIELDS} | {"conversation_id": owner}
        try:
            _insert(db, "messages", rowid if held is None else None, values)
        except sqlite3.IntegrityError:  # a row that only looked whole: this one is skipped
            continue
        db.execute(
            "UPDATE conversations SET updated_at = max(updated_at, ?) WHERE id = ?",
            [row["created_at"], owner],
        )
        added += 1
    return added


def _owner(db: sqlite_utils.Database, ids: dict[int, int], row: dict[str, Any]) -> int:
    """The restored conversation a salvaged message belongs to, made if it could not be read."""
    salvaged_id = int(row["conversation_id"])
    if salvaged_id in ids:
        return ids[salvaged_id]
    held = _existing(db, "conversations", salvaged_id, "id") is not None
    if held and salvaged_id not in ids.values():  # in the backup; unreadable in the damaged file
        ids[salvaged_id] = salvaged_id
        return salvaged_id
    title = {"title": _("Recovered conversation")}
    moments = {name: row["created_at"] for name in CONVERSATION_FIELDS[1:]}
    ids[salvaged_id] = _insert(db, "conversations", None if held else salvaged_id, title | moments)
    return ids[salvaged_id]
