"""Two launches at once make one instance, and the CLI working next to the running app (both
writing the index while files change) never corrupts it nor loses a document."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from lanterne.desktop.single_instance import send_to_running
from support.cli import LANTERNE, lanterne
from support.index_snapshot import contents, differences, problems
from support.real_corpus import write_corpus

pytestmark = pytest.mark.gui


def _settle_first_run(home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "settings.json").write_text(json.dumps({"ui.first_run_done": True}), "utf-8")


def _launch(home: Path, log: Path, *args: str) -> subprocess.Popen[bytes]:
    with log.open("wb") as err:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [str(LANTERNE), *args],
            env={**os.environ, "LANTERNE_HOME": str(home), "QT_QPA_PLATFORM": "offscreen"},
            stdout=subprocess.DEVNULL,
            stderr=err,
        )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


@pytest.mark.slow
def test_launches_at_the_same_moment_make_one_instance(
    lanterne_home: Path, tmp_path: Path, qtbot: QtBot
) -> None:
    _settle_first_run(lanterne_home)
    for round_ in range(3):
        procs = [_launch(lanterne_home, tmp_path / f"gui-{round_}-{i}.log") for i in range(6)]
        try:
            deadline = time.monotonic() + 60
            while sum(p.poll() is None for p in procs) > 1 and time.monotonic() < deadline:
                time.sleep(0.05)
            running = [p for p in procs if p.poll() is None]
            assert len(running) == 1, f"round {round_}: {len(running)} instances running"
            assert all(p.returncode == 0 for p in procs if p is not running[0])
            assert send_to_running({"command": "ping"})  # the one left is the one reached
        finally:
            for proc in procs:
                if proc.poll() is None:
                    _stop(proc)
    for log in tmp_path.glob("gui-*.log"):
        assert "Traceback" not in log.read_text(encoding="utf-8", errors="replace")


def _edit_while(folder: Path, stop: threading.Event, seed: int) -> None:
    """Someone working in the folder: files rewritten, added, renamed and deleted."""
    rng = random.Random(seed)
    while not stop.is_set():
        files = sorted(p for p in folder.rglob("*.md") if p.is_file())
        path = rng.choice(files)
        action = rng.choice(["rewrite", "rewrite", "add", "rename", "delete"])
        if action == "rewrite":
            path.write_text(path.read_text("utf-8") + f"\nAjout {rng.randrange(10**6)}.\n", "utf-8")
        elif action == "add":
            path.with_name(f"nouveau-{rng.randrange(10**6)}.md").write_text(
                f"# Note\n\nUne nouvelle note numéro {rng.randrange(10**6)}.\n", "utf-8"
            )
        elif action == "rename":
            path.rename(path.with_name(f"r{rng.randrange(10**6)}-{path.name}"))
        elif len(files) > 10:
            path.unlink()
        time.sleep(rng.uniform(0.01, 0.15))


@pytest.mark.slow
def test_the_cli_next_to_the_running_app_never_corrupts_the_index(
    lanterne_home: Path, tmp_path: Path, docs_folder: Path
) -> None:
    _settle_first_run(lanterne_home)
    corpus = tmp_path / "corpus"
    write_corpus(corpus, seed=7)
    assert lanterne("index", "add", str(corpus), "--no-embed").returncode == 0
    gui = _launch(lanterne_home, tmp_path / "gui.log", "--background")  # watches the corpus
    time.sleep(3)
    stop = threading.Event()
    editor = threading.Thread(target=_edit_while, args=(corpus, stop, 7))
    editor.start()
    results: list[subprocess.CompletedProcess[str]] = []
    try:
        for _round in range(3):  # two CLI writers at once, beside the app's own indexer
            writers = [
                threading.Thread(
                    target=lambda f=folder: results.append(lanterne("index", "add", str(f)))
                )
                for folder in (corpus, docs_folder)
            ]
            for writer in writers:
                writer.start()
            results.append(lanterne("search", "sauvegarde", "--json"))
            results.append(lanterne("index", "status", "--json"))
            for writer in writers:
                writer.join(120)
        results.append(lanterne("index", "remove", str(docs_folder)))
        results.append(lanterne("index", "add", str(docs_folder)))
    finally:
        stop.set()
        editor.join(10)
        time.sleep(2)  # the app picks up the last changes
        _stop(gui)
    for done in results:
        assert done.returncode == 0, done.args
        assert "Traceback" not in done.stderr and "locked" not in done.stderr
    assert "Traceback" not in (tmp_path / "gui.log").read_text("utf-8", errors="replace")
    index = lanterne_home / "index.sqlite3"
    assert problems(index) == []
    # After one more pass, exactly what a clean index of the same folders holds.
    assert lanterne("index", "add", str(corpus), str(docs_folder)).returncode == 0
    assert problems(index) == []
    clean = tmp_path / "clean"
    env = {"LANTERNE_HOME": str(clean)}
    assert lanterne("index", "add", str(corpus), str(docs_folder), env=env).returncode == 0
    assert differences(contents(index), contents(clean / "index.sqlite3")) == []


def test_the_instance_claim_is_exclusive_and_freed_by_a_crash(lanterne_home: Path) -> None:
    """What decides the race above, deterministically: while a process holds the claim no
    other launch gets it; once that process is killed, the next launch does."""
    import sys
    import textwrap

    from lanterne.desktop.single_instance import InstanceLock

    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                """
                import sys, time
                from lanterne.desktop.single_instance import InstanceLock
                claim = InstanceLock()
                assert claim.acquire()
                print("held", flush=True)
                time.sleep(60)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        assert not InstanceLock().acquire()
    finally:
        holder.kill()
        holder.wait(10)
        if holder.stdout is not None:
            holder.stdout.close()
    claim = InstanceLock()
    assert claim.acquire()
    claim.release()
