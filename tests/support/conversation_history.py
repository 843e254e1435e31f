"""A conversations database written through the real store, backed up, then written to again;
and the ways the tests damage it and look at it (tests/test_conversation_damage.py,
tests/test_conversation_backups.py)."""

from __future__ import annotations

import random
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from lanterne.conversations import backups
from lanterne.conversations.store import ConversationStore

DB = "conversations.sqlite3"
WORDS = [
    *["sauvegarde", "serveur", "disque", "réseau", "rapport", "budget", "réunion", "projet"],
    *["installation", "mise", "à", "jour", "the", "backup", "server", "disk", "network"],
    *["report", "meeting", "project", "install", "update", "restore", "élève", "naïve"],
]
Rows = dict[int, tuple[Any, ...]]


@dataclass(frozen=True)
class History:
    folder: Path  # conversations.sqlite3 and backups/, as the app left them
    conversations: Rows  # what the backup holds: (title, created_at) by id
    messages: Rows  # and every field of every message, by id
    new_texts: tuple[str, ...]  # the messages written after the backup


def words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def snapshot(path: Path) -> tuple[Rows, Rows]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        conversations = {
            row[0]: tuple(row[1:])
            for row in conn.execute("SELECT id, title, created_at FROM conversations")
        }
        messages = {
            row[0]: tuple(row[1:])
            for row in conn.execute(
                "SELECT id, conversation_id, role, text, status, sources, details, created_at, "
                "rating, edited_text FROM messages"
            )
        }
    finally:
        conn.close()
    return conversations, messages


def install(history: History, home: Path) -> Path:
    shutil.copytree(history.folder, home, dirs_exist_ok=True)
    return home / DB


def page_size(data: bytes) -> int:
    size = int.from_bytes(data[16:18], "big")
    return 65536 if size == 1 else size


def overwrite_pages(
    path: Path, rng: random.Random, count: int, among: set[int] | None = None
) -> set[int]:
    """`count` pages after the first (or `among` these), overwritten with random bytes; their
    numbers (from 1)."""
    data = path.read_bytes()
    size = page_size(data)
    chosen = set(rng.sample(sorted(among or range(2, len(data) // size + 1)), count))
    with path.open("r+b") as handle:
        for page in chosen:
            handle.seek((page - 1) * size)
            handle.write(rng.randbytes(size))
    return chosen


def pages_holding(data: bytes, text: str) -> set[int]:
    """Every page whose bytes hold `text` (live, or a stale copy), found without SQLite."""
    size, needle = page_size(data), text.encode()
    found, at = set(), data.find(needle)
    while at >= 0:
        found.add(at // size + 1)
        at = data.find(needle, at + 1)
    return found


def sound(path: Path, tmp: Path) -> bool:
    """SQLite's own verdict on a copy (the test's oracle: is the damage there to be seen?)."""
    copy = tmp / "oracle.sqlite3"
    shutil.copyfile(path, copy)
    try:
        conn = sqlite3.connect(copy)
        try:
            return bool(conn.execute("PRAGMA quick_check").fetchall() == [("ok",)])
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return False
    finally:
        copy.unlink()


def use(path: Path) -> list[str]:
    """The app's start and a session's reading: every conversation, a search, an export."""
    store = ConversationStore(path)
    try:
        store.recover_interrupted()
        for conversation in store.conversations():
            store.messages(conversation.id)
        store.search("NEW")
        list(store.all_messages())
        return store.take_notices()
    finally:
        store.close()


def write_history(folder: Path) -> History:
    """The database as the app leaves it: a backup taken, newer messages written after it."""
    rng = random.Random(31)
    store = ConversationStore(folder / DB)
    for c in range(30):
        cid = store.create(f"Conversation {c}: {words(rng, 3)}")
        for turn in range(4):
            store.add_message(cid, "user", f"Question {c}.{turn}: {words(rng, 12)}?")
            answer = store.add_message(cid, "assistant", "", status="streaming")
            text = words(rng, rng.choice([30, 200, 900, 1600]))
            store.update_message(answer, text=text[: len(text) // 2])  # saved as it streams
            store.update_message(
                answer,
                text=text,
                status="complete",
                sources=[
                    {
                        "n": 1,
                        "chunk_id": c * 10 + turn,
                        "path": f"/docs/{c}/{turn}.md",
                        "page": turn + 1,
                        "text": words(rng, 25),
                        "score": 0.5,
                        "lang": "fr",
                    }
                ],
                details={"model": "test"},
            )
            if rng.random() < 0.2:
                store.set_rating(answer, rng.choice([1, -1]))
            if rng.random() < 0.1:
                store.set_edit(answer, f"Corrected: {words(rng, 20)}")
    store.close()
    store = ConversationStore(folder / DB)  # the next start: the first daily backup
    (backup,) = backups.backups(folder / DB)
    conversations, messages = snapshot(backup.path)
    new_texts = []
    targets = [c.id for c in store.conversations()[:12]] * 4
    started = [store.create(f"Started after the backup {n}") for n in range(3)]
    targets += [cid for cid in started for _ in range(4)]
    for n, cid in enumerate(targets):
        new_texts.append(f"NEW-{n:05d} {words(rng, rng.randint(5, 40))}")
        store.add_message(cid, "user" if n % 2 else "assistant", new_texts[-1])
    store.close()
    assert len(messages) == 240 and len(new_texts) == 60
    return History(folder, conversations, messages, tuple(new_texts))


def move_clock(monkeypatch: pytest.MonkeyPatch) -> list[timedelta]:
    """backups' clock, moved forward by what the caller puts in the list."""
    ahead = [timedelta(0)]
    real = backups.utc_now
    monkeypatch.setattr(backups, "utc_now", lambda: real() + ahead[0])
    return ahead
