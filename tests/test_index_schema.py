"""The index schema after all migrations is pinned: a change must come as a new migration."""

from __future__ import annotations

import shutil
from pathlib import Path

import sqlite_utils

from lanterne.foundation.database import MIGRATIONS_TABLE, applied
from lanterne.indexer.migrations import MIGRATIONS
from lanterne.indexer.retriever import Retriever
from lanterne.indexer.store import IndexStore

SNAPSHOT = Path(__file__).with_name("snapshots") / "index_schema.sql"
FIXTURES = Path(__file__).with_name("fixtures")


def test_schema_matches_snapshot(tmp_path: Path) -> None:
    store = IndexStore(tmp_path / "index.sqlite3")
    schema = store.db.schema.strip() + "\n"
    store.close()
    if not SNAPSHOT.exists():  # first run writes it; review and commit it
        SNAPSHOT.write_text(schema, encoding="utf-8")
    assert schema == SNAPSHOT.read_text(encoding="utf-8"), (
        "the index schema changed: add a migration, then refresh tests/snapshots/index_schema.sql"
    )


def test_migrations_are_named_recorded_and_applied_once(tmp_path: Path) -> None:
    db = sqlite_utils.Database(tmp_path / "m.sqlite3")
    names = [name for name, _fn in MIGRATIONS]
    assert len(names) == len(set(names))
    assert MIGRATIONS.migrate(db) == names
    assert MIGRATIONS.migrate(db) == []
    assert applied(db) == set(names)
    assert db[MIGRATIONS_TABLE].count == len(names)


def test_wal_and_foreign_keys(tmp_path: Path) -> None:
    store = IndexStore(tmp_path / "index.sqlite3")
    assert store.db.journal_mode == "wal"
    assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    store.close()


def test_concurrent_first_opens_migrate_once(tmp_path: Path) -> None:
    import threading

    path = tmp_path / "index.sqlite3"
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def open_store() -> None:
        try:
            barrier.wait()
            IndexStore(path).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    db = sqlite_utils.Database(path)
    assert db[MIGRATIONS_TABLE].count == len(MIGRATIONS)


def test_an_index_from_the_first_schema_upgrades_and_keeps_its_documents(tmp_path: Path) -> None:
    """A database written by the first release (kept in tests/fixtures) opens, migrates in place
    and is searchable with the French stems added since, without re-indexing anything."""
    path = tmp_path / "index.sqlite3"
    shutil.copy(FIXTURES / "index_m001.sqlite3", path)
    store = IndexStore(path)
    try:
        assert applied(store.db) == {name for name, _fn in MIGRATIONS}
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        status = store.status()
        assert (status.documents, status.chunks) == (2, 2)
        assert [e.reason for e in status.errors] == ["The PDF is damaged"]
        retriever = Retriever(store)
        # "installation" and "paquet" reach "installer" and "paquets" only through French stems.
        top = retriever.search("installation d'un paquet")[0]
        assert top.path.endswith("installation.md")
        assert retriever.search("backing up")[0].path.endswith("backups.txt")
    finally:
        store.close()


def test_an_index_from_the_second_schema_upgrades_and_keeps_its_documents(tmp_path: Path) -> None:
    """A database of the French-stems release (m001-m002, kept in tests/fixtures: what that
    release wrote after upgrading the first one, plus a document it indexed itself) opens with
    the vectors table added and nothing lost."""
    path = tmp_path / "index.sqlite3"
    shutil.copy(FIXTURES / "index_m002.sqlite3", path)
    store = IndexStore(path)
    try:
        assert applied(store.db) == {name for name, _fn in MIGRATIONS}
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        status = store.status()
        assert (status.documents, status.chunks) == (3, 3)
        retriever = Retriever(store)
        top = retriever.search("budget revu par la direction")[0]
        assert (top.path, top.page, top.heading) == (
            "/home/claire/Documents/budget.pdf",
            2,
            "Budget",
        )
        assert retriever.search("installation d'un paquet")[0].path.endswith("installation.md")
        assert store.vector_counts("any-model") == (0, 3)  # every passage waits for a vector
    finally:
        store.close()


def test_vectors_survive_the_move_to_one_vector_per_model(tmp_path: Path) -> None:
    """An index embedded before m004 keeps its vectors, their ids (readers load by id) and
    the deletion trigger; a second model's vector for the same passage is then accepted."""
    from lanterne.foundation.database import Migrations

    path = tmp_path / "index.sqlite3"
    before = Migrations(m for m in MIGRATIONS if m[0] < "m004")
    db = sqlite_utils.Database(path)
    before.migrate(db)
    db.execute(
        "INSERT INTO vectors (id, chunk_id, model, scale, vector) VALUES "
        "(7, 1, 'e5:1:384', 0.5, x'0102'), (9, 2, 'e5:1:384', 0.25, x'0304')"
    )
    db.conn.commit()
    db.close()
    store = IndexStore(path)
    try:
        rows = store.db.execute("SELECT id, chunk_id, model, scale FROM vectors").fetchall()
        assert rows == [(7, 1, "e5:1:384", 0.5), (9, 2, "e5:1:384", 0.25)]
        store.db.execute(
            "INSERT INTO vectors (chunk_id, model, scale, vector) "
            "VALUES (1, 'bge:2:1024', 1, x'05')"
        )
        assert store.db.execute("SELECT MAX(id) FROM vectors").fetchone()[0] == 10
        store.db.execute("DELETE FROM vectors WHERE model = 'bge:2:1024'")
        assert store.db.execute("SELECT deleted FROM vector_changes").fetchone()[0] == 1
        assert [m.model for m in store.vector_models()] == ["e5:1:384"]
    finally:
        store.close()
