from __future__ import annotations

import os
from pathlib import Path

import pytest

from lanterne.indexer.indexing import FolderError, Indexer, IndexOptions, Progress
from lanterne.indexer.retriever import Retriever
from lanterne.indexer.store import IndexStore


@pytest.fixture
def indexer(tmp_path: Path) -> Indexer:
    return Indexer(IndexStore(tmp_path / "index.sqlite3"))


def paths_in(indexer: Indexer) -> set[str]:
    return {Path(r[0]).name for r in indexer.store.db.execute("SELECT path FROM documents")}


def test_add_folder_indexes_supported_files(indexer: Indexer, docs_folder: Path) -> None:
    (docs_folder / ".hidden.md").write_text("# secret")
    (docs_folder / "~$brouillon.txt").write_text("lock file")
    (docs_folder / ".git").mkdir()
    (docs_folder / ".git" / "notes.txt").write_text("git internals")
    (docs_folder / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    progress: list[Progress] = []
    result = indexer.add_folder(docs_folder, progress.append)
    assert (result.indexed, result.failed) == (3, 0)
    assert paths_in(indexer) == {"install.md", "tarte.txt", "sauvegardes.html"}
    assert progress[-1].done == progress[-1].total == 3
    status = indexer.store.status()
    assert status.documents == 3 and status.pending == 0 and status.chunks >= 5
    langs = dict(indexer.store.db.execute("SELECT path, lang FROM documents").fetchall())
    assert langs[str(docs_folder / "cuisine" / "tarte.txt")] == "fr"
    assert langs[str(docs_folder / "debian" / "install.md")] == "en"


def test_missing_or_wrong_folder_is_a_clear_error(indexer: Indexer, tmp_path: Path) -> None:
    with pytest.raises(FolderError, match="Folder not found"):
        indexer.add_folder(tmp_path / "nope")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(FolderError, match="Not a folder"):
        indexer.add_folder(tmp_path / "file.txt")


def test_unchanged_files_are_not_reindexed(indexer: Indexer, docs_folder: Path) -> None:
    indexer.add_folder(docs_folder)
    again = indexer.add_folder(docs_folder)
    assert (again.total, again.indexed, again.unchanged) == (0, 0, 3)
    # Touched but identical content: only the hash is read, nothing re-extracted.
    tarte = docs_folder / "cuisine" / "tarte.txt"
    os.utime(tarte, ns=(tarte.stat().st_atime_ns, tarte.stat().st_mtime_ns + 10**9))
    touched = indexer.add_folder(docs_folder)
    assert (touched.total, touched.indexed, touched.unchanged) == (1, 0, 3)


def test_edits_and_deletions_are_reflected(indexer: Indexer, docs_folder: Path) -> None:
    indexer.add_folder(docs_folder)
    retriever = Retriever(indexer.store)
    (docs_folder / "cuisine" / "tarte.txt").write_text("La quiche lorraine cuit trente minutes.")
    (docs_folder / "debian" / "install.md").unlink()
    result = indexer.add_folder(docs_folder)
    assert result.indexed == 1
    assert retriever.search("quiche")[0].path.endswith("tarte.txt")
    assert retriever.search("pommes") == []
    assert retriever.search("partitioning") == []
    assert "install.md" not in paths_in(indexer)


def test_unreadable_files_get_a_reason_and_the_rest_continues(
    indexer: Indexer, docs_folder: Path
) -> None:
    (docs_folder / "binaire.txt").write_bytes(b"\x00\x01\x02\xff\xfe garbage \x00" * 50)
    big = docs_folder / "gros.txt"
    big.write_text("a" * 2048)
    indexer.options = IndexOptions(max_file_bytes=1024)
    result = indexer.add_folder(docs_folder)
    assert (result.indexed, result.failed) == (3, 2)
    errors = {Path(e.path).name: e.reason for e in indexer.store.status().errors}
    assert "binary" in errors["binaire.txt"]
    assert "too large" in errors["gros.txt"]


def test_a_crash_mid_index_resumes(indexer: Indexer, docs_folder: Path) -> None:
    calls = 0

    def crash_after_first(p: object) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise KeyboardInterrupt  # the process dies while indexing the second file

    with pytest.raises(KeyboardInterrupt):
        indexer.add_folder(docs_folder, crash_after_first)
    status = indexer.store.status()
    assert status.documents == 1 and status.pending == 2
    resumed = Indexer(IndexStore(indexer.store.path)).add_folder(docs_folder)
    assert (resumed.total, resumed.indexed, resumed.unchanged) == (2, 2, 1)


def test_remove_folder_forgets_its_documents_not_the_files(
    indexer: Indexer, docs_folder: Path
) -> None:
    indexer.add_folder(docs_folder)
    assert indexer.remove_folder(docs_folder)
    assert indexer.store.status().documents == 0
    assert indexer.store.db.execute("SELECT COUNT(*) FROM chunks_stems").fetchone()[0] == 0
    assert (docs_folder / "cuisine" / "tarte.txt").exists()
    assert not indexer.remove_folder(docs_folder)


def test_symlink_loops_are_not_followed(indexer: Indexer, docs_folder: Path) -> None:
    (docs_folder / "debian" / "loop").symlink_to(docs_folder, target_is_directory=True)
    assert indexer.add_folder(docs_folder).indexed == 3


def test_a_vector_for_text_rewritten_meanwhile_is_not_stored(
    indexer: Indexer, tmp_path: Path
) -> None:
    """The embedding worker reads passages, embeds them (seconds), then writes: if the file was
    re-indexed meanwhile, its new passages may carry the same ids; the stale vector must not land
    on them."""
    folder = tmp_path / "notes"
    folder.mkdir()
    note = folder / "note.md"
    note.write_text("# Note\n\nThe first version of this note.\n")
    indexer.add_folder(folder)
    store = indexer.store
    (pending,) = store.chunks_to_embed("model", 10)
    note.write_text("# Note\n\nA rewritten version, with other words.\n")
    indexer.sync_folder(folder.resolve())
    (rewritten,) = store.chunks_to_embed("model", 10)
    assert rewritten.id == pending.id and rewritten.text != pending.text
    store.write_vectors("model", [pending], [1.0], [b"\x01" * 4])
    assert store.vector_counts("model") == (0, 1)
    store.write_vectors("model", [rewritten], [1.0], [b"\x01" * 4])
    assert store.vector_counts("model") == (1, 1)


def test_the_stamp_recorded_is_that_of_the_bytes_read(indexer: Indexer, docs_folder: Path) -> None:
    """A file rewritten between the scan and the read is stored with the newer text under the
    newer size and time (not the scan's), so the next scan neither skips a change nor keeps a
    stale size: the index ends as a clean index of the same folder would."""
    indexer.add_folder(docs_folder)
    path = docs_folder / "cuisine" / "tarte.txt"
    folder_id = indexer.store.folders()[0][0]
    scanned = path.stat()
    path.write_text(path.read_text("utf-8") + "\nDix minutes de repos.\n", "utf-8")
    assert dict(indexer._index(folder_id, [(path, scanned)])) == {path: "indexed"}
    now = path.stat()
    state = indexer.store.document(path)
    assert state is not None and (state.size, state.mtime_ns) == (now.st_size, now.st_mtime_ns)
    assert state.size != scanned.st_size
