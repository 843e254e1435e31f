"""The watched folders, kept outside the index too: a damaged index is rebuilt with them.

`index-folders.json` beside the index, rewritten (to a temporary file, then renamed) whenever a
folder is added or removed. It is current or absent: when it cannot be written (a full or
read-only disk), the old one is removed, and a rebuild reads the folders from the damaged file.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import sqlite_utils

Folders = list[tuple[str, str]]  # (path as stored, added_at), in the order they were added


def backup_path(index_path: Path) -> Path:
    return index_path.with_name(index_path.stem + "-folders.json")


def save_folders(db: sqlite_utils.Database, index_path: Path) -> None:
    rows = db.execute("SELECT path, added_at FROM folders ORDER BY added_at, id").fetchall()
    data = {"folders": [{"path": path, "added_at": added_at} for path, added_at in rows]}
    target = backup_path(index_path)
    work = target.with_name(target.name + ".tmp")
    try:
        work.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        work.replace(target)
    except OSError:
        for path in (work, target):
            with contextlib.suppress(OSError):
                path.unlink()


def load_folders(index_path: Path) -> Folders | None:
    """The folders saved last, or None when there is no usable backup."""
    try:
        data = json.loads(backup_path(index_path).read_text(encoding="utf-8"))
        rows = data["folders"]
        return [(str(row["path"]), str(row["added_at"])) for row in rows]
    except (OSError, ValueError, KeyError, TypeError):
        return None
