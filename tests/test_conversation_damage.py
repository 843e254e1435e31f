"""A damaged conversations database: restored from the newest backup, its newer messages salvaged.

One real database is written through the store (conversations with long answers saved as they
stream, so on overflow pages, rated and corrected), backed up by the store's own daily backup
when it next opens, then written to again ("NEW-" messages). Each test damages a copy the way
disks and sync tools do (pages overwritten with random bytes, seeded: LANTERNE_DAMAGE_SEED
replays one seed; truncated; replaced by another file) and opens it as the app does. Nothing
the backup holds may be lost, the damaged file is kept aside as it was, and every newer message
whose bytes survived (found by searching the undamaged file's pages for its text, apart from
Lanterne's own reading) is back, once.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from lanterne.conversations import backups
from lanterne.conversations.store import ConversationStore
from lanterne.foundation.translation import format_when
from support.conversation_history import (
    DB,
    History,
    install,
    move_clock,
    overwrite_pages,
    page_size,
    pages_holding,
    snapshot,
    sound,
    use,
    write_history,
)

_ENV_SEED = os.environ.get("LANTERNE_DAMAGE_SEED")
SEEDS = [int(_ENV_SEED)] if _ENV_SEED else list(range(1, 11))


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    return write_history(tmp_path_factory.mktemp("history"))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[timedelta]:
    return move_clock(monkeypatch)


def _recovered(notice: str) -> int:
    if "Nothing written after it could be recovered" in notice:
        return 0
    found = re.search(r"(\d+) messages? (?:written after it )?(?:was|were) recovered", notice)
    assert found, notice
    return int(found.group(1))


def _check(
    history: History,
    path: Path,
    notices: list[str],
    damaged: bytes,
    readable: set[str],
) -> None:
    """Nothing of the backup lost; newer messages back where their bytes survived, once; the
    damaged file kept aside as it was."""
    conversations, messages = snapshot(path)
    for cid, row in history.conversations.items():
        assert conversations.get(cid) == row, f"conversation {cid} lost or changed"
    for mid, row in history.messages.items():
        assert messages.get(mid) == row, f"message {mid} lost or changed"
    texts = [row[2] for row in messages.values()]
    back = [t for t in history.new_texts if t in texts]
    assert all(texts.count(t) == 1 for t in history.new_texts if t in texts)  # no duplicates
    lost = sorted(t[:9] for t in readable - set(back))
    assert not lost, f"readable in the damaged file but not salvaged: {lost}"
    assert len(notices) == 1, notices  # one restore, said once
    notice = notices[0]
    assert "restored from the backup of" in notice and "Traceback" not in notice
    assert _recovered(notice) == len(back) == len(messages) - len(history.messages)
    (kept,) = (path.parent / "damaged").glob("conversations-*.sqlite3")
    assert str(kept) in notice
    assert kept.read_bytes() == damaged
    assert not any(p.name.endswith((".restoring", ".partial")) for p in path.parent.rglob("*"))
    assert use(path) == []  # the restored database is sound: nothing more to say


@pytest.mark.parametrize("seed", SEEDS)
def test_pages_overwritten_with_random_bytes(
    history: History, lanterne_home: Path, tmp_path: Path, clock: list[timedelta], seed: int
) -> None:
    path = install(history, lanterne_home)
    pristine = path.read_bytes()
    rng = random.Random(seed)
    hit = overwrite_pages(path, rng, rng.randint(1, 6))
    if seed % 2 == 0:  # and one of those the newer messages were written to
        newer = set().union(*(pages_holding(pristine, t) for t in history.new_texts))
        hit |= overwrite_pages(path, rng, 1, among=newer)
    damaged = path.read_bytes()
    visible = not sound(path, tmp_path)
    notices = use(path)
    if visible and not notices:  # in pages no reading touched: the next daily backup sees it
        clock[0] = timedelta(days=1, minutes=1)
        notices = use(path)
    if not visible and not notices:  # only pages nothing uses (free ones): nothing lost
        messages = snapshot(path)[1]
        assert all(messages.get(mid) == row for mid, row in history.messages.items())
        assert set(history.new_texts) <= {row[2] for row in messages.values()}
        return
    readable = {t for t in history.new_texts if not pages_holding(pristine, t) & hit}
    print(f"seed {seed}: pages {sorted(hit)}, {len(readable)} newer messages intact")
    _check(history, path, notices, damaged, readable)


def test_a_damaged_root_page_hides_no_row_below_it(history: History, lanterne_home: Path) -> None:
    """No SQL reaches the messages any more; their leaf pages are read on their own."""
    path = install(history, lanterne_home)
    conn = sqlite3.connect(path)
    (root,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'messages'").fetchone()
    conn.close()
    pristine = path.read_bytes()
    hit = overwrite_pages(path, random.Random(0), 1, among={root})
    damaged = path.read_bytes()
    readable = {t for t in history.new_texts if not pages_holding(pristine, t) & hit}
    assert len(readable) == len(history.new_texts)
    _check(history, path, use(path), damaged, readable)


def test_a_truncated_file(history: History, lanterne_home: Path) -> None:
    path = install(history, lanterne_home)
    pristine = path.read_bytes()
    size = page_size(pristine)
    with path.open("r+b") as handle:
        handle.truncate(len(pristine) * 2 // 3 + 123)  # not even on a page boundary
    whole_pages = (len(pristine) * 2 // 3 + 123) // size
    readable = {t for t in history.new_texts if max(pages_holding(pristine, t)) <= whole_pages}
    damaged = path.read_bytes()
    _check(history, path, use(path), damaged, readable)


@pytest.mark.parametrize("other", ["text", "sqlite"])
def test_a_file_put_in_its_place(history: History, lanterne_home: Path, other: str) -> None:
    path = install(history, lanterne_home)
    path.unlink()
    if other == "text":
        path.write_bytes("Ceci n'est pas une base de données.\n".encode() * 4000)
    else:  # another program's database, synced over it
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        conn.executemany("INSERT INTO notes (body) VALUES (?)", [("a note",)] * 500)
        conn.commit()
        conn.close()
    replaced = path.read_bytes()
    notices = use(path)
    assert "Nothing written after it could be recovered" in notices[0]
    _check(history, path, notices, replaced, set())


def test_without_a_backup_what_the_file_holds_is_salvaged(
    history: History, lanterne_home: Path
) -> None:
    path = install(history, lanterne_home)
    shutil.rmtree(backups.backup_dir(path))
    before_conversations, before = snapshot(path)
    with path.open("r+b") as handle:
        handle.truncate(path.stat().st_size * 2 // 3)
    damaged = path.read_bytes()
    store = ConversationStore(path)  # the daily backup's check finds the damage at start
    try:
        (notice,) = store.take_notices()
    finally:
        store.close()
    assert "No backup of your conversations could be used" in notice
    conversations, messages = snapshot(path)
    assert _recovered(notice) == len(messages) >= len(before) // 2
    for mid, row in messages.items():  # word for word, or an earlier save of a streamed answer
        original = before[mid]
        assert row == original or (row[3] == "interrupted" and original[2].startswith(row[2]))
    for cid, row in conversations.items():  # as written, or one whose row was unreadable
        assert row == before_conversations.get(cid) or row[0] == "Recovered conversation"
    assert (path.parent / "damaged").is_dir() and damaged in [
        kept.read_bytes() for kept in (path.parent / "damaged").iterdir()
    ]


def test_a_damaged_backup_is_passed_over(
    history: History, lanterne_home: Path, clock: list[timedelta]
) -> None:
    path = install(history, lanterne_home)
    clock[0] = timedelta(days=1, minutes=1)
    ConversationStore(path).close()  # the next day's backup, the newer messages in it
    newest, older = backups.backups(path)
    overwrite_pages(newest.path, random.Random(3), 8)
    assert not backups.is_sound(newest.path)
    path.write_bytes(bytes(8192))
    notices = use(path)
    assert format_when(older.taken) in notices[0]
    assert snapshot(path) == (history.conversations, history.messages)


CRASH = """
import os, signal, sys
from pathlib import Path
from lanterne.conversations.store import ConversationStore
store = ConversationStore(Path(sys.argv[1]))
store.add_message(store.conversations()[0].id, "user", "Asked just before the crash")
store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.parametrize("crashed", [True, False])
def test_the_start_after_an_unclean_exit_checks_the_file(
    history: History, lanterne_home: Path, crashed: bool
) -> None:
    path = install(history, lanterne_home)
    if crashed:
        run = subprocess.run([sys.executable, "-c", CRASH, str(path)], capture_output=True)
        assert run.returncode == -signal.SIGKILL, run.stderr
        assert list(lanterne_home.glob(f"{DB}.open-*")), "no marker left by the crash"
    data = path.read_bytes()
    size = page_size(data)
    page = min(pages_holding(data, history.new_texts[0]))  # a page of messages
    with path.open("r+b") as handle:
        handle.seek((page - 1) * size)
        handle.write(random.Random(7).randbytes(size))
    store = ConversationStore(path)  # nothing read yet: only the quick check can notice
    try:
        told = store.take_notices()
    finally:
        store.close()
    assert bool(told) == crashed
    assert not list(lanterne_home.glob(f"{DB}.open-*"))


