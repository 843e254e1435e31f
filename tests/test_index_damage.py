"""A damaged index (#31): noticed, said in words, set aside, and rebuilt from the folders.

Each fault is made on a real index of a real folder, then the real `lanterne` command meets it:
random pages overwritten with random bytes (random.Random(seed): replayable), the file cut
short, the file replaced by a PDF or a text file, and damage left behind a killed process.
Each time: no traceback, the damaged file kept in <data>/damaged, and the rebuilt index holds
what a clean index of the same folder holds (its rows, `index status --json`, and search).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from lanterne.context import AppContext
from lanterne.foundation.settings import Settings
from lanterne.index_repair import KEEP_DAMAGED, marker_path, quarantine
from lanterne.index_service import IndexService, ServiceEvents
from lanterne.indexer.embedding_worker import EmbeddingProgress
from lanterne.indexer.folder_backup import backup_path
from lanterne.indexer.index_health import IndexDamagedError
from support.cli import LANTERNE, lanterne
from support.index_snapshot import Contents, contents, problems

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

    from lanterne.desktop.main_window import MainWindow

WORDS_ONLY = {"LANTERNE_EMBEDDING_MODEL": "none"}  # vectors are not what is tested here
QUERY = "partition tarte sauvegarde"  # one word of each document
DOCS = {
    "debian/install.md": "# Installing Debian\n\n## Partitioning\n\nGuided partitioning "
    "creates a root partition and a swap partition.\n",
    "cuisine/tarte.txt": "La tarte aux pommes cuit quarante minutes dans un four préchauffé.\n",
    "admin/sauvegardes.md": "# Sauvegardes\n\nLe script de sauvegarde s'exécute chaque nuit "
    "à deux heures avec rsync.\n",
}
PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    result = lanterne(*args, env=WORDS_ONLY)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def status_json() -> dict[str, object]:
    result = run("index", "status", "--json")
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def search_json() -> list[object]:
    result = run("search", QUERY, "--json")
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout)["results"])


class Reference:
    """A clean index of the folder, and what Lanterne says about it."""

    def __init__(self, home: Path, folder: Path) -> None:
        self.home = home
        self.folder = folder
        self.contents: Contents = contents(home / "index.sqlite3")
        self.status = status_json()
        self.search = search_json()


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    root = tmp_path_factory.mktemp("damage")
    folder = root / "docs"
    for rel, text in DOCS.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text, encoding="utf-8")
    home = root / "home"
    saved = os.environ.get("LANTERNE_HOME")
    os.environ["LANTERNE_HOME"] = str(home)
    try:
        added = run("index", "add", str(folder))
        assert added.returncode == 0, added.stderr
        return Reference(home, folder)
    finally:
        if saved is None:
            del os.environ["LANTERNE_HOME"]
        else:
            os.environ["LANTERNE_HOME"] = saved


@pytest.fixture
def indexed(reference: Reference, lanterne_home: Path) -> Path:
    """This test's data folder holding a copy of the clean index; its index file."""
    shutil.copytree(reference.home, lanterne_home, dirs_exist_ok=True)
    return lanterne_home / "index.sqlite3"


