"""Conversations on disk: every question, every answer as far as it went, and their sources.

Its own database (`conversations.sqlite3`), apart from the index: the index can always be
rebuilt from the user's folders, the conversations cannot. Commits wait for the disk
(synchronous=FULL); an answer being written is saved as it streams with status 'streaming',
which the next start turns into 'interrupted' if the app ended meanwhile, so a crash keeps the
question and the text so far, marked.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import re
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Concatenate, Literal, ParamSpec, TypeVar

import sqlite_utils

from lanterne.conversations import backups
from lanterne.conversations.migrations import MIGRATIONS
from lanterne.conversations.recovery import OpenMarker, file_identity, is_foreign, restore
from lanterne.foundation.database import (
    DatabaseUpgradeError,
    open_database,
    quick_check,
    transaction,
)
from lanterne.foundation.db_faults import DamageFoundError, DatabaseDamagedError, is_damage
from lanterne.foundation.translation import _

Role = Literal["user", "assistant"]
Status = Literal["complete", "streaming", "stopped", "interrupted", "error"]
HIGHLIGHT_START, HIGHLIGHT_END = "\x02", "\x03"  # around matched words in search snippets
_WORD = re.compile(r"\w+", re.UNICODE)
_log = logging.getLogger(__name__)
_CHECK_SECONDS = 20.0  # the quick check after an unclean exit, on a large file and slow disk
P = ParamSpec("P")
R = TypeVar("R")


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
    reasoning: str = ""  # what the model wrote before this answer, shown apart from it

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
    "id, conversation_id, role, text, status, sources, details, created_at, rating, edited_text, "
    "reasoning"
)


def message_from_row(row: Sequence[Any]) -> Message:
    """A row of `SELECT {MESSAGE_COLUMNS}` (also used by the demonstrations export)."""
    i, c, role, text, status, sources, details, at, rating, edited, reasoning = row
    return Message(
        i,
        c,
        role,
        text,
        status,
        json.loads(sources),
        json.loads(details),
        at,
        rating,
        edited,
        reasoning,
    )


def search_query(text: str) -> str | None:
    """Every word must appear; the last one may be the start of a word (search as you type)."""
    words = _WORD.findall(text)
    if not words:
        return None
    quoted = [f'"{w}"' for w in words]
    quoted[-1] += "*"
    return " ".join(quoted)


def _is_damage(exc: BaseException) -> bool:
    """SQLite's word for damage, met directly or by an upgrade's copy; or text that is no longer
    UTF-8 (Lanterne writes nothing else: its bytes were overwritten)."""
    if isinstance(exc, DatabaseUpgradeError):
        exc = exc.failure.error
    if isinstance(exc, sqlite3.OperationalError) and "decode to UTF-8" in str(exc):
        return True
    return is_damage(exc)


def _guarded(
    method: Callable[Concatenate[ConversationStore, P], R],
) -> Callable[Concatenate[ConversationStore, P], R]:
    """A call that finds the database damaged restores it (recovery.py), then runs once more."""

    @functools.wraps(method)
    def call(self: ConversationStore, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as exc:
            if not _is_damage(exc):
                raise
        self._recover()  # outside the except: nothing holds the failed connection any more
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as exc:
            if not _is_damage(exc):
                raise
            raise self._still_damaged() from exc

    return call


class ConversationStore:
    """One connection; open one per thread. Damage met at any call, or by the quick check after
    an unclean exit, is repaired from the newest backup (recovery.py) and told in `notices`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.notices: list[str] = []  # what the user must be told (take_notices)
        self._identity = file_identity(path)
        self._marker = OpenMarker(path)
        unclean = self._marker.stale()
        self._marker.enter()
        try:
            self.db = self._open(check=bool(unclean))
        except BaseException:
            self._marker.leave()
            raise
        OpenMarker.forget(unclean)

    def close(self) -> None:
        self.db.close()
        self._marker.leave()

    def take_notices(self) -> list[str]:
        """What happened to the database since last asked (a restore), in words."""
        notices, self.notices = self.notices, []
        return notices

    # Damage -------------------------------------------------------------------------------

    def _open(self, check: bool) -> sqlite_utils.Database:
        try:
            return self._open_sound(check)
        except (sqlite3.DatabaseError, DatabaseUpgradeError) as exc:
            if not _is_damage(exc):
                raise
        self._restore()
        return open_database(self.path, MIGRATIONS, synchronous="FULL")

    def _open_sound(self, check: bool) -> sqlite_utils.Database:
        """Opened and migrated (a backup first), checked after an unclean exit, backed up once
        a day; any damage met on the way raises (another file put in its place counts)."""
        if is_foreign(self.path):
            raise DamageFoundError(self.path)  # another program's file in its place
        db = open_database(
            self.path,
            MIGRATIONS,
            synchronous="FULL",
            before_upgrade=lambda conn: backups.take(conn, self.path),
        )
        try:
            if check and quick_check(db.conn, _CHECK_SECONDS):  # None: no time to finish it
                raise DamageFoundError(self.path)
            if backups.due(self.path) and db.execute("SELECT 1 FROM conversations").fetchone():
                self._daily_backup(db)
        except BaseException:
            db.close()
            raise
        self._identity = file_identity(self.path)
        return db

    def _daily_backup(self, db: sqlite_utils.Database) -> None:
        try:
            backups.take(db.conn, self.path)
        except (OSError, sqlite3.Error) as exc:  # no room, a read-only folder: tried next time
            if _is_damage(exc):
                raise
            _log.info("no backup of %s: %s", self.path, exc)

    def _restore(self) -> None:
        restoration = restore(self.path, self._identity)
        if restoration is not None:
            self.notices.append(restoration.notice())
        self._identity = file_identity(self.path)

    def _recover(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.db.close()
        self._restore()
        self.db = open_database(self.path, MIGRATIONS, synchronous="FULL")

    def _still_damaged(self) -> DatabaseDamagedError:
        return DatabaseDamagedError(
            self.path,
            _(
                "Even the restored copy could not be read: the disk may be failing. Copy the "
                "folder {folder} somewhere safe, then start Lanterne again."
            ).format(folder=self.path.parent),
        )

    # Conversations ------------------------------------------------------------------------

    @_guarded
    def create(self, title: str) -> int:
        now = _now()
        with transaction(self.db):
            cursor = self.db.execute(
                "INSERT INTO conversations (title, created_at, updated_at) VALUES (?, ?, ?)",
                [title, now, now],
            )
        return int(cursor.lastrowid or 0)

    @_guarded
    def rename(self, conversation_id: int, title: str) -> None:
        with transaction(self.db):
            self.db.execute(
                "UPDATE conversations SET title = ? WHERE id = ?", [title, conversation_id]
            )

    @_guarded
    def delete(self, conversation_id: int) -> None:
        with transaction(self.db):
            self.db.execute("DELETE FROM conversations WHERE id = ?", [conversation_id])

    @_guarded
    def conversations(self, limit: int = 1000) -> list[ConversationSummary]:
        """Most recently active first."""
        rows = self.db.execute(
            "SELECT id, title, created_at, updated_at FROM conversations "
            "ORDER BY updated_at DESC, id DESC LIMIT ?",
            [limit],
        ).fetchall()
        return [ConversationSummary(*row) for row in rows]

    @_guarded
    def conversation(self, conversation_id: int) -> ConversationSummary | None:
        row = self.db.execute(
            "SELECT id, title, created_at, updated_at FROM conversations WHERE id = ?",
            [conversation_id],
        ).fetchone()
        return ConversationSummary(*row) if row else None

    @_guarded
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

    @_guarded
    def messages(self, conversation_id: int) -> list[Message]:
        rows = self.db.execute(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? ORDER BY id",
            [conversation_id],
        ).fetchall()
        return [message_from_row(row) for row in rows]

    @_guarded
    def titles(self) -> dict[int, str]:
        return dict(self.db.execute("SELECT id, title FROM conversations").fetchall())

    def all_messages(self) -> Iterator[Message]:
        """Every message, by conversation then id, read as it goes (an export). Damage met on
        the way restores the database, and the reading goes on after the last message read."""
        last, restored = (0, 0), False
        while True:
            try:
                for row in self.db.execute(
                    f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE (conversation_id, id) > (?, ?) "
                    "ORDER BY conversation_id, id",
                    last,
                ):
                    message = message_from_row(row)
                    last = (message.conversation_id, message.id)
                    yield message
                return
            except sqlite3.DatabaseError as exc:
                if not _is_damage(exc):
                    raise
                if restored:
                    raise self._still_damaged() from exc
            self._recover()
            restored = True

    @_guarded
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

    @_guarded
    def update_message(
        self,
        message_id: int,
        *,
        text: str,
        status: Status | None = None,
        sources: Sequence[dict[str, Any]] | None = None,
        details: dict[str, Any] | None = None,
        reasoning: str | None = None,
    ) -> None:
        sets, params = ["text = ?"], [text]
        if reasoning is not None:
            sets.append("reasoning = ?")
            params.append(reasoning)
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

    @_guarded
    def set_rating(self, message_id: int, rating: int | None) -> None:
        """1 for a good answer, -1 for a bad one, None to take the rating back."""
        if rating not in (1, -1, None):
            raise ValueError(_("A rating is 1, -1 or none, not {value}.").format(value=rating))
        self._set_feedback(message_id, "rating = ?", rating)

    @_guarded
    def set_edit(self, message_id: int, text: str | None) -> None:
        """The user's correction of an answer; None goes back to the model's text."""
        self._set_feedback(message_id, "edited_text = ?", text)

    @_guarded
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

    @_guarded
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
