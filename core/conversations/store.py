"""Conversations on disk: every question, every answer as far as it went, and their sources.

Its own database (`conversations.sqlite3`), apart from the index: the index can always be
rebuilt from the user's folders, the conversations cannot. Commits wait for the disk
(synchronous=FULL); an answer being written is saved as it streams with status 'streaming',
which the next start turns into 'interrupted' if the app ended meanwhile, so a crash keeps the
question and the text so far, marked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from lanterne.conversations.migrations import MIGRATIONS
from lanterne.database import open_database, transaction
from lanterne.translation import _

Role = Literal["user", "assistant"]
Status = Literal["complete", "streaming", "stopped", "interrupted", "error"]
HIGHLIGHT_START, HIGHLIGHT_END = "\x02", "\x03"  # around matched words in search snippets
_WORD = re.compile(r"\w+", re.UNICODE)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class ConversationSummary:
    id: int
    title: str
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class Message:
    id: int
    conversation_id: int
    role: Role
    text: str
    status: Status
    sources: list[dict[str, Any]]
    details: dict[str, Any]
    created_at: str
    rating: int | None = None  # 1 good, -1 bad, None not rated
    edited_text: str | None = None  # the user's correction of an answer; None if untouched

    @property
    def shown_text(self) -> str:
        """What the user last saw and approved: their correction if they made one."""
        return self.text if self.edited_text is None else self.edited_text


@dataclass(frozen=True)
class SearchHit:
    conversation: ConversationSummary
    message_id: int
    snippet: str  # matched words between HIGHLIGHT_START and HIGHLIGHT_END


MESSAGE_COLUMNS = (
    "id, conversation_id, role, text, status, sources, details, created_at, rating, edited_text"
)


def message_from_row(row: Sequence[Any]) -> Message:
    """A row of `SELECT {MESSAGE_COLUMNS}` (also used by the demonstrations export)."""
    i, c, role, text, status, sources, details, at, rating, edited = row
    return Message(
        i, c, role, text, status, json.loads(sources), json.loads(details), at, rating, edited
    )


def search_query(text: str) -> str | None:
    """Every word must appear; the last one may be the start of a word (search as you type)."""
    words = _WORD.findall(text)
    if not words:
        return None
    quoted = [f'"{w}"' for w in words]
    quoted[-1] += "*"
    return " ".join(quoted)


class ConversationStore:
    """One connection; open one per thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = open_database(path, MIGRATIONS, synchronous="FULL")

    def close(self) -> None:
        self.db.close()

    # Conversations ------------------------------------------------------------------------

    def create(self, title: str) -> int:
        now = _now()
        with transaction(self.db):
            cursor = self.db.execute(
                "INSERT INTO conversations (title, created_at, updated_at) VALUES (?, ?, ?)",
                [title, now, now],
            )
        return int(cursor.lastrowid or 0)

    def rename(self, conversation_id: int, title: str) -> None:
        with transaction(self.db):
            self.db.execute(
                "UPDATE conversations SET title = ? WHERE id = ?", [title, conversation_id]
            )

    def delete(self, conversation_id: int) -> None:
        with transaction(self.db):
            self.db.execute("DELETE FROM conversations WHERE id = ?", [conversation_id])

    def conversations(self, limit: int = 1000) -> list[ConversationSummary]:
        """Most recently active first."""
        rows = self.db.execute(
            "SELECT id, title, created_at, updated_at FROM conversations "
            "ORDER BY updated_at DESC, id DESC LIMIT ?",
            [limit],
        ).fetchall()
        return [ConversationSummary(*row) for row in rows]

    def conversation(self, conversation_id: int) -> ConversationSummary | None:
        row = self.db.execute(
            "SELECT id, title, created_at, updated_at FROM conversations WHERE id = ?",
            [conversation_id],
        ).fetchone()
        return ConversationSummary(*row) if row else None

    def search(self, text: str, limit: int = 50) -> list[SearchHit]:
        """Conversations whose messages hold every word, best match first, one hit each."""
        query = search_query(text)
        if query is None:
            return []
        rows = self.db.execute(
            "SELECT c.id, c.title, c.created_at, c.updated_at, m.id, "
            f"snippet(messages_fts, 0, '{HIGHLIGHT_START}', '{HIGHLIGHT_END}', '…', 12) "
            "FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid "
            "JOIN conversations c ON c.id = m.conversation_id "
            "WHERE messages_fts MATCH ? ORDER BY rank LIMIT ?",
            [query, limit * 4],
        ).fetchall()
        hits: dict[int, SearchHit] = {}
        for cid, title, created, updated, message_id, snippet in rows:
            if cid not in hits:
                summary = ConversationSummary(cid, title, created, updated)
                hits[cid] = SearchHit(summary, message_id, snippet)
        return list(hits.values())[:limit]

    # Messages -----------------------------------------------------------------------------

    def messages(self, conversation_id: int) -> list[Message]:
        rows = self.db.execute(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? ORDER BY id",
            [conversation_id],
        ).fetchall()
        return [message_from_row(row) for row in rows]

    def add_message(
        self,
        conversation_id: int,
        role: Role,
        text: str,
        status: Status = "complete",
        sources: Sequence[dict[str, Any]] = (),
        details: dict[str, Any] | None = None,
    ) -> int:
        now = _now()
        with transaction(self.db):
            cursor = self.db.execute(
                "INSERT INTO messages "
                "(conversation_id, role, text, status, sources, details, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    conversation_id,
                    role,
                    text,
                    status,
                    json.dumps(list(sources), ensure_ascii=False),
                    json.dumps(details or {}, ensure_ascii=False),
                    now,
                ],
            )
            self._touch(conversation_id, now)
        return int(cursor.lastrowid or 0)

    def update_message(
        self,
        message_id: int,
        *,
        text: str,
        status: Status | None = None,
        sources: Sequence[dict[str, Any]] | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        sets, params = ["text = ?"], [text]
        if status is not None:
            sets.append("status = ?")
            params.append(status)
        if sources is not None:
            sets.append("sources = ?")
            params.append(json.dumps(list(sources), ensure_ascii=False))
        if details is not None:
            sets.append("details = ?")
            params.append(json.dumps(details, ensure_ascii=False))
        with transaction(self.db):
            row = self.db.execute(
                f"UPDATE messages SET {', '.join(sets)} WHERE id = ? RETURNING conversation_id",
                [*params, message_id],
            ).fetchone()
            if row is not None:
                self._touch(int(row[0]), _now())

    def set_rating(self, message_id: int, rating: int | None) -> None:
        """1 for a good answer, -1 for a bad one, None to take the rating back."""
        if rating not in (1, -1, None):
            raise ValueError(_("A rating is 1, -1 or none, not {value}.").format(value=rating))
        self._set_feedback(message_id, "rating = ?", rating)

    def set_edit(self, message_id: int, text: str | None) -> None:
        """The user's correction of an answer; None goes back to the model's text."""
        self._set_feedback(message_id, "edited_text = ?", text)

    def clear_feedback(self, message_id: int) -> None:
        """The answer is written again: what was said of the old one no longer applies."""
        with transaction(self.db):
            self.db.execute(
                "UPDATE messages SET rating = NULL, edited_text = NULL, feedback_at = NULL "
                "WHERE id = ?",
                [message_id],
            )

    def _set_feedback(self, message_id: int, assignment: str, value: object) -> None:
        with transaction(self.db):
            self.db.execute(
                f"UPDATE messages SET {assignment}, feedback_at = ? "
                "WHERE id = ? AND role = 'assistant'",
                [value, _now(), message_id],
            )

    def recover_interrupted(self) -> int:
        """Answers left 'streaming' by an app that ended mid-answer; call once at start."""
        with transaction(self.db):
            cursor = self.db.execute(
                "UPDATE messages SET status = 'interrupted' WHERE status = 'streaming'"
            )
        return cursor.rowcount

    def _touch(self, conversation_id: int, now: str) -> None:
        self.db.execute(
            "UPDATE conversations SET updated_at = ? WHERE id = ?", [now, conversation_id]
        )