def test_the_cli_says_what_was_restored(
    history: History, lanterne_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from lanterne.cli.main import main

    path = install(history, lanterne_home)
    with path.open("r+b") as handle:
        handle.truncate(path.stat().st_size // 2)
    out = lanterne_home.parent / "export.jsonl"
    assert main(["export", str(out)]) == 0
    err = capsys.readouterr().err
    assert "restored from the backup of" in err and "Traceback" not in err
    assert len(out.read_text(encoding="utf-8").splitlines()) >= 120  # every answer backed up


@pytest.mark.gui
def test_the_window_says_what_was_restored(
    history: History, lanterne_home: Path, qtbot: QtBot
) -> None:
    from PySide6.QtWidgets import QApplication, QMessageBox

    from lanterne.context import AppContext
    from lanterne.desktop.main_window import MainWindow
    from lanterne.foundation.settings import Settings

    path = install(history, lanterne_home)
    path.write_bytes(b"Not a database at all.\n" * 1000)
    ctx = AppContext(Settings())
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    win.show()

    def told() -> QMessageBox:
        boxes = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)]
        assert boxes and boxes[0].isVisible()
        return boxes[0]

    qtbot.waitUntil(lambda: bool(told()))
    assert told().windowTitle() == "Conversations restored"
    assert "restored from the backup of" in told().text()
    qtbot.waitUntil(lambda: win.conversations.list.count() == len(history.conversations))
    told().accept()
    win.close()
    ctx.close()
