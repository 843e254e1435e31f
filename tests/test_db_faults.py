"""Damage and a full disk are told apart from other errors, on real SQLite files."""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from lanterne.foundation.db_faults import DiskFullError, is_damage, is_disk_full


def _database(path: Path, rows: int = 2000) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, text TEXT)")
        conn.executemany("INSERT INTO t (text) VALUES (?)", [("x" * 200,)] * rows)
        conn.execute("CREATE INDEX t_text ON t (text)")
    conn.close()


def _error_of(path: Path, sql: str) -> BaseException:
    conn = sqlite3.connect(path)
    try:
        conn.execute(sql).fetchall()
    except sqlite3.Error as exc:
        return exc
    finally:
        conn.close()
    raise AssertionError("no error")


def test_overwritten_pages_and_other_files_are_damage(tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.sqlite3"
    _database(damaged)
    with damaged.open("r+b") as f:  # pages of the table, not the header
        for page in (3, 7, 20):
            f.seek(page * 4096)
            f.write(b"\xa5" * 4096)
    assert is_damage(_error_of(damaged, "SELECT count(*), max(text) FROM t"))
    other = tmp_path / "notes.sqlite3"
    other.write_bytes(b"Ceci n'est pas une base de donn\xc3\xa9es.\n" * 300)
    assert is_damage(_error_of(other, "SELECT * FROM sqlite_master"))


def test_busy_missing_tables_and_other_errors_are_not_damage(tmp_path: Path) -> None:
    path = tmp_path / "fine.sqlite3"
    _database(path, rows=3)
    assert not is_damage(_error_of(path, "SELECT * FROM missing"))
    assert not is_damage(OSError(errno.EIO, "I/O error"))
    assert not is_disk_full(_error_of(path, "SELECT * FROM missing"))


def test_a_full_disk_is_told_apart(tmp_path: Path) -> None:
    assert is_disk_full(OSError(errno.ENOSPC, "No space left on device"))
    assert not is_disk_full(OSError(errno.EACCES, "Permission denied"))
    error = DiskFullError(tmp_path, needed=5 * 1024 * 1024)
    assert str(tmp_path) in str(error) and is_disk_full(error)


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small filesystem needs root")
def test_sqlite_on_a_full_filesystem_is_a_full_disk(tmp_path: Path) -> None:
    small = tmp_path / "small"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(small)], check=True)
    try:
        conn = sqlite3.connect(small / "full.sqlite3")
        conn.execute("CREATE TABLE t (text TEXT)")
        with pytest.raises(sqlite3.Error) as caught:
            for _ in range(200):
                conn.execute("INSERT INTO t VALUES (?)", ("y" * 10_000,))
                conn.commit()
        conn.close()
        assert is_disk_full(caught.value) and not is_damage(caught.value)
    finally:
        subprocess.run(["umount", str(small)], check=True)
