"""A failed upgrade leaves the old database byte for byte as it was, and says so.

The failing step is a test migration appended after the real ones: it does real work first
(a new table, rewritten rows, a script, which commits under Python's sqlite3), then fails on a
real constraint. Everything the real migrations did before it must be gone too.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
import sqlite_utils
from pytestqt.qtbot import QtBot

from lanterne.cli.main import main
from lanterne.conversations.migrations import MIGRATIONS as CONVERSATION_MIGRATIONS
from lanterne.conversations.store import ConversationStore
from lanterne.foundation.database import DatabaseUpgradeError, Migrations, open_database
from lanterne.indexer.migrations import MIGRATIONS as INDEX_MIGRATIONS
from lanterne.indexer.store import IndexStore

FIXTURES = Path(__file__).with_name("fixtures")


def m999_fails_halfway(db: sqlite_utils.Database) -> None:
    db.execute("CREATE TABLE half_done (id INTEGER PRIMARY KEY, note TEXT NOT NULL)")
    db.execute("INSERT INTO half_done (note) VALUES ('written before the failure')")
    for table in ("messages", "chunks"):
        if table in db.table_names():
            db.execute(f"UPDATE {table} SET text = 'overwritten'")
    db.executescript("CREATE TABLE scripted (x); INSERT INTO scripted VALUES (1);")
    db.execute("INSERT INTO half_done (note) VALUES (NULL)")  # NOT NULL: IntegrityError


def _with_failure(migrations: Migrations) -> Migrations:
    extended = Migrations(migrations)
    extended.add(m999_fails_halfway)
    return extended


def _fingerprint(path: Path) -> tuple[str, list[str]]:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    db = sqlite_utils.Database(path)
    try:
        return digest, list(db.conn.iterdump())
    finally:
        db.close()


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".upgrade" in p.name)


@pytest.fixture(params=["index_m001.sqlite3", "index_m002.sqlite3"])
def old_index(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """Each earlier schema of the index, as kept in tests/fixtures."""
    path = tmp_path / "index.sqlite3"
    shutil.copy(FIXTURES / str(request.param), path)
    return path


def test_a_failed_index_upgrade_leaves_an_earlier_schema_untouched(old_index: Path) -> None:
    before = _fingerprint(old_index)
    with pytest.raises(DatabaseUpgradeError) as raised:
        open_database(old_index, _with_failure(INDEX_MIGRATIONS))
    message = str(raised.value)
    assert "m999_fails_halfway" in message and "NOT NULL" in message
    assert "left as it was" in message
    assert _fingerprint(old_index) == before  # m002, m003 and the half-done step all undone
    assert _leftovers(old_index.parent) == []
    store = IndexStore(old_index)  # this version, without the failing step, still upgrades it
    try:
        assert store.status().documents == store.status().chunks > 0
    finally:
        store.close()


def test_a_failed_upgrade_of_conversations_keeps_every_message(tmp_path: Path) -> None:
    path = tmp_path / "conversations.sqlite3"
    shutil.copy(FIXTURES / "conversations_m001.sqlite3", path)
    before = _fingerprint(path)
    with pytest.raises(DatabaseUpgradeError, match="m999_fails_halfway"):
        open_database(path, _with_failure(CONVERSATION_MIGRATIONS), synchronous="FULL")
    assert _fingerprint(path) == before
    store = ConversationStore(path)
    try:
        texts = [m.text for c in store.conversations() for m in store.messages(c.id)]
        assert "Comment sauvegarder le serveur ?" in texts
        assert "overwritten" not in texts
    finally:
        store.close()


def test_a_new_database_whose_migration_fails_says_so(tmp_path: Path) -> None:
    with pytest.raises(DatabaseUpgradeError, match="m999_fails_halfway"):
        open_database(tmp_path / "new.sqlite3", _with_failure(CONVERSATION_MIGRATIONS))


@pytest.mark.model
def test_the_cli_explains_a_failed_upgrade_and_keeps_the_index(
    lanterne_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = lanterne_home / "index.sqlite3"
    lanterne_home.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURES / "index_m001.sqlite3", path)
    before = _fingerprint(path)
    with _failing_step(INDEX_MIGRATIONS):
        assert main(["index", "status"]) == 1
    err = capsys.readouterr().err
    assert "could not be upgraded" in err and "m999_fails_halfway" in err
    assert "Traceback" not in err
    assert _fingerprint(path) == before
    assert main(["index", "status", "--json"]) == 0  # the real migrations alone succeed


class _failing_step:  # noqa: N801 - reads as a context manager
    """The shipped migration list with the failing step appended, for one block."""

    def __init__(self, migrations: Migrations) -> None:
        self.migrations = migrations

    def __enter__(self) -> None:
        self.migrations.add(m999_fails_halfway)

    def __exit__(self, *_exc: object) -> None:
        self.migrations.pop()


@pytest.mark.gui
def test_the_window_says_conversations_cannot_be_upgraded(
    lanterne_home: Path, qtbot: QtBot
) -> None:
    from PySide6.QtWidgets import QApplication, QMessageBox

    from lanterne.context import AppContext
    from lanterne.desktop.main_window import MainWindow
    from lanterne.foundation.settings import Settings

    lanterne_home.mkdir(parents=True, exist_ok=True)
    path = lanterne_home / "conversations.sqlite3"
    shutil.copy(FIXTURES / "conversations_m001.sqlite3", path)
    before = _fingerprint(path)
    ctx = AppContext(Settings())
    with _failing_step(CONVERSATION_MIGRATIONS):
        win = MainWindow(ctx)
        qtbot.addWidget(win)
        win.show()

        def warned() -> QMessageBox:
            boxes = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)]
            assert boxes and boxes[0].isVisible()
            return boxes[0]

        qtbot.waitUntil(lambda: bool(warned()))
        assert "m999_fails_halfway" in warned().text()
        win.new_conversation()  # asking for work meanwhile neither hangs nor crashes
        assert win.store.wait_idle(5)
        warned().accept()
    win.close()
    ctx.close()
    assert _fingerprint(path) == before
