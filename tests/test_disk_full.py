"""A full disk, on a small filesystem the tests make and fill: the user is told which folder and
how much to free, nothing is half-written, and indexing goes on once there is room (by itself in
the index service, when the command is run again in the CLI) to the index a clean run makes."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lanterne.context import AppContext
from lanterne.conversations.store import ConversationStore
from lanterne.disk_space import wait_for_room
from lanterne.engine.hub_download import DownloadError, Progress
from lanterne.foundation.db_faults import DiskFullError, is_damage, is_disk_full
from lanterne.foundation.settings import Settings
from lanterne.index_service import IndexService, ServiceEvents
from lanterne.indexer.store import IndexStore
from lanterne.model_library import ModelLibrary
from support.cli import lanterne
from support.demonstration_data import fill as fill_conversations
from support.hub_server import Hub
from support.index_snapshot import Contents, contents, differences, problems
from support.real_corpus import write_corpus
from support.small_disk import fill, needs_root, small_disk

DISK_FULL_EXIT = 75
# A real catalog entry; the local hub serves a test model's bytes under its names.
MODEL_ID = "lfm2-8b-a1b"
REPO = "LiquidAI/LFM2-8B-A1B-GGUF"
FILE = "LFM2-8B-A1B-Q4_K_M.gguf"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Contents]:
    """A folder of real documents, and the index a clean `lanterne index add` makes of it."""
    root = tmp_path_factory.mktemp("corpus")
    folder = root / "docs"
    write_corpus(folder, seed=3)
    home = root / "clean-home"
    done = lanterne("index", "add", str(folder), "--no-embed", env={"LANTERNE_HOME": str(home)})
    assert done.returncode == 0, done.stderr
    return folder, contents(home / "index.sqlite3")


@pytest.fixture
def small(tmp_path: Path) -> Iterator[Path]:
    with small_disk(tmp_path / "small", size_mb=24) as folder:
        yield folder


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def statuses(index: Path) -> dict[str, int]:
    conn = sqlite3.connect(index)
    try:
        rows = conn.execute("SELECT status, COUNT(*) FROM documents GROUP BY status").fetchall()
    finally:
        conn.close()
    return {status: int(n) for status, n in rows}


@pytest.mark.slow
@needs_root
def test_index_add_on_a_full_disk_says_where_and_what_to_do_then_resumes(
    corpus: tuple[Path, Contents], small: Path
) -> None:
    folder, clean = corpus
    home = small / "home"
    filler = fill(small, leave=1536 * 1024)  # room for a part of the index only
    env = {"LANTERNE_HOME": str(home)}
    stopped = lanterne("index", "add", str(folder), "--no-embed", env=env)
    assert stopped.returncode == DISK_FULL_EXIT, stopped.stderr
    assert "Traceback" not in stopped.stderr and "OperationalError" not in stopped.stderr
    assert f"The disk holding {home} is full: free at least" in stopped.stderr
    assert "Run the same command again once there is room" in stopped.stderr
    index = home / "index.sqlite3"
    assert problems(index) == []
    counts = statuses(index)
    assert counts.get("indexed", 0) > 0 and counts.get("pending", 0) > 0, counts

    filler.unlink()  # the user frees some space
    again = lanterne("index", "add", str(folder), "--no-embed", env=env)
    assert again.returncode == 0, again.stderr
    assert problems(index) == []
    assert differences(contents(index), clean) == []


@pytest.mark.slow
@needs_root
def test_the_index_service_waits_for_room_and_goes_on_by_itself(
    corpus: tuple[Path, Contents], small: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, clean = corpus
    home = small / "home"
    monkeypatch.setenv("LANTERNE_HOME", str(home))
    filler = fill(small, leave=1536 * 1024)
    said: list[str | None] = []
    ready = threading.Event()
    ctx = AppContext(Settings())
    events = ServiceEvents(ready=lambda _p: ready.set(), disk_full=said.append)
    service = IndexService(ctx, events, embed=False)
    service.start()
    try:
        service.add_folder(folder)
        wait_for(lambda: said, 120, "indexing to find the disk full")
        assert f"The disk holding {home} is full: free at least" in str(said[0])
        assert "Lanterne goes on by itself" in str(said[0])
        assert service.waiting_for_room and not ready.is_set()
        assert problems(home / "index.sqlite3") == []

        filler.unlink()  # the user frees some space
        wait_for(ready.is_set, 120, "indexing to go on and be complete")
        assert said[1:] == [None] and not service.waiting_for_room  # told it goes on
    finally:
        service.stop()
        ctx.close()
    index = home / "index.sqlite3"
    assert problems(index) == []
    assert differences(contents(index), clean) == []


@pytest.mark.model
@needs_root
def test_vectors_wait_for_room_and_go_on_by_themselves(
    docs_folder: Path, small: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The passages are in when the disk fills up: search by meaning waits for room."""
    home = small / "home"
    monkeypatch.setenv("LANTERNE_HOME", str(home))
    said: list[str | None] = []
    fillers: list[Path] = []

    def on_ready(_progress: object) -> None:  # before the embedding model has loaded
        if not fillers:
            fillers.append(fill(small))

    ctx = AppContext(Settings())
    service = IndexService(ctx, ServiceEvents(ready=on_ready, disk_full=said.append))
    service.start()
    store = None
    try:
        service.add_folder(docs_folder)
        wait_for(lambda: said, 120, "the vectors to find the disk full")
        assert f"The disk holding {home} is full: free at least" in str(said[0])
        store = ctx.open_store()
        assert store.status().documents == 3 and store.vector_models() == []

        fillers[0].unlink()
        wait_for(lambda: _all_embedded(store), 120, "every passage to get its vector")
        wait_for(lambda: said[-1] is None, 10, "word that it goes on")
    finally:
        if store is not None:
            store.close()
        service.stop()
        ctx.close()
    assert problems(home / "index.sqlite3") == []


