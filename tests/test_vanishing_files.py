"""Files that vanish or change under Lanterne: a model file deleted, moved or replaced while
loaded or between questions; a watched file swapped for a folder or a named pipe; the embedding
model gone. Each is said in words with a way out, never a traceback, and nothing waits forever.
(The data folder made read-only: tests/test_read_only_data.py.)
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest
from pytestqt.qtbot import QtBot

from lanterne.desktop.main_window import MainWindow
from lanterne.engine.errors import ModelFileMissingError, ModelLoadError
from lanterne.engine.host import LoadRequest, ModelHost
from lanterne.foundation.settings import Settings
from lanterne.foundation.translation import _
from lanterne.indexer import reasons
from lanterne.indexer.file_reader import ReadJob, Unreadable, read_file
from lanterne.indexer.indexing import Indexer, IndexOptions
from lanterne.indexer.store import IndexStore
from lanterne.indexer.watcher import apply_changes
from support.cli import lanterne

T = TypeVar("T")
posix_files = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")


@pytest.fixture
def model_copy(tiny_moe_model: Path, tmp_path: Path) -> Path:
    """A model file of the test's own, to delete, move and replace."""
    path = tmp_path / "models" / "tiny.gguf"
    path.parent.mkdir()
    shutil.copyfile(tiny_moe_model, path)
    return path


@pytest.fixture
def host() -> Iterator[ModelHost]:
    host = ModelHost()
    yield host
    host.shutdown()


def _request(path: Path) -> LoadRequest:
    return LoadRequest(path=path, n_ctx=512, n_threads=2)


def _mapped_deleted(path: Path) -> bool:
    """Whether this process still maps `path` after its deletion (Linux keeps its disk space)."""
    maps = Path("/proc/self/maps")
    return maps.exists() and f"{path} (deleted)" in maps.read_text()


# The model file ----------------------------------------------------------------------------


@pytest.mark.model
@pytest.mark.parametrize("how", ["deleted", "moved"])
def test_a_model_file_gone_between_questions_is_said_and_let_go(
    how: str, model_copy: Path, host: ModelHost
) -> None:
    request = _request(model_copy)
    host.load(request).result()
    assert host.is_loaded(request)
    if how == "deleted":
        model_copy.unlink()
    else:
        model_copy.rename(model_copy.with_name("elsewhere.gguf"))
    assert not host.is_loaded(request)
    with pytest.raises(ModelFileMissingError) as caught:
        host.load(request).result()
    message = str(caught.value)
    assert str(model_copy) in message and "no longer there (moved or deleted)" in message
    assert "lanterne models use" in message and "Traceback" not in message
    assert host.model is None  # let go: a deleted file's disk space with it
    assert not _mapped_deleted(model_copy)


@pytest.mark.model
def test_a_replaced_model_file_is_never_taken_for_the_loaded_one(
    model_copy: Path, host: ModelHost, tmp_path: Path
) -> None:
    request = _request(model_copy)
    first = host.load(request).result()
    # The same bytes under the same name, but another file: loaded afresh.
    fresh = tmp_path / "fresh.gguf"
    shutil.copyfile(model_copy, fresh)
    fresh.replace(model_copy)
    assert not host.is_loaded(request)
    second = host.load(request).result()
    assert second is not first and host.is_loaded(request)
    # Replaced by something that is no model: the header check says so; nothing stays loaded.
    (tmp_path / "junk").write_bytes(b"not a model at all " * 1000)
    (tmp_path / "junk").replace(model_copy)
    with pytest.raises(ModelLoadError) as caught:
        host.load(request).result()
    assert "is not a GGUF model file" in str(caught.value)
    assert not isinstance(caught.value, ModelFileMissingError)
    assert host.model is None


