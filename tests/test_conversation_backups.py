"""Backups of the conversations database: once a day and before every upgrade, the newest five
kept, never half-written; the index (derived data) is never backed up."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from lanterne.conversations import backups
from lanterne.conversations.store import ConversationStore
from support.conversation_history import DB, History, install, move_clock, snapshot, write_history
from support.small_disk import needs_root, small_disk


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    return write_history(tmp_path_factory.mktemp("history"))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[timedelta]:
    return move_clock(monkeypatch)


def test_a_daily_backup_and_the_newest_five_kept(
    lanterne_home: Path, clock: list[timedelta]
) -> None:
    path = lanterne_home / DB
    store = ConversationStore(path)
    cid = store.create("Daily")
    store.close()
    assert backups.backups(path) == []  # an empty database was opened: nothing to keep
    for day in range(8):
        clock[0] = timedelta(days=day, minutes=day)
        store = ConversationStore(path)  # backed up as it opens: what the days before wrote
        store.add_message(cid, "user", f"Day {day}")
        store.close()
        ConversationStore(path).close()  # the same day again: no second backup
    kept = backups.backups(path)
    assert len(kept) == 5
    for day, backup in zip(range(7, 2, -1), kept, strict=True):
        assert backups.is_sound(backup.path)
        texts = sorted(row[2] for row in snapshot(backup.path)[1].values())
        assert texts == [f"Day {d}" for d in range(day)]
    assert sorted(p.name for p in backups.backup_dir(path).iterdir()) == sorted(
        b.path.name for b in kept
    )  # nothing half-written beside them


def _migrations_of(path: Path) -> tuple[set[str], set[str]]:
    conn = sqlite3.connect(path)
    try:
        names = {row[0] for row in conn.execute("SELECT name FROM _lanterne_migrations")}
        columns = {row[1] for row in conn.execute("PRAGMA table_info(conversations)")}
        columns |= {row[1] for row in conn.execute("PRAGMA table_info(messages)")}
    finally:
        conn.close()
    return names, columns


def _texts(path: Path) -> dict[int, str]:
    conn = sqlite3.connect(path)
    try:
        return dict(conn.execute("SELECT id, text FROM messages").fetchall())
    finally:
        conn.close()


def m999_notes(db: Any) -> None:
    db.execute("ALTER TABLE conversations ADD COLUMN note TEXT")


def test_a_backup_before_every_upgrade_and_never_of_the_index(lanterne_home: Path) -> None:
    from lanterne.conversations.migrations import MIGRATIONS
    from lanterne.indexer.store import IndexStore

    fixtures = Path(__file__).with_name("fixtures")
    lanterne_home.mkdir(parents=True, exist_ok=True)
    path = lanterne_home / DB
    shutil.copy(fixtures / "conversations_m001.sqlite3", path)
    old_texts, old_schema = _texts(path), _migrations_of(path)
    ConversationStore(path).close()  # m002 pending: backed up first
    (first,) = backups.backups(path)
    assert _migrations_of(first.path) == old_schema
    assert "rating" not in _migrations_of(first.path)[1] and "rating" in _migrations_of(path)[1]
    assert _texts(first.path) == old_texts and old_texts
    MIGRATIONS.add(m999_notes)  # a migration of a later version, the same day
    try:
        ConversationStore(path).close()
    finally:
        MIGRATIONS.pop()
    second, _first = backups.backups(path)
    assert "m999_notes" not in _migrations_of(second.path)[0]
    assert "note" not in _migrations_of(second.path)[1] and "note" in _migrations_of(path)[1]
    shutil.copy(fixtures / "index_m001.sqlite3", lanterne_home / "index.sqlite3")
    IndexStore(lanterne_home / "index.sqlite3").close()  # upgraded too, never backed up
    assert sorted(p.name for p in backups.backup_dir(path).iterdir()) == sorted(
        [second.path.name, first.path.name]
    )


@pytest.mark.slow
@needs_root
def test_a_backup_that_cannot_be_written_leaves_nothing_behind(
    history: History, lanterne_home: Path
) -> None:
    path = install(history, lanterne_home)
    folder = backups.backup_dir(path)
    shutil.rmtree(folder)
    with small_disk(folder, size_mb=0.25):  # smaller than the database
        store = ConversationStore(path)  # a backup is due, and does not fit
        try:
            assert len(store.conversations()) == 33 and store.take_notices() == []
        finally:
            store.close()
        assert list(folder.iterdir()) == []  # no half-written copy
    ConversationStore(path).close()  # room again: taken at the next start
    assert len(backups.backups(path)) == 1
