"""Lanterne's SQLite databases, opened one way: WAL, foreign keys, named and recorded migrations.

Each database (the index, the conversations) declares its own `Migrations`; a migration is
applied once and recorded by name. Append new ones at the end and never edit one that has
shipped; each database's schema test pins the result.

An upgrade (an existing database with migrations pending) runs on a copy, which replaces the
database only once every migration has succeeded: a transaction alone cannot promise that, since
sqlite-utils' FTS helpers run scripts, and Python commits before each script.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import sqlite_utils
from filelock import FileLock

from lanterne.foundation.db_faults import DiskFullError, is_disk_full
from lanterne.foundation.read_only_folder import check_writable
from lanterne.foundation.translation import _

Migration = Callable[[sqlite_utils.Database], None]
MIGRATIONS_TABLE = "_lanterne_migrations"


@contextlib.contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """Every write inside commits together or not at all. Needed because `with db.conn:` opens
    no transaction and sqlite-utils 4 commits each write made outside one, so a kill between
    two statements would keep the first. IMMEDIATE takes the write lock now, waiting out
    another writer under the busy timeout, rather than failing when a read turns into a write.
    """
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.conn.rollback()
        raise
    db.conn.commit()


class MigrationFailedError(Exception):
    """One migration raised; `name` says which."""

    def __init__(self, name: str, error: Exception) -> None:
        super().__init__(f"{name}: {error}")
        self.name = name
        self.error = error


class DatabaseUpgradeError(Exception):
    """The database could not be brought to this version's schema; it was left as it was."""

    def __init__(self, path: Path, failure: MigrationFailedError) -> None:
        super().__init__(
            _(
                "{file} could not be upgraded for this version of Lanterne: step {step} "
                "failed ({reason}). The database was left as it was, with all it holds; "
                "the previous version of Lanterne can still open it."
            ).format(file=path, step=failure.name, reason=failure.error)
        )
        self.path = path
        self.failure = failure


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
            try:
                with transaction(db):
                    fn(db)
                    db[MIGRATIONS_TABLE].insert(  # type: ignore[union-attr]
                        {"name": name, "applied_at": datetime.now(UTC).isoformat()}
                    )
            except Exception as exc:  # any failure of a migration's own code stops the upgrade
                raise MigrationFailedError(name, exc) from exc
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
    before_upgrade: Callable[[sqlite3.Connection], object] | None = None,
) -> sqlite_utils.Database:
    """One connection (open one per thread), migrated. In WAL mode NORMAL never corrupts and
    survives an application crash; only a power cut can lose the last transactions. FULL waits
    for the disk at every commit: for what cannot be redone (conversations). `before_upgrade`
    runs on the connection before an existing database is migrated (conversations: a backup);
    if it raises, the upgrade does not happen."""
    path.parent.mkdir(parents=True, exist_ok=True)
    check_writable(path.parent)  # else SQLite's "unable to open database file", at first use
    db = sqlite_utils.Database(path)
    db.execute("PRAGMA busy_timeout = 10000")
    db.execute("PRAGMA foreign_keys = ON")
    db.execute(f"PRAGMA synchronous = {synchronous}")
    if db.journal_mode != "wal" or set(migrations.names()) - applied(db):
        # Two connections opening a new database at once (the GUI and `lanterne index watch`)
        # must neither both run a migration nor race to switch the journal to WAL (that switch
        # needs the database to itself).
        with FileLock(str(path) + ".migrate.lock", timeout=60):
            if applied(db):  # before anything is written, WAL's header bytes included
                _upgrade(db, path, migrations, before_upgrade)
            db.enable_wal()
            try:
                migrations.migrate(db)  # a new database (nothing to keep), else nothing left
            except MigrationFailedError as exc:
                db.close()
                if is_disk_full(exc.error):
                    raise DiskFullError(path.parent) from exc
                raise DatabaseUpgradeError(path, exc) from exc
    return db


def _upgrade(
    db: sqlite_utils.Database,
    path: Path,
    migrations: Migrations,
    before_upgrade: Callable[[sqlite3.Connection], object] | None = None,
) -> None:
    """Migrate a copy; copy it back whole (one transaction) only if every step succeeded."""
    if not set(migrations.names()) - applied(db):
        return
    work = path.with_name(path.name + ".upgrade")
    _remove_database_files(work)  # left by a crash during an earlier attempt
    try:
        if before_upgrade is not None:
            before_upgrade(db.conn)
        copy = sqlite3.connect(work)
        try:
            db.conn.backup(copy)
        finally:
            copy.close()
        upgraded = sqlite_utils.Database(work)
        try:
            upgraded.execute("PRAGMA foreign_keys = ON")
            migrations.migrate(upgraded)
            upgraded.conn.backup(db.conn)
        finally:
            upgraded.close()
    except MigrationFailedError as exc:
        db.close()
        raise DatabaseUpgradeError(path, exc) from exc
    except (sqlite3.Error, OSError) as exc:  # no room for the copy, a read-only folder...
        db.close()
        if is_disk_full(exc):  # the copy and its log: about twice the database
            raise DiskFullError(path.parent, 2 * path.stat().st_size) from exc
        raise DatabaseUpgradeError(path, MigrationFailedError(_("copy"), exc)) from exc
    finally:
        _remove_database_files(work)


def _remove_database_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            path.with_name(path.name + suffix).unlink()


def quick_check(conn: sqlite3.Connection, seconds: float) -> list[str] | None:
    """SQLite's `PRAGMA quick_check`, given at most `seconds`: the problems it found ([] when
    none), or None when time ran out first (a large file on a slow disk). A file that is no
    database at all is a problem too, not an exception."""
    deadline = time.monotonic() + seconds
    conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 1000)
    try:
        rows = conn.execute("PRAGMA quick_check").fetchall()
    except sqlite3.OperationalError as exc:
        if "interrupt" in str(exc).lower():
            return None
        raise
    except sqlite3.DatabaseError as exc:  # not a database, or too damaged to be read at all
        return [str(exc)]
    finally:
        conn.set_progress_handler(None, 0)
    problems = [str(row[0]) for row in rows]
    return [] if problems == ["ok"] else problems
