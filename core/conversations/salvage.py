"""What a damaged conversations database still holds, read two ways.

First through SQLite, by rowid ranges: a range that raises is halved until the rows around the
damage are read one by one (what SQLite returns is what the database said last). Then the file's
pages on their own (pages.py), for the rows below a damaged interior page that no SQL can reach.
Only rows of the right shape count: a conversation or a message whose every field is valid.
The damaged file is never written: both readings work on a copy, its write-ahead log applied.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from lanterne.conversations.pages import Value, table_rows

CONVERSATION_FIELDS = ("title", "created_at", "updated_at")
MESSAGE_FIELDS = (
    "conversation_id",
    "role",
    "text",
    "status",
    "sources",
    "details",
    "created_at",
    "rating",
    "edited_text",
    "feedback_at",
    "reasoning",
)
STATUSES = ("complete", "streaming", "stopped", "interrupted", "error")
_SMALLEST_RANGE = 16  # a failing range this small is left to the page reading
_MOST_QUERIES = 20000


@dataclass
class Salvaged:
    """Rows by id: conversations as dicts of CONVERSATION_FIELDS, messages of MESSAGE_FIELDS."""

    conversations: dict[int, dict[str, Any]] = field(default_factory=dict)
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)


def _is_moment(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _json_text(value: object, empty: str) -> str:
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            json.loads(value)
            return value
    return empty


def conversation(values: Sequence[Value]) -> dict[str, Any] | None:
    """A conversations row (title, created_at, updated_at), checked; None if it is not one."""
    if len(values) != 3 or not isinstance(values[0], str):
        return None
    if not (_is_moment(values[1]) and _is_moment(values[2])):
        return None
    return dict(zip(CONVERSATION_FIELDS, values, strict=True))


def message(values: Sequence[Value]) -> dict[str, Any] | None:
    """A messages row (MESSAGE_FIELDS, the last four absent in rows written before they
    existed), checked; None if it is not one."""
    if not 7 <= len(values) <= len(MESSAGE_FIELDS):
        return None
    row = dict(zip(MESSAGE_FIELDS, values, strict=False))
    for name in MESSAGE_FIELDS[len(values) :]:
        row[name] = None
    if not isinstance(row["conversation_id"], int) or row["role"] not in ("user", "assistant"):
        return None
    if not isinstance(row["text"], str) or row["status"] not in STATUSES:
        return None
    if not _is_moment(row["created_at"]) or row["rating"] not in (1, -1, None):
        return None
    if not (row["edited_text"] is None or isinstance(row["edited_text"], str)):
        return None
    if not (row["feedback_at"] is None or _is_moment(row["feedback_at"])):
        return None
    if not (row["reasoning"] is None or isinstance(row["reasoning"], str)):
        return None
    row["reasoning"] = row["reasoning"] or ""  # rows written before m003 have none
    if not (isinstance(row["sources"], str) and isinstance(row["details"], str)):
        return None
    row["sources"] = _json_text(row["sources"], "[]")
    row["details"] = _json_text(row["details"], "{}")
    if row["status"] == "streaming":  # the app that wrote it is gone
        row["status"] = "interrupted"
    return row


def salvage(damaged: Path) -> Salvaged:
    """Every conversation and message still readable in `damaged` (and its -wal beside it)."""
    found = Salvaged()
    with tempfile.TemporaryDirectory(prefix="lanterne-salvage-") as scratch:
        copy = Path(scratch) / "damaged.sqlite3"
        for suffix in ("", "-wal"):
            source = damaged.with_name(damaged.name + suffix)
            if source.exists():
                shutil.copyfile(source, copy.with_name(copy.name + suffix))
        _apply_log(copy)
        by_pages = Salvaged()
        with contextlib.suppress(OSError):
            for rowid, values in table_rows(copy):
                if values and values[0] is None:  # the id column, stored as the rowid
                    rest = values[1:]
                    if (row := conversation(rest)) is not None:
                        by_pages.conversations.setdefault(rowid, row)
                    elif (row := message(rest)) is not None:
                        _keep_longest(by_pages.messages, rowid, row)
        _read_with_sqlite(copy, found, by_pages)
        for rowid, row in by_pages.conversations.items():
            found.conversations.setdefault(rowid, row)  # what SQLite read comes first
        for rowid, row in by_pages.messages.items():
            found.messages.setdefault(rowid, row)
    return found


def _keep_longest(rows: dict[int, dict[str, Any]], rowid: int, row: dict[str, Any]) -> None:
    """Two copies of one row: the longer text is the later one (an answer saved as it grew)."""
    if rowid not in rows or len(row["text"]) > len(rows[rowid]["text"]):
        rows[rowid] = row


def _apply_log(copy: Path) -> None:
    """Fold the copied write-ahead log into the copy, where the page reading can see it."""
    if not copy.with_name(copy.name + "-wal").exists():
        return
    with contextlib.suppress(sqlite3.Error):
        conn = sqlite3.connect(copy)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()


def _read_with_sqlite(copy: Path, found: Salvaged, by_pages: Salvaged) -> None:
    try:
        conn = sqlite3.connect(copy)
    except sqlite3.Error:
        return
    try:
        budget = [_MOST_QUERIES]
        read = _table_reader(conn, "conversations", CONVERSATION_FIELDS, conversation, budget)
        found.conversations.update(read(max(by_pages.conversations, default=0)))
        read = _table_reader(conn, "messages", MESSAGE_FIELDS, message, budget)
        found.messages.update(read(max(by_pages.messages, default=0)))
    finally:
        conn.close()


def _table_reader(
    conn: sqlite3.Connection,
    table: str,
    fields: Sequence[str],
    check: Callable[[Sequence[Value]], dict[str, Any] | None],
    budget: list[int],
) -> Callable[[int], dict[int, dict[str, Any]]]:
    """Reads `table` by rowid ranges up to its highest rowid (or `seen`, the highest the page
    reading found, when SQLite cannot say), halving any range that raises."""

    def read(seen: int) -> dict[int, dict[str, Any]]:
        try:
            present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        except sqlite3.Error:
            return {}
        highest = seen
        with contextlib.suppress(sqlite3.Error):
            highest = max(seen, conn.execute(f"SELECT max(rowid) FROM {table}").fetchone()[0] or 0)
        if not present or highest < 1:
            return {}
        columns = ", ".join(name if name in present else "NULL" for name in fields)
        query = f"SELECT rowid, {columns} FROM {table} WHERE rowid BETWEEN ? AND ?"
        rows: dict[int, dict[str, Any]] = {}
        pending = [(1, highest)]  # ids the store gives start at 1
        while pending and budget[0] > 0:
            low, high = pending.pop()
            budget[0] -= 1
            try:
                fetched = conn.execute(query, (low, high)).fetchall()
            except sqlite3.Error:
                if high - low >= _SMALLEST_RANGE:
                    middle = low + (high - low) // 2
                    pending += [(middle + 1, high), (low, middle)]
                continue
            for rowid, *values in fetched:
                if (row := check(values)) is not None:
                    rows[rowid] = row
        return rows

    return read
