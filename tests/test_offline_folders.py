"""Folders that go offline (#31): a drive unplugged, a share unmounted, a folder moved away keeps
its documents, passages and vectors, is said to be not connected, and when it comes back only
what changed is read and embedded again. A folder deleted on purpose is told apart and the user
decides. Real folders, real bind mounts and tmpfs mounts (as root), the real embedding model."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lanterne.engine.embedder import Embedder
from lanterne.indexer import folder_presence
from lanterne.indexer.embedding_worker import EmbeddingWorker
from lanterne.indexer.indexing import FolderError, Indexer
from lanterne.indexer.retriever import Retriever
from lanterne.indexer.store import IndexStore
from lanterne.indexer.watcher import apply_changes, watch

PAGES = {
    "pie.md": "# Apple pie\n\nBake the apple pie for forty minutes in an oven heated to "
    "180 degrees, until the crust turns golden.\n",
    "backups.md": "# Nightly backups\n\nThe backup script copies the home directories to the "
    "external drive every night at two o'clock with rsync.\n",
    "notes/pare-feu.md": "# Pare-feu\n\nLe pare-feu refuse toutes les connexions entrantes sauf "
    "le port 22 ; les règles sont chargées au démarrage par nftables.\n",
    "notes/conges.md": "# Congés\n\nChaque salarié dispose de vingt-cinq jours de congés payés "
    "par an, à poser avant le 31 mai.\n",
}
Rows = dict[str, list[tuple[int, int | None]]]


def write_pages(root: Path) -> Path:
    for rel, text in PAGES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def rows(store: IndexStore) -> Rows:
    """Each document's (passage id, vector id): unchanged ids mean nothing was read again."""
    found: Rows = {}
    for path, chunk_id, vector_id in store.db.execute(
        "SELECT d.path, c.id, v.id FROM documents d JOIN chunks c ON c.document_id = d.id "
        "LEFT JOIN vectors v ON v.chunk_id = c.id ORDER BY c.id"
    ).fetchall():
        found.setdefault(Path(path).name, []).append((chunk_id, vector_id))
    return found


def state(store: IndexStore, days: float | None = None) -> str:
    return store.status(gone_after_days=days).folders[0].state


@pytest.fixture(scope="module")
def embedder(e5_model: Path) -> Iterator[Embedder]:
    model = Embedder(e5_model, n_threads=2)
    yield model
    model.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[IndexStore]:
    opened = IndexStore(tmp_path / "index.sqlite3")
    yield opened
    opened.close()


def run(*command: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(command)}: {done.stderr.strip()}")


