"""`kill -9` of `lanterne index add` at random moments never corrupts the index, and the next
run resumes to exactly what a clean full index of the same folder holds.

Rounds alternate a fresh index with edits to the folder (rewritten, touched, renamed, added and
deleted files). In each round, indexing runs are killed one after another, each resuming what
the last one left, until one finishes on its own; every kill is followed by SQLite's and the
index's own checks, every round by a comparison with a clean index built in a fresh data
directory. Kills land at random moments: mostly after a random number of passages were
written in that run (so inside transactions too), sometimes during start-up, migration and the
folder scan. The seed is printed; LANTERNE_CRASH_SEED replays a run.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from lanterne.conversations.store import ConversationStore
from lanterne.foundation.settings import Settings
from support.cli import LANTERNE
from support.index_snapshot import Contents, contents, differences, problems
from support.process_memory import descendants
from support.real_corpus import write_corpus

KILLS = 50
KILLS_PER_ROUND = 6
MAX_ROUNDS = 60  # a safety stop: about 20 rounds reach the 50 kills


@dataclass
class Tally:
    kills: int = 0
    early_kills: int = 0
    finished: int = 0
    rounds: int = 0
    stray_processes: list[int] = field(default_factory=list)


def _run(home: Path, folder: Path) -> subprocess.Popen[bytes]:
    # The words' index only: vectors have their own kill -9 test below, and embedding every
    # round's corpus to the end would take most of this test's time.
    return subprocess.Popen(
        [str(LANTERNE), "index", "add", str(folder), "--no-embed", "--json"],
        env={**os.environ, "LANTERNE_HOME": str(home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _index_in(home: Path) -> Path:
    return home / "index.sqlite3"


def _index_to_the_end(folder: Path, home: Path) -> Contents:
    """`lanterne index add` run to completion in `home`; what the index then holds."""
    done = subprocess.run(
        [str(LANTERNE), "index", "add", str(folder), "--no-embed", "--json"],
        env={**os.environ, "LANTERNE_HOME": str(home)},
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert problems(_index_in(home)) == []
    return contents(_index_in(home))


def _clean_index(folder: Path, home: Path) -> Contents:
    shutil.rmtree(home, ignore_errors=True)
    return _index_to_the_end(folder, home)


def _chunks_written(index: Path) -> int:
    """The highest passage id: grows as a run writes passages (read without creating a file)."""
    if not index.exists():
        return 0
    try:
        conn = sqlite3.connect(f"file:{index}?mode=ro", uri=True, timeout=1)
        try:
            return int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM chunks").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:  # not created or not migrated yet
        return 0


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _kill_run(home: Path, folder: Path, left: int, rng: random.Random, tally: Tally) -> int:
    """One run of `index add`, killed at a random moment before it has written the `left`
    passages still to write; how many it wrote (-1: it finished first)."""
    index = _index_in(home)
    start = _chunks_written(index)
    proc = _run(home, folder)
    if rng.random() < 0.2:  # start-up, opening and migrating, the scan, marking files pending
        early = True
        time.sleep(rng.uniform(0.0, 0.9))
    else:
        early = False
        target = rng.randint(0, max(left - 1, 0))
        while proc.poll() is None and _chunks_written(index) - start < target:
            time.sleep(0.002)
        time.sleep(rng.uniform(0.0, 0.01))
    children = descendants(proc.pid)
    if proc.poll() is not None:
        tally.finished += 1
        return -1
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    tally.kills += 1
    tally.early_kills += early
    deadline = time.monotonic() + 15
    while any(_alive(c) for c in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    tally.stray_processes += [c for c in children if _alive(c)]
    return max(0, _chunks_written(index) - start)


def _edit_folder(folder: Path, rng: random.Random) -> None:
    """A day's changes to about a third of the files."""
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    for path in rng.sample(files, max(4, len(files) // 3)):
        action = rng.choice(["rewrite", "rewrite", "touch", "rename", "delete", "copy"])
        if action == "rewrite" and path.suffix in {".md", ".txt", ".html"}:
            text = path.read_text(encoding="utf-8")
            cut = rng.randrange(len(text) // 2, len(text))
            path.write_text(
                text[:cut] + f"\n\nRévision {rng.randrange(10**6)} du document.\n",
                encoding="utf-8",
            )
        elif action == "touch":
            stamp = time.time() + rng.randrange(1, 1000)
            os.utime(path, (stamp, stamp))
        elif action == "rename":
            path.rename(path.with_name(f"renomme-{rng.randrange(10**6)}-{path.name}"))
        elif action == "delete":
            path.unlink()
        else:
            shutil.copy2(path, path.with_name(f"copie-{rng.randrange(10**6)}-{path.name}"))


def _work(reference: Contents, previous: Contents | None) -> int:
    """Passages a complete run has to write to reach `reference`."""
    changed = [
        path
        for path, doc in reference["documents"].items()
        if previous is None or previous["documents"].get(path) != doc
    ]
    return sum(len(reference["passages"].get(path, [])) for path in changed)


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="reads child processes from /proc")
@pytest.mark.timeout(900)  # 50 kills and ~16 clean indexes: about 4 minutes on 2 cores
def test_kill_9_while_indexing_never_corrupts_and_resumes_to_a_clean_index(
    tmp_path: Path,
) -> None:
    seed = int(os.environ.get("LANTERNE_CRASH_SEED", random.randrange(10**6)))
    print(f"LANTERNE_CRASH_SEED={seed}")
    rng = random.Random(seed)
    folder = tmp_path / "docs"
    write_corpus(folder, seed)
    home = tmp_path / "home"
    tally = Tally()
    previous: Contents | None = None
    started = time.monotonic()
    while tally.kills < KILLS and tally.rounds < MAX_ROUNDS:
        if tally.rounds % 3 == 0:
            shutil.rmtree(home, ignore_errors=True)
            previous = None
        else:
            _edit_folder(folder, rng)
        tally.rounds += 1
        reference = _clean_index(folder, tmp_path / "clean")
        left = _work(reference, previous)
        for _kill in range(KILLS_PER_ROUND):
            written = _kill_run(home, folder, left, rng, tally)
            if written < 0:
                break
            assert problems(_index_in(home)) == [], f"after kill {tally.kills}, seed {seed}"
            left -= written
            if tally.kills >= KILLS or left <= 0:
                break
        got = _index_to_the_end(folder, home)
        assert differences(got, reference) == [], f"round {tally.rounds}, seed {seed}"
        assert not any(doc[0] == "pending" for doc in got["documents"].values())
        previous = got
    elapsed = time.monotonic() - started
    print(
        f"{tally.kills} kills ({tally.early_kills} during start-up), {tally.finished} runs "
        f"finished first, {tally.rounds} rounds compared with a clean index, {elapsed:.0f} s"
    )
    assert tally.kills >= KILLS
    assert tally.stray_processes == [], "reader processes outlived their killed indexer"


ANSWER_KILLS = 20
QUESTIONS = [
    "How do I choose a mirror?",
    "Combien de temps cuit la tarte aux pommes ?",
    "Quand le script de sauvegarde s'exécute-t-il ?",
    "What does guided partitioning create?",
    "Comment restaurer un dossier ?",
]
DRIVER = Path(__file__).with_name("support") / "answer_driver.py"


Message = tuple[int, int, str, str, str]  # id, conversation, role, text, status


def _messages(path: Path) -> list[Message]:
    if not path.exists():
        return []
    conn = sqlite3.connect(path, timeout=30)
    try:
        return conn.execute(
            "SELECT id, conversation_id, role, text, status FROM messages ORDER BY id"
        ).fetchall()
    finally:
        conn.close()


def _streaming_since(path: Path, last_id: int) -> bool:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
        try:
            row = conn.execute(
                "SELECT 1 FROM messages WHERE id > ? AND role = 'assistant'", [last_id]
            ).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    return row is not None


@pytest.mark.gui
@pytest.mark.model
def test_kill_9_while_an_answer_streams_keeps_the_conversation(
    tmp_path: Path, lanterne_home: Path, docs_folder: Path, gemma_model: Path
) -> None:
    """The real window asks in the same conversation again and again; each run is killed at a
    random moment (mostly while the answer streams). Every earlier message survives word for
    word, the question asked survives once saved, and the cut answer is kept (marked
    interrupted at the next start) or absent."""
    seed = int(os.environ.get("LANTERNE_CRASH_SEED", random.randrange(10**6)))
    print(f"LANTERNE_CRASH_SEED={seed}")
    rng = random.Random(seed)
    env = {**os.environ, "LANTERNE_HOME": str(lanterne_home)}
    settings = Settings()
    settings.set("model.path", str(gemma_model))
    settings.set("model.max_answer_tokens", 256)
    settings.set("model.threads", 1)  # a slower answer: more kills land inside it
    settings.set("ui.first_run_done", True)
    settings.save()
    added = subprocess.run(
        [str(LANTERNE), "index", "add", str(docs_folder)], env=env, capture_output=True
    )
    assert added.returncode == 0, added.stderr
    db = lanterne_home / "conversations.sqlite3"
    kills = streamed_kills = completed = 0
    for attempt in range(ANSWER_KILLS * 2):
        if kills >= ANSWER_KILLS:
            break
        before = _messages(db)
        last_id = before[-1][0] if before else 0
        question = f"{QUESTIONS[attempt % len(QUESTIONS)]} ({attempt})"
        proc = subprocess.Popen(
            [sys.executable, str(DRIVER), question],
            env={**env, "QT_QPA_PLATFORM": "offscreen"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        streaming = rng.random() < 0.8
        if streaming:  # wait for the answer to start, then a random part of it
            deadline = time.monotonic() + 60
            while proc.poll() is None and not _streaming_since(db, last_id):
                assert time.monotonic() < deadline, "no answer started"
                time.sleep(0.005)
            time.sleep(rng.uniform(0.0, 3.5))
        else:  # start-up, the conversation opening, retrieval, the model loading
            time.sleep(rng.uniform(0.0, 4.0))
        if proc.poll() is not None:
            assert proc.returncode == 0
            completed += 1
        else:
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
            kills += 1
            streamed_kills += streaming
        conn = sqlite3.connect(db, timeout=30)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.close()
        after = _messages(db)
        earlier = {row[0]: row for row in after}
        for row in before:  # word for word, but a cut answer is marked at the next start
            kept = earlier.get(row[0])
            assert kept is not None, f"message {row} lost (seed {seed})"
            assert kept[:4] == row[:4] and (
                kept[4] == row[4] or (row[4], kept[4]) == ("streaming", "interrupted")
            )
        new = [row for row in after if row[0] > last_id]
        if streaming:
            assert [r[2] for r in new][:1] == ["user"], f"question lost (seed {seed})"
        assert [r[2] for r in new] in ([], ["user"], ["user", "assistant"])
        if new:
            assert new[0][3] == question and new[0][4] == "complete"
        if len(new) == 2:
            assert new[1][4] in ("streaming", "complete", "error")
    store = ConversationStore(db)  # the app's next start
    try:
        store.recover_interrupted()
        (conversation,) = store.conversations()  # every question went on the same one
        messages = store.messages(conversation.id)
    finally:
        store.close()
    questions = [m for m in messages if m.role == "user"]
    cut = [m for m in messages if m.status == "interrupted"]
    # Every run whose answer had started, or had ended, kept its question; runs killed while
    # starting up may not have saved theirs yet (how many do depends on start-up time).
    assert len(questions) >= streamed_kills + completed
    assert {m.status for m in messages if m.role == "assistant"} <= {
        "complete",
        "interrupted",
    }
    print(
        f"{kills} kills ({streamed_kills} while streaming), {completed} answers completed, "
        f"{len(messages)} messages kept, {sum(bool(m.text) for m in cut)} cut answers kept "
        f"with their text so far"
    )
    assert kills >= ANSWER_KILLS


EMBED_KILLS = 6


def _vector_rows(index: Path) -> list[tuple[int, int, int]]:
    """(vectors, distinct chunks with one, chunks) for the one model in use."""
    conn = sqlite3.connect(index, timeout=30)
    try:
        row = conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT chunk_id), (SELECT COUNT(*) FROM chunks) FROM vectors"
        ).fetchone()
    finally:
        conn.close()
    return [(int(row[0]), int(row[1]), int(row[2]))]


@pytest.mark.model
def test_kill_9_while_embedding_leaves_every_passage_one_vector(
    tmp_path: Path, e5_model: Path
) -> None:
    """`index add` with an embedding model, killed while it embeds: vectors are written batch
    by batch, so after each kill the index holds no vector without its passage, and the run
    that completes leaves every passage exactly one vector."""
    seed = int(os.environ.get("LANTERNE_CRASH_SEED", random.randrange(10**6)))
    print(f"LANTERNE_CRASH_SEED={seed}")
    rng = random.Random(seed)
    folder, home = tmp_path / "docs", tmp_path / "home"
    write_corpus(folder, seed)
    env = {**os.environ, "LANTERNE_HOME": str(home), "LANTERNE_EMBEDDING_MODEL": str(e5_model)}
    words_only = subprocess.run(
        [str(LANTERNE), "index", "add", str(folder), "--no-embed"], env=env, capture_output=True
    )
    assert words_only.returncode == 0, words_only.stderr
    index = _index_in(home)
    kills = 0
    for _attempt in range(EMBED_KILLS * 2):
        before = _vector_rows(index)[0][0]
        proc = subprocess.Popen(
            [str(LANTERNE), "index", "add", str(folder)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        target = before + rng.randint(1, 16)  # into the first batches of this run
        deadline = time.monotonic() + 120
        while proc.poll() is None and _vector_rows(index)[0][0] < target:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.1))
        if proc.poll() is not None:
            break
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        kills += 1
        assert problems(index) == []
        vectors, distinct, _chunks = _vector_rows(index)[0]
        assert vectors == distinct  # never two vectors for one passage
        if kills >= EMBED_KILLS:
            break
    done = subprocess.run(
        [str(LANTERNE), "index", "add", str(folder), "--json"], env=env, capture_output=True
    )
    assert done.returncode == 0, done.stderr
    assert problems(index) == []
    vectors, distinct, chunks = _vector_rows(index)[0]
    print(f"{kills} kills while embedding; {vectors} vectors for {chunks} passages")
    assert kills >= EMBED_KILLS // 2
    assert vectors == distinct == chunks