def _all_embedded(store: IndexStore | None) -> bool:
    assert store is not None
    models = store.vector_models()
    if len(models) != 1:
        return False
    embedded, total = store.vector_counts(models[0].model)
    return total > 0 and embedded == total


@needs_root
def test_a_wal_database_that_cannot_map_its_shared_memory_is_a_full_disk(small: Path) -> None:
    """SQLite says "disk I/O error" (SQLITE_IOERR_SHMSIZE) when a full disk leaves no room for
    a WAL database's -shm file: even a read fails, and it must be told as a full disk."""
    path = small / "notes.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    fill(small)
    conn = sqlite3.connect(path)
    try:
        with pytest.raises(sqlite3.OperationalError) as caught:
            conn.execute("SELECT COUNT(*) FROM t").fetchall()
    finally:
        conn.close()
    assert is_disk_full(caught.value) and not is_damage(caught.value)


@needs_root
def test_settings_on_a_full_disk_stay_whole_and_the_error_says_where(small: Path) -> None:
    home = small / "home"
    env = {"LANTERNE_HOME": str(home)}
    assert lanterne("remote", "off", env=env).returncode == 0
    settings_file = home / "settings.json"
    before = settings_file.read_bytes()
    fill(small)
    settings = Settings(settings_file)
    settings.set("retrieval.top_k", 7)
    with pytest.raises(DiskFullError) as caught:
        settings.save()
    assert str(home) in str(caught.value) and "were not saved" in str(caught.value)
    assert settings_file.read_bytes() == before
    assert not list(home.glob("*.tmp"))  # no temporary file left behind

    refused = lanterne("remote", "off", env=env)
    assert refused.returncode == DISK_FULL_EXIT and "Traceback" not in refused.stderr
    assert f"The disk holding {home} is full" in refused.stderr
    assert settings_file.read_bytes() == before


@needs_root
def test_an_export_to_a_full_disk_leaves_nothing_there(small: Path, tmp_path: Path) -> None:
    store = ConversationStore(AppContext(Settings()).conversations_path)
    fill_conversations(store, tmp_path / "docs")
    store.close()
    target = small / "exports"
    target.mkdir()
    fill(small)
    result = lanterne("export", str(target / "answers.jsonl"), "--json")
    assert result.returncode == DISK_FULL_EXIT, result.stderr
    assert "Traceback" not in result.stderr
    assert f"The disk holding {target} is full" in result.stderr
    assert "no part of it was left there" in result.stderr
    assert list(target.iterdir()) == []  # no half file, no temporary file
    assert json.loads(lanterne("export", "-", "--json").stdout.splitlines()[0])  # data intact


@needs_root
def test_the_cli_says_so_when_the_data_folder_cannot_even_be_opened(
    small: Path, docs_folder: Path
) -> None:
    home = small / "home"
    home.mkdir()
    fill(small)
    result = lanterne("index", "add", str(docs_folder), env={"LANTERNE_HOME": str(home)})
    assert result.returncode == DISK_FULL_EXIT and "Traceback" not in result.stderr
    assert f"The disk holding {home} is full" in result.stderr
    assert "run the same command again once there is room" in result.stderr.lower()


@needs_root
def test_a_disk_filling_up_during_a_download_says_where_and_the_download_resumes(
    hub: Hub, tiny_moe_model: Path, tmp_path: Path
) -> None:
    served = hub.add(REPO, FILE, tiny_moe_model)
    room = served.size + 256 * 1024**2 + 8 * 1024**2  # the model, and the margin checked first
    with small_disk(tmp_path / "models", size_mb=room / 1024**2) as models:
        settings = Settings()
        settings.set("models.directory", str(models))
        settings.save()
        fillers: list[Path] = []

        def another_program_fills_the_disk(progress: Progress) -> None:
            if progress.stage == "downloading" and not fillers:
                fillers.append(fill(models))

        with pytest.raises(DownloadError) as caught:
            ModelLibrary(Settings()).download(MODEL_ID, progress=another_program_fills_the_disk)
        dest = models.joinpath(*REPO.split("/"))
        assert f"The disk holding {dest} is full: free at least" in str(caught.value)
        assert "Download it again once there is room" in str(caught.value)
        assert not ModelLibrary(Settings()).installed()

        fillers[0].unlink()
        model = ModelLibrary(Settings()).download(MODEL_ID)
        assert hashlib.sha256(Path(model.path).read_bytes()).hexdigest() == served.sha256


def test_waiting_for_room_ends_with_room_after_a_while_or_at_stop(tmp_path: Path) -> None:
    """Without root: no space freed here, so a wait ends only by its retry (a quota may have
    been raised, which the free space does not show) or by stop."""
    stop = threading.Event()
    started = time.monotonic()
    assert wait_for_room(tmp_path, stop, room=2**62, poll_s=0.05, retry_s=0.3)
    assert 0.3 <= time.monotonic() - started < 5
    stopper = threading.Timer(0.2, stop.set)
    stopper.start()
    assert not wait_for_room(tmp_path, stop, room=2**62, poll_s=0.05, retry_s=60)
    stopper.join()