def damage_pages(path: Path, seed: int, count: int = 3) -> list[int]:
    """Overwrite `count` pages after the first with random bytes; their numbers."""
    data = bytearray(path.read_bytes())
    page_size = int.from_bytes(data[16:18], "big") or 65536
    rng = random.Random(seed)
    pages = sorted(rng.sample(range(2, len(data) // page_size + 1), count))
    for page in pages:
        data[(page - 1) * page_size : page * page_size] = rng.randbytes(page_size)
    path.write_bytes(bytes(data))
    return pages


def truncate(path: Path, seed: int) -> None:
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.truncate(int(size * random.Random(seed).uniform(0.2, 0.7)))


def is_damaged(path: Path, work: Path) -> bool:
    """SQLite's own full check, on a copy (the file itself stays as the fault left it)."""
    shutil.copyfile(path, work)
    try:
        conn = sqlite3.connect(work)
        try:
            return [r[0] for r in conn.execute("PRAGMA integrity_check")] != ["ok"]
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return True


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def kept_aside(home: Path) -> list[Path]:
    return sorted((home / "damaged").glob("index-*.sqlite3"))


def assert_rebuilt_as_clean(reference: Reference, index: Path, ask: bool = False) -> None:
    """The same rows as the clean index; with `ask`, the same answers from the real CLI."""
    assert problems(index) == []
    assert contents(index) == reference.contents
    if ask:
        assert status_json() == reference.status
        assert search_json() == reference.search
    assert not marker_path(index).exists()
    assert not list(index.parent.glob("index.sqlite3.*.open"))  # every command closed it


FAULTS: dict[str, Callable[[Path, int], object]] = {
    "pages": damage_pages,
    "truncated": truncate,
    "pdf": lambda path, _seed: path.write_bytes(PDF),
    "text": lambda path, _seed: path.write_text("Notes de réunion\n" * 200, encoding="utf-8"),
}


@pytest.mark.parametrize(
    ("fault", "seed", "command"),
    [
        # Damage in pages no statement reads goes unseen until `index status` checks.
        ("pages", 31, ("index", "status")),
        ("truncated", 7, ("index", "status", "--json")),
        # No database at all: met by whatever opens it.
        ("pdf", 0, ("search", QUERY)),
        ("text", 0, ("index", "add", "FOLDER")),
    ],
)
@pytest.mark.slow
def test_a_damaged_index_is_set_aside_and_rebuilt_as_a_clean_one(
    reference: Reference,
    indexed: Path,
    tmp_path: Path,
    fault: str,
    seed: int,
    command: tuple[str, ...],
) -> None:
    FAULTS[fault](indexed, seed)
    damaged = is_damaged(indexed, tmp_path / "copy.sqlite3")
    before = digest(indexed)
    result = run(*(str(reference.folder) if a == "FOLDER" else a for a in command))
    assert result.returncode == 0, result.stderr
    if not damaged:  # random bytes that fell only on free pages: nothing to repair
        assert kept_aside(indexed.parent) == []
        assert_rebuilt_as_clean(reference, indexed, ask=True)
        return
    assert "The index was damaged" in result.stderr
    assert "rebuilding it from your folders" in result.stderr
    assert "The index was rebuilt: 3 documents" in result.stderr
    [aside] = kept_aside(indexed.parent)
    assert f"set aside as {aside}" in result.stderr
    if command[0] != "index" or command[1] != "add":  # only read: kept byte for byte
        assert digest(aside) == before
    assert_rebuilt_as_clean(reference, indexed, ask=True)


@pytest.mark.slow
def test_damage_seeds_really_damage(reference: Reference, indexed: Path, tmp_path: Path) -> None:
    """The random pages of the seed above fall on pages in use (else nothing is tested)."""
    damage_pages(indexed, 31)
    assert is_damaged(indexed, tmp_path / "copy.sqlite3")


@pytest.mark.slow
def test_folders_come_back_from_the_damaged_file_without_their_backup(
    reference: Reference, indexed: Path
) -> None:
    backup_path(indexed).unlink()  # an index made before the backup existed
    conn = sqlite3.connect(indexed)
    root = conn.execute(
        "SELECT rootpage FROM sqlite_master WHERE name = 'chunks_stems_data'"
    ).fetchone()[0]
    conn.close()
    data = bytearray(indexed.read_bytes())
    size = int.from_bytes(data[16:18], "big")
    data[(root - 1) * size : root * size] = random.Random(root).randbytes(size)
    indexed.write_bytes(bytes(data))
    result = run("search", QUERY)
    assert result.returncode == 0 and "The index was rebuilt: 3 documents" in result.stderr
    assert_rebuilt_as_clean(reference, indexed)
    assert backup_path(indexed).exists()


@pytest.mark.slow
def test_after_a_kill_the_next_start_checks_the_index(reference: Reference, indexed: Path) -> None:
    """Damage no statement of `index add` reads, left behind a process killed with the index
    open: found by the quick check the next start runs."""
    watch = subprocess.Popen(
        [str(LANTERNE), "index", "watch", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **WORDS_ONLY},
    )
    try:
        assert watch.stdout is not None
        printed = ""
        while not printed.rstrip().endswith("}"):  # one JSON object, printed indented
            line = watch.stdout.readline()
            assert line, "index watch exited early"
            printed += line
        assert json.loads(printed)["event"] == "ready"
        assert list(indexed.parent.glob("index.sqlite3.*.open"))
        watch.send_signal(signal.SIGKILL)
        watch.wait(timeout=30)
    finally:
        if watch.poll() is None:
            watch.kill()
        watch.communicate()
    conn = sqlite3.connect(indexed)  # the killed process's -wal into the file, as SQLite does
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'words'").fetchone()[0]
    conn.close()
    data = bytearray(indexed.read_bytes())
    size = int.from_bytes(data[16:18], "big")
    data[(root - 1) * size : root * size] = random.Random(root).randbytes(size)
    indexed.write_bytes(bytes(data))
    result = run("index", "add", str(reference.folder))
    assert result.returncode == 0, result.stderr
    assert "The index was damaged" in result.stderr and len(kept_aside(indexed.parent)) == 1
    assert_rebuilt_as_clean(reference, indexed)


def test_only_the_newest_damaged_files_are_kept(tmp_path: Path) -> None:
    index = tmp_path / "index.sqlite3"
    for n in range(KEEP_DAMAGED + 2):
        index.write_text(f"damaged {n}")
        index.with_name("index.sqlite3-wal").write_text(f"wal {n}")
        quarantine(index)
    kept = sorted((tmp_path / "damaged").iterdir())
    assert len([p for p in kept if p.name.endswith(".sqlite3")]) == KEEP_DAMAGED
    assert len([p for p in kept if p.name.endswith("-wal")]) == KEEP_DAMAGED
    assert {p.read_text() for p in kept if p.name.endswith(".sqlite3")} == {
        f"damaged {n}" for n in range(2, KEEP_DAMAGED + 2)
    }
    assert not index.exists() and not index.with_name("index.sqlite3-wal").exists()


@pytest.mark.model
def test_the_index_service_rebuilds_what_search_found_damaged(
    reference: Reference, indexed: Path
) -> None:
    """The app's side: damage met by the Search window's search goes to the index service,
    which says so, sets the file aside and rebuilds it: words first, then vectors (the
    built-in embedding model lets go of the damaged file and embeds the new one)."""
    from lanterne.desktop.search_window import run_search

    ctx = AppContext(Settings())
    seen: list[tuple[str, object]] = []  # every event, in order
    vectors_done = threading.Event()

    def embedded(progress: EmbeddingProgress) -> None:
        seen.append(("embedding", progress.embedded))
        if progress.total and progress.embedded == progress.total:
            vectors_done.set()

    events = ServiceEvents(
        ready=lambda _p: seen.append(("ready", None)),
        embedding=embedded,
        rebuilding=lambda message: seen.append(("rebuilding", message)),
        error=lambda message: seen.append(("error", message)),
        status=lambda status: seen.append(("status", status.documents)),
    )
    service = IndexService(ctx, events)
    service.start()
    try:
        assert vectors_done.wait(120)  # the copied index had words only
        vectors_done.clear()
        damaged_at = len(seen)
        indexed.write_bytes(b"not a database any more " * 400)  # in place: the same file
        with pytest.raises(IndexDamagedError, match="Lanterne is rebuilding the index"):
            run_search(ctx, QUERY)
        assert vectors_done.wait(120)
        for _tick in range(100):
            if ("rebuilding", None) in seen[damaged_at:]:
                break
            time.sleep(0.05)
        after = seen[damaged_at:]
        kinds = [kind for kind, _value in after]
        started = after[kinds.index("rebuilding")][1]
        assert isinstance(started, str) and "rebuilding it from your folders" in started
        assert ("error", started) in after  # the status bar and `index watch` say it too
        whole = kinds.index("ready")
        assert after.index(("rebuilding", None)) < whole  # whole once every folder was read
        assert "embedding" not in kinds[:whole]  # words first, then vectors
        assert ("status", 3) in after
        hits, _problem, notice = run_search(ctx, QUERY)
        assert notice is None and len(hits) == 3
    finally:
        service.stop()
        ctx.close()
    assert len(kept_aside(indexed.parent)) == 1
    assert_rebuilt_as_clean(reference, indexed)
    conn = sqlite3.connect(indexed)
    try:
        counts = conn.execute("SELECT COUNT(*), COUNT(DISTINCT chunk_id) FROM vectors").fetchone()
        assert counts == conn.execute("SELECT COUNT(*), COUNT(*) FROM chunks").fetchone()
    finally:
        conn.close()


@pytest.fixture
def words_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANTERNE_EMBEDDING_MODEL", "none")


@pytest.mark.gui
def test_knowledge_says_the_index_is_being_rebuilt(
    reference: Reference, indexed: Path, words_only: None, window: MainWindow, qtbot: QtBot
) -> None:
    from lanterne.desktop.search_window import run_search

    qtbot.waitUntil(lambda: "3 documents" in window.index_label.text(), timeout=30000)
    panel = window.open_knowledge()
    assert panel.rebuild.isHidden()
    shown: list[tuple[str | None, bool, str]] = []
    window.indexing.rebuilding.connect(  # after the panel's own slot: sees what it shows
        lambda message: shown.append((message, panel.rebuild.isHidden(), panel.rebuild.text()))
    )
    indexed.write_bytes(b"not a database any more " * 400)
    with pytest.raises(IndexDamagedError):
        run_search(window.ctx, QUERY)
    qtbot.waitUntil(lambda: len(shown) == 2, timeout=60000)
    (started, hidden, text), (finished, hidden_after, _text) = shown
    assert started is not None and not hidden and text == started
    assert "The index was damaged" in text and "set aside as" in text
    assert finished is None and hidden_after
    qtbot.waitUntil(lambda: "Up to date: 3 documents" in panel.status.text(), timeout=30000)
    assert len(kept_aside(indexed.parent)) == 1