@pytest.fixture
def mounts() -> Iterator[Callable[..., None]]:
    """`mount ARGS…` as root, every mount undone at the end; skipped without the right to."""
    if os.geteuid() != 0:
        pytest.skip("mounting a folder needs root (as in CI)")
    made: list[Path] = []

    def mount(*args: str) -> None:
        done = subprocess.run(["mount", *args], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            pytest.skip(f"this machine refuses mounts: {done.stderr.strip()}")
        made.append(Path(args[-1]))

    yield mount
    for target in reversed(made):
        if folder_presence.is_mount_point(target):
            subprocess.run(["umount", str(target)], check=False)


@pytest.mark.model
def test_a_folder_moved_away_keeps_everything_and_only_changes_are_read_back(
    tmp_path: Path, store: IndexStore, embedder: Embedder
) -> None:
    folder = write_pages(tmp_path / "drive" / "pages")
    indexer = Indexer(store)
    indexer.add_folder(folder)
    assert EmbeddingWorker(store, embedder).run() == 4
    before = rows(store)

    away = folder.rename(tmp_path / "drive" / "elsewhere")
    result = indexer.sync_all()
    assert (result.total, result.indexed) == (0, 0)
    assert rows(store) == before  # documents, passages and vectors all kept
    assert state(store) == "not_connected"
    hits = Retriever(store, embedder).search_documents("tarte aux pommes", mode="dense")
    assert hits[0].best.path.endswith("pie.md") and hits[0].best.offline
    assert hits[0].best.to_json()["offline"] is True
    with pytest.raises(FolderError, match="not connected"):
        indexer.reindex_folder(folder)  # nothing marked to be read again
    apply_changes(indexer, {folder, folder / "pie.md"})  # the watcher's events of its going
    assert rows(store) == before

    (away / "backups.md").write_text("# Nightly backups\n\nNow at three o'clock, with borg.\n")
    away.rename(folder)
    back = indexer.sync_all()
    assert (back.total, back.indexed, back.unchanged) == (1, 1, 3)
    after = rows(store)
    assert {k: v for k, v in after.items() if k != "backups.md"} == {
        k: v for k, v in before.items() if k != "backups.md"
    }
    assert after["backups.md"][0][1] is None  # its new passage waits for its vector
    assert EmbeddingWorker(store, embedder).run() == len(after["backups.md"])
    assert state(store) == "connected"
    assert not Retriever(store, embedder).search_documents("borg")[0].best.offline


def eventually(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("not within the timeout")


class Watching:
    """`watch` on its own thread and writer connection, as `lanterne index watch` runs it."""

    def __init__(self, db: Path) -> None:
        self.changes: list[tuple[Path, bool]] = []
        self.errors: list[BaseException] = []
        self.stop, ready = threading.Event(), threading.Event()

        def run() -> None:
            indexer = Indexer(IndexStore(db))
            try:
                watch(
                    indexer,
                    self.stop,
                    debounce=0.1,
                    presence_every=0.2,
                    on_ready=lambda _p: ready.set(),
                    on_presence=lambda folder, up: self.changes.append((folder, up)),
                )
            except BaseException as exc:
                self.errors.append(exc)
            finally:
                indexer.close()

        self.thread = threading.Thread(target=run)
        self.thread.start()
        assert ready.wait(30), "the watcher did not start"

    def close(self) -> None:
        self.stop.set()
        self.thread.join(15)
        assert not self.errors and not self.thread.is_alive()


@pytest.mark.model
def test_the_watcher_keeps_a_folder_that_goes_and_watches_it_again_when_it_comes_back(
    tmp_path: Path, store: IndexStore, embedder: Embedder
) -> None:
    folder = write_pages(tmp_path / "share" / "pages")
    Indexer(store).add_folder(folder)
    EmbeddingWorker(store, embedder).run()
    before = rows(store)
    first = Watching(store.path)
    try:
        away = folder.rename(tmp_path / "share" / "moved")
        eventually(lambda: first.changes == [(folder, False)])
    finally:
        first.close()
    again = Watching(store.path)  # the app starts again while the share is away
    try:
        assert rows(store) == before
        (away / "notes" / "conges.md").unlink()  # changed while away
        (away / "pie.md").write_text("# Apple pie\n\nForty-five minutes at 170 degrees.\n")
        time.sleep(0.5)
        assert rows(store) == before
        away.rename(folder)
        eventually(lambda: again.changes == [(folder, True)])
        after = rows(store)
        assert "conges.md" not in after  # deleted meanwhile: forgotten now that it is back
        assert after["backups.md"] == before["backups.md"]  # untouched: not read again
        assert after["pare-feu.md"] == before["pare-feu.md"]
        assert after["pie.md"] != before["pie.md"]  # changed meanwhile: read again
        (folder / "new.md").write_text("# Réunion\n\nLa réunion budgétaire est jeudi.\n")
        eventually(lambda: "new.md" in rows(store))  # watched again
    finally:
        again.close()


@pytest.mark.model
def test_an_unmounted_bind_mount_is_not_connected_and_comes_back_unread(
    tmp_path: Path, store: IndexStore, embedder: Embedder, mounts: Callable[..., None]
) -> None:
    source = write_pages(tmp_path / "server")
    point = tmp_path / "mnt"
    point.mkdir()
    mounts("--bind", str(source), str(point))
    assert folder_presence.is_mount_point(point)  # same disk: os.path.ismount cannot tell
    indexer = Indexer(store)
    indexer.add_folder(point)
    EmbeddingWorker(store, embedder).run()
    before = rows(store)

    run("umount", str(point))
    assert point.is_dir() and not any(point.iterdir())  # the empty mount point is left
    assert indexer.sync_all().total == 0
    assert rows(store) == before and state(store, days=0) == "not_connected"
    assert Retriever(store, embedder).search_documents("congés payés")[0].best.offline

    (source / "pie.md").write_text("# Apple pie\n\nForty-five minutes at 170 degrees.\n")
    (source / "notes" / "budget.md").write_text("# Budget\n\nLe budget 2026 est voté.\n")
    mounts("--bind", str(source), str(point))
    back = indexer.sync_all()
    assert (back.indexed, back.unchanged) == (2, 3)
    after = rows(store)
    for name in ("backups.md", "pare-feu.md", "conges.md"):
        assert after[name] == before[name]
    assert EmbeddingWorker(store, embedder).run() == len(after["pie.md"]) + len(after["budget.md"])
    assert state(store) == "connected"


def test_a_drive_unplugged_is_never_called_gone_a_folder_deleted_on_its_disk_is(
    tmp_path: Path, store: IndexStore, mounts: Callable[..., None]
) -> None:
    usb = tmp_path / "usb"
    usb.mkdir()
    mounts("-t", "tmpfs", "-o", "size=2m", "tmpfs", str(usb))
    on_drive = write_pages(usb / "Documents")
    on_disk = write_pages(tmp_path / "home" / "Documents")
    indexer = Indexer(store)
    indexer.add_folder(on_drive)
    indexer.add_folder(on_disk)
    run("umount", str(usb))  # the drive's folder is gone with it, its mount point stays
    shutil.rmtree(on_disk)
    indexer.sync_all()
    states = {f.path: f.state for f in store.status(gone_after_days=0).folders}
    assert states == {str(on_drive): "not_connected", str(on_disk): "gone"}
    later = {f.path: f.state for f in store.status(gone_after_days=7).folders}
    assert later[str(on_disk)] == "not_connected"  # missing, but not for 7 days yet
    assert store.status().documents == 8  # nothing forgotten without the user


def test_an_empty_folder_is_offline_only_when_nothing_says_it_is_the_same(
    tmp_path: Path, store: IndexStore
) -> None:
    folder = write_pages(tmp_path / "pages")
    indexer = Indexer(store)
    indexer.add_folder(folder)
    # An index from before Lanterne remembered folders: its empty folder may be a mount point.
    store.db.execute("DELETE FROM folder_presence")
    store.db.conn.commit()
    for path in [p for p in folder.rglob("*") if p.is_file()]:
        path.unlink()
    (folder / "notes").rmdir()
    indexer.sync_all()
    assert store.status().documents == 4 and state(store) == "not_connected"
    # Seen before as a plain folder on this disk: emptied by its owner, emptied in the index.
    (folder / "new.md").write_text("# Note\n\nUne note.\n")
    indexer.sync_all()
    (folder / "new.md").unlink()
    indexer.sync_all()
    assert store.status().documents == 0 and state(store) == "connected"


@pytest.mark.model
def test_cli_status_and_search_say_not_connected_and_gone(
    tmp_path: Path, e5_model: Path, embedder: Embedder
) -> None:
    from lanterne.foundation import paths
    from lanterne.foundation.settings import Settings
    from support.cli import lanterne

    folder = write_pages(tmp_path / "Mes documents")
    env = {"LANTERNE_EMBEDDING_MODEL": str(e5_model)}
    words_only = {"LANTERNE_EMBEDDING_MODEL": "none"}  # no model to load where none is needed
    index = IndexStore(paths.index_db_path())  # as `lanterne index add` does
    Indexer(index).add_folder(folder)
    EmbeddingWorker(index, embedder).run()
    index.close()
    folder.rename(tmp_path / "ailleurs")

    found = json.loads(lanterne("search", "tarte aux pommes", "--json", env=env).stdout)
    assert found["results"][0]["path"].endswith("pie.md") and found["results"][0]["offline"]
    text = lanterne("search", "apple pie", env=words_only).stdout
    assert "pie.md" in text and "[not connected" in text
    status = json.loads(lanterne("index", "status", "--json", env=words_only).stdout)
    assert status["folders"][0]["state"] == "not_connected" and status["documents"] == 4
    assert status["folders"][0]["missing_since"]

    settings = Settings()
    settings.set("index.missing_folder_days", 0)
    settings.save()
    said = lanterne("index", "status", env=words_only).stdout
    assert f"{folder}: 4 documents" in said
    assert f"Folder {folder} is gone" in said
    assert f'`lanterne index remove "{folder}"` to forget it' in said
    removed = lanterne("index", "remove", str(folder), "--json")  # the user decides
    assert json.loads(removed.stdout) == {"removed": True, "path": str(folder)}
