"""The session-end checks (tests/support/hygiene.py) catch what they are there for, and only that:
a thread still running and where it came from; a file written into a checkout, whether or not it
was already changed, but not a commit made meanwhile."""

from __future__ import annotations

import shutil
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from support.hygiene import SourceTree, ThreadWatch

SOURCE = Path(__file__).read_text(encoding="utf-8").splitlines()
STARTS = next(n for n, line in enumerate(SOURCE, 1) if line.endswith("# starts the thread"))


def test_a_thread_left_running_is_named_with_the_test_and_line_that_started_it() -> None:
    watch = ThreadWatch()
    try:
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hygiene-probe")
        pool.submit(lambda: None).result()  # starts the thread
        stopped = threading.Thread(target=lambda: None, name="hygiene-done")
        stopped.start()
        daemon = threading.Event()
        threading.Thread(target=daemon.wait, name="hygiene-daemon", daemon=True).start()
        (left,) = watch.leftovers(grace_s=0.2)
        assert left.startswith("thread 'hygiene-probe_0' still running, started during ")
        assert "tests/test_hygiene.py::test_a_thread_left_running" in left  # the test
        assert f"tests/test_hygiene.py:{STARTS} (test_a_thread_left_running" in left  # its line
        pool.shutdown(wait=True)
        daemon.set()
        assert watch.leftovers(grace_s=0.2) == []
    finally:
        watch.stop()


def test_threads_running_before_the_watch_began_are_not_its_business() -> None:
    release = threading.Event()
    earlier = threading.Thread(target=release.wait, name="hygiene-earlier")
    earlier.start()
    try:
        watch = ThreadWatch()
        watch.stop()
        assert watch.leftovers(grace_s=0.1) == []
    finally:
        release.set()
        earlier.join()


@dataclass
class Checkout:
    git: str
    root: Path

    def run(self, *args: str) -> None:
        ident = ["-c", "user.name=Test", "-c", "user.email=test@example.invalid"]
        subprocess.run([self.git, *ident, *args], cwd=self.root, check=True, capture_output=True)


@pytest.fixture
def checkout(tmp_path: Path) -> Checkout:
    """A git checkout of its own, with a file changed and one added before the run."""
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    done = Checkout(git, tmp_path / "checkout")
    root = done.root
    root.mkdir()
    (root / ".gitignore").write_text("ignored/\n", encoding="utf-8")
    (root / "kept.txt").write_text("kept\n", encoding="utf-8")
    (root / "dirty.txt").write_text("committed\n", encoding="utf-8")
    (root / "committed later.txt").write_text("one\n", encoding="utf-8")
    done.run("init", "-q")
    done.run("add", ".")
    done.run("commit", "-q", "-m", "start")
    (root / "dirty.txt").write_text("edited before the run\n", encoding="utf-8")
    (root / "untracked before.txt").write_text("mine\n", encoding="utf-8")
    (root / "committed later.txt").write_text("two\n", encoding="utf-8")
    return done


def test_files_written_into_the_checkout_are_named_and_nothing_else(checkout: Checkout) -> None:
    root = checkout.root
    tree = SourceTree(checkout.git, root)
    assert tree.changes() == []  # what was already changed before the run is not the run's

    (root / "probe.py").write_text("written by a test\n", encoding="utf-8")
    (root / "dirty.txt").write_text("written again by a test\n", encoding="utf-8")
    (root / "kept.txt").unlink()
    (root / "ignored").mkdir()
    (root / "ignored" / "cache.bin").write_bytes(b"\0")  # ignored by git: not the checkout's
    # A commit meanwhile moves HEAD and cleans a file: its content is the same, so no write.
    checkout.run("commit", "-q", "-m", "meanwhile", "--", "committed later.txt")
    assert tree.changes() == [
        "dirty.txt: changed in the checkout during the run",
        "kept.txt: deleted in the checkout during the run",
        "probe.py: new in the checkout during the run",
    ]
