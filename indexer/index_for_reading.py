"""The index for what only reads it, even in a data folder Lanterne cannot write to."""

from __future__ import annotations

from pathlib import Path

from lanterne.foundation.read_only_folder import DataFolderReadOnlyError, reading_notice
from lanterne.indexer.store import IndexStore


def open_index_for_reading(path: Path) -> tuple[IndexStore, str | None]:
    """The index for what only reads it (search, status, retrieval for answers), and None; or,
    in a data folder Lanterne cannot write to, the index opened read-only and a notice saying
    so. Raises DataFolderReadOnlyError when even that is not possible."""
    try:
        return IndexStore(path), None
    except DataFolderReadOnlyError:
        return IndexStore(path, read_only=True), reading_notice(path.parent)
