"""Lanterne's SQLite databases, opened one way: WAL, foreign keys, named and recorded migrations.

Each database (the index, the conversations) declares its own `Migrations`; a migration is
applied once, in its own transaction, and recorded by name. Append new ones at the end and never
edit one that has shipped; each database's schema test pins the result.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import sqlite_utils
from filelock import FileLock

Migration = Callable[[sqlite_utils.Database], None]
MIGRATIONS_TABLE = "_lanterne_migrations"


class Migrations(list[tuple[str, Migration]]):
    def add(self, fn: Migration) -> Migration:
        """Decorator: the function's name is the migration's name."""
        self.append((fn.__name__, fn))
        return fn

    def names(self) -> list[str]:
        return [name for name, _fn in self]

    def migrate(self, db: sqlite_utils.Database) -> list[str]:
        """Apply pending migrations, each in its own transaction; returns the names applied."""
        db[MIGRATIONS_TABLE].create(  # type: ignore[union-attr]
            {"name": str, "applied_at": str}, pk="name", if_not_exists=True
        )
        done = applied(db)
        newly: list[str] = []
        for name, fn in self:
            if name in done:
                continue
            with db.conn:
                fn(db)
                db[MIGRATIONS_TABLE].insert(  # type: ignore[union-attr]
                    {"name": name, "applied_at": datetime.now(UTC).isoformat()}
                )
            newly.append(name)
        return newly


def applied(db: sqlite_utils.Database) -> set[str]:
    if MIGRATIONS_TABLE not in db.table_names():
        return set()
    return {row["name"] for row in db[MIGRATIONS_TABLE].rows}


def open_database(
    path: Path,
    migrations: Migrations,
    synchronous: Literal["NORMAL", "FULL"] = "NORMAL",
) -> sqlite_utils.Database:
    """One connection (open one per thread), migrated. In WAL mode NORMAL never corrupts and
    survives an application crash; only a power cut can lose the last transactions. FULL waits
    for the disk at every commit: for what cannot be redone (conversations)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite_utils.Database(path)
    db.execute("PRAGMA busy_timeout = 10000")
    db.execute("PRAGMA foreign_keys = ON")
    db.execute(f"PRAGMA synchronous = {synchronous}")
    if db.journal_mode != "wal" or set(migrations.names()) - applied(db):
        # Two connections opening a new database at once (the GUI and `lanterne index watch`)
        # must neither both run a migration nor race to switch the journal to WAL (that switch
        # needs the database to itself).
        with FileLock(str(path) + ".migrate.lock", timeout=60):
            db.enable_wal()
            migrations.migrate(db)
    return db