@pytest.mark.model
def test_a_model_file_cut_short_in_place_is_not_used_again(
    model_copy: Path, host: ModelHost
) -> None:
    """The same file (same inode) truncated: using the model loaded from it would touch pages
    that no longer exist (SIGBUS); it is read again instead, and found damaged."""
    request = _request(model_copy)
    host.load(request).result()
    os.truncate(model_copy, model_copy.stat().st_size // 2)
    assert not host.is_loaded(request)
    with pytest.raises(ModelLoadError) as caught:
        host.load(request).result()
    message = str(caught.value)
    assert "tiny.gguf" in message and ("damaged" in message or "incomplete" in message), message
    assert host.model is None


@pytest.mark.model
def test_ask_says_when_the_chosen_model_file_is_gone_or_replaced(model_copy: Path) -> None:
    settings = Settings()
    settings.set("model.path", str(model_copy))
    settings.save()
    model_copy.unlink()
    gone = lanterne("ask", "--no-docs", "Bonjour ?")
    assert gone.returncode == 1 and "Traceback" not in gone.stderr
    assert f"The model file {model_copy} is no longer there (moved or deleted)" in gone.stderr
    assert "lanterne models list" in gone.stderr
    model_copy.write_bytes(b"GGUF" + os.urandom(64))  # a header cut short
    damaged = lanterne("ask", "--no-docs", "Bonjour ?")
    assert damaged.returncode == 1 and "Traceback" not in damaged.stderr
    assert "tiny.gguf is damaged or not a complete GGUF file" in damaged.stderr


@pytest.mark.gui
@pytest.mark.model
def test_the_window_says_where_to_choose_another_model(
    window: MainWindow, qtbot: QtBot, model_copy: Path
) -> None:
    window.ctx.settings.set("model.max_answer_tokens", 4)
    window.set_model_path(model_copy)
    window.question.setPlainText("Bonjour ?")
    with qtbot.waitSignal(window.worker.finished, timeout=60000):
        window.ask()
    model_copy.unlink()  # between two questions, the model loaded
    window.question.setPlainText("Encore ?")
    with qtbot.waitSignal(window.worker.failed, timeout=60000) as failed:
        window.ask()
    expected = _(
        "The model file {path} is no longer there (moved or deleted): choose a model in "
        "File › Models, then ask again."
    ).format(path=model_copy)
    assert failed.args == [expected]
    qtbot.waitUntil(lambda: expected in window.chat.toPlainText())
    assert "no longer there" in window.model_label.text()
    assert "File › Models" in window.model_label.text()
    assert window.ctx.host.model is None and window.ask_button.isEnabled()


def test_the_status_bar_says_a_chosen_model_is_missing_at_start(
    tmp_path: Path, open_window: Callable[[], MainWindow]
) -> None:
    settings = Settings()
    settings.set("model.path", str(tmp_path / "gone.gguf"))
    settings.save()
    window = open_window()
    assert "gone.gguf is no longer there (moved or deleted)" in window.model_label.text()


def test_a_missing_embedding_model_leaves_search_by_words(
    e5_model: Path, docs_folder: Path, tmp_path: Path
) -> None:
    chosen = tmp_path / "models" / "e5.gguf"
    chosen.parent.mkdir()
    shutil.copyfile(e5_model, chosen)
    settings = Settings()
    settings.set("retrieval.embedding_model", str(chosen))
    settings.save()
    added = lanterne("index", "add", str(docs_folder), "--no-embed")  # words: enough here
    assert added.returncode == 0, added.stderr
    chosen.unlink()
    found = lanterne("search", "partitioning", "--json")
    assert found.returncode == 0 and "Traceback" not in found.stderr
    assert "searching by words only" in found.stderr and str(chosen) in found.stderr
    assert '"install.md"' in found.stdout or "install.md" in found.stdout


# Watched files swapped for a folder or a pipe ----------------------------------------------


def _within(seconds: float, fn: Callable[[], T]) -> T | None:
    """`fn()`'s result, or None when it has not returned after `seconds` (it keeps running)."""
    result: list[T] = []
    worker = threading.Thread(target=lambda: result.append(fn()), daemon=True)
    worker.start()
    worker.join(seconds)
    return result[0] if result else None


@contextmanager
def _released(pipe: Path) -> Iterator[None]:
    """Whatever waits on `pipe` (a reader blocked in open) is let go at the end: a writer
    opens and closes it, so a failing test does not leave a thread or process hanging."""
    try:
        yield
    finally:
        for _ in range(3):
            try:
                os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:  # no reader waiting (ENXIO), or already gone
                break
            time.sleep(0.1)


@posix_files
def test_a_pipe_is_never_waited_on(tmp_path: Path) -> None:
    pipe = tmp_path / "notes.txt"
    os.mkfifo(pipe)
    with _released(pipe):
        outcome = _within(5, lambda: read_file(ReadJob(pipe, None, 800, 100)))
    assert isinstance(outcome, Unreadable), "the reader waited on a named pipe"
    assert outcome.reason == _(reasons.NOT_A_FILE)


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[tuple[Indexer, Path]]:
    folder = tmp_path / "watched"
    folder.mkdir()
    for name in ("a.txt", "b.md", "c.txt"):
        (folder / name).write_text(f"Le rapport {name} des sauvegardes.\n", "utf-8")
    indexer = Indexer(
        IndexStore(tmp_path / "index.sqlite3"), IndexOptions(readers=2, file_time_limit_s=30)
    )
    indexer.add_folder(folder)
    yield indexer, folder
    indexer.close()


@posix_files
def test_files_swapped_for_a_pipe_or_a_folder_between_scan_and_read(
    watched: tuple[Indexer, Path],
) -> None:
    indexer, folder = watched
    folder_id = indexer.store.folders()[0][0]
    piped, foldered, kept = folder / "a.txt", folder / "b.md", folder / "c.txt"
    kept.write_text("Le rapport change.\n", "utf-8")
    scanned = [(p, p.stat()) for p in (piped, foldered, kept)]
    piped.unlink()
    os.mkfifo(piped)
    foldered.unlink()
    (foldered / "inside").mkdir(parents=True)
    start = time.monotonic()
    with _released(piped):  # a reader waiting on the pipe would be stopped after 30 s
        outcomes = dict(indexer._index(folder_id, scanned))
    assert time.monotonic() - start < 15, "a reader waited on the pipe"
    assert outcomes == {piped: "error", foldered: "error", kept: "indexed"}
    errors = {e.path: e.reason for e in indexer.store.status().errors}
    assert errors == {str(piped): _(reasons.NOT_A_FILE), str(foldered): _(reasons.NOT_A_FILE)}
    indexer.sync_folder(folder)  # the next scan: neither is a document any more
    assert indexer.store.document(piped) is None and indexer.store.document(foldered) is None
    assert indexer.store.status().errors == []


@posix_files
def test_a_pipe_appearing_in_a_watched_folder_is_not_read(
    watched: tuple[Indexer, Path],
) -> None:
    indexer, folder = watched
    pipe = folder / "journal.txt"
    os.mkfifo(pipe)
    start = time.monotonic()
    with _released(pipe):  # a reader waiting on the pipe would be stopped after 30 s
        apply_changes(indexer, {pipe})
    assert time.monotonic() - start < 15, "a reader waited on the pipe"
    assert indexer.store.document(pipe) is None and indexer.store.status().errors == []


@posix_files
def test_a_pipe_named_like_the_ignore_file_does_not_stop_the_scan(
    watched: tuple[Indexer, Path],
) -> None:
    indexer, folder = watched
    rules = folder / ".lanterneignore"
    os.mkfifo(rules)

    def sync() -> int:  # on a thread that may wait forever, with a connection of its own
        other = Indexer(IndexStore(indexer.store.path), IndexOptions(readers=1))
        try:
            other.sync_folder(folder)
            return other.store.status().documents
        finally:
            other.close()

    with _released(rules):
        documents = _within(20, sync)
    assert documents == 3, "the scan waited on a pipe named .lanterneignore"
