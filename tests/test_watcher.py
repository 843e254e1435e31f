"""Live watching: creations, edits, moves and deletions reach the index without a rescan."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lanterne.indexer.indexing import Indexer
from lanterne.indexer.retriever import Retriever
from lanterne.indexer.store import IndexStore
from lanterne.indexer.watcher import watch


@pytest.fixture
def watching(tmp_path: Path, docs_folder: Path) -> Iterator[Retriever]:
    db = tmp_path / "index.sqlite3"
    indexer = Indexer(IndexStore(db))
    indexer.add_folder(docs_folder)
    # Changed while nothing was watching (the app was closed): the start-up pass finds it.
    (docs_folder / "cuisine" / "tarte.txt").write_text("La galette des rois se partage en janvier.")
    stop = threading.Event()
    ready = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            # The watcher owns its writer connection on its own thread, as in `index watch`.
            watch(Indexer(IndexStore(db)), stop, debounce=0.1, on_ready=lambda _p: ready.set())
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    assert ready.wait(30), "the watcher did not start"
    reader = IndexStore(db)  # a separate reader, like the GUI or `lanterne search`
    yield Retriever(reader)
    stop.set()
    thread.join(10)
    reader.close()
    indexer.store.close()
    assert not errors and not thread.is_alive()


def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("the index did not catch up within the timeout")


def top_path(retriever: Retriever, query: str) -> str:
    results = retriever.search(query)
    return Path(results[0].path).name if results else ""


def test_create_modify_move_delete(watching: Retriever, docs_folder: Path) -> None:
    note = docs_folder / "nouvelle.md"
    note.write_text("# Réunion\n\nLa réunion budgétaire aura lieu jeudi.", encoding="utf-8")
    eventually(lambda: top_path(watching, "réunion budgétaire") == "nouvelle.md")

    note.write_text("# Réunion\n\nLa réunion est reportée à vendredi.", encoding="utf-8")
    eventually(lambda: top_path(watching, "vendredi") == "nouvelle.md")
    assert watching.search("budgétaire") == []

    moved = docs_folder / "admin" / "compte-rendu.md"
    note.rename(moved)
    eventually(lambda: top_path(watching, "vendredi") == "compte-rendu.md")

    moved.unlink()
    eventually(lambda: watching.search("vendredi") == [])


def test_changes_made_while_closed_are_found_at_start(watching: Retriever) -> None:
    assert top_path(watching, "galette") == "tarte.txt"
    assert watching.search("pommes") == []


def test_deleting_a_folder_forgets_its_files(watching: Retriever, docs_folder: Path) -> None:
    assert top_path(watching, "galette rois") == "tarte.txt"
    (docs_folder / "cuisine" / "tarte.txt").unlink()
    (docs_folder / "cuisine").rmdir()
    eventually(lambda: watching.search("galette rois") == [])


def test_a_burst_of_files_is_not_lost(watching: Retriever, docs_folder: Path) -> None:
    burst = docs_folder / "burst"
    burst.mkdir()
    for i in range(200):
        (burst / f"note{i:03}.txt").write_text(f"Entrée numéro zorglub{i:03} du journal.")
    eventually(
        lambda: len(watching.search("zorglub199 zorglub000 zorglub100", k=5)) == 3, timeout=20
    )
