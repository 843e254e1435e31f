"""Which files under a watched folder are candidates for the index.

Skips what no user means to search: hidden files and folders, VCS and build folders, office lock
and temporary files, and whatever the user's `.lanterneignore` files exclude. Symlinked folders
are not followed (no loops); unreadable folders are skipped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from lanterne.indexer.extract import is_supported
from lanterne.indexer.ignore_rules import IgnoreRules

IGNORED_DIRS = {
    "node_modules",
    "__pycache__",
    "venv",
    "build",
    "dist",
    "target",
    "site-packages",
    "CVS",
    "_darcs",
}


def is_ignored_name(name: str) -> bool:
    return name.startswith((".", "~$", ".~lock")) or name.endswith(
        ("~", ".tmp", ".swp", ".part", ".crdownload")
    )


def is_candidate(path: Path) -> bool:
    """A file the index should hold, judged by its name and its folders' names alone."""
    if not is_supported(path) or is_ignored_name(path.name):
        return False
    return not any(is_ignored_name(p) or p in IGNORED_DIRS for p in path.parent.parts[1:])


def scan(root: Path, patterns: tuple[str, ...] = ()) -> Iterator[tuple[Path, os.stat_result]]:
    """Yield (path, stat) for every candidate file under `root`, in a stable order; `patterns`
    (gitignore lines) leave out more, as the user's settings ask."""
    rules = IgnoreRules(root, patterns)
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not is_ignored_name(d)
            and d not in IGNORED_DIRS
            and not rules.ignores(here / d, is_dir=True)
        )
        for name in sorted(filenames):
            if is_ignored_name(name):
                continue
            path = here / name
            if not is_supported(path) or rules.ignores(path):
                continue
            try:
                st = path.stat()
            except OSError:
                continue  # vanished or a dangling link
            if path.is_file():
                yield path, st
