"""Session-end checks that keep the suite from leaking into the machine it runs on.

A thread a test started and never stopped holds what it was given (a loaded model, an open
database) until the interpreter exits, and a later test may then meet it; a file a test writes
into the checkout shows up in `git status` and can be committed by accident. Both are found at the
end of the session, when every fixture has been torn down, and reported as an error at the
teardown of the last test: the run fails, naming the thread (and the test and code that started
it) or the file.
"""

from __future__ import annotations

import gc
import hashlib
import os
import shutil
import subprocess
import threading
import time
import traceback
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# A thread told to stop may take a moment to return from what it was doing.
GRACE_S = 5.0
TREE_NOTE = (
    "(a test writes into the checkout: give it tmp_path instead; a file you or a tool edited "
    "while the tests ran is listed too, and LANTERNE_TEST_TREE_CHECK=0 skips this check)"
)


class ThreadWatch:
    """Remembers where each thread started during the session came from, and finds the
    non-daemon ones still running at the end (daemon threads never keep a process alive)."""

    def __init__(self) -> None:
        self.before = set(threading.enumerate())
        self.origins: weakref.WeakKeyDictionary[threading.Thread, str] = weakref.WeakKeyDictionary()
        self._start: Callable[[threading.Thread], None] = threading.Thread.start
        original, origins = self._start, self.origins

        def start(thread: threading.Thread) -> None:
            origins[thread] = _origin()
            original(thread)

        setattr(threading.Thread, "start", start)  # noqa: B010 (mypy refuses a method assigned)

    def stop(self) -> None:
        setattr(threading.Thread, "start", self._start)  # noqa: B010

    def leftovers(self, grace_s: float = GRACE_S) -> list[str]:
        # A thread whose owner is garbage (an executor nobody holds) stops when it is collected:
        # collect first, so that only threads something still holds on to are counted.
        gc.collect()
        deadline = time.monotonic() + grace_s
        left = []
        for thread in threading.enumerate():
            if thread in self.before or thread.daemon or thread is threading.main_thread():
                continue
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                origin = self.origins.get(thread, "started outside Thread.start")
                left.append(f"thread {thread.name!r} still running, {origin}")
        return left


def _origin() -> str:
    """The test that was running and the project's frames that started the thread."""
    test = os.environ.get("PYTEST_CURRENT_TEST", "outside any test")
    frames = []
    for frame in traceback.extract_stack()[:-2]:
        if frame.filename.startswith("<"):
            continue  # <frozen runpy> and the like
        path = Path(frame.filename).resolve()  # the installed package links to the checkout
        if path.is_relative_to(ROOT) and not path.is_relative_to(ROOT / ".venv"):
            frames.append(f"{path.relative_to(ROOT)}:{frame.lineno} ({frame.name})")
    return f"started during {test} from " + " <- ".join(reversed(frames[-4:]) or ["?"])


class SourceTree:
    """The checkout's files as the run found them, to compare with what it leaves: those that
    differ from HEAD (untracked ones included, ignored ones not) by content, the others as HEAD
    has them. By content, so that a test writing to a file already changed before the run is
    caught, and a commit made meanwhile (HEAD moves, the files do not) is not taken for a write."""

    def __init__(self, git: str, root: Path = ROOT) -> None:
        self.git, self.root = git, root
        self.head = self._git("rev-parse", "--verify", "-q", "HEAD").strip()
        self.before = {path: _blob(root / path) for path in self.changed_paths()}

    @classmethod
    def of_checkout(cls) -> SourceTree | None:
        if os.environ.get("LANTERNE_TEST_TREE_CHECK") == "0":
            return None  # editing the checkout while the tests run, on purpose
        git = shutil.which("git")
        if git is None or not (ROOT / ".git").exists():
            return None  # an unpacked source archive: nothing to compare with
        return cls(git)

    def _git(self, *args: str) -> str:
        # --no-optional-locks: this must never take the index lock from someone committing.
        out = subprocess.run(
            [self.git, "--no-optional-locks", *args],
            cwd=self.root,
            capture_output=True,
            check=False,
        )
        return out.stdout.decode("utf-8", "surrogateescape")

    def changed_paths(self) -> set[str]:
        """What `git status` lists: the paths that differ from HEAD, untracked ones included."""
        fields = iter(self._git("status", "--porcelain=v1", "-z", "-uall").split("\0"))
        paths = set()
        for field in fields:
            if field:
                paths.add(field[3:])
                if field[0] in "RC":
                    next(fields, None)  # a rename's source path follows it
        return paths

    def head_blobs(self, paths: set[str]) -> dict[str, str]:
        """The blob each path had at the HEAD the run started from (absent: not there)."""
        if not self.head or not paths:
            return {}
        listing = self._git("--literal-pathspecs", "ls-tree", "-r", "-z", self.head, "--", *paths)
        blobs = {}
        for entry in filter(None, listing.split("\0")):
            meta, path = entry.split("\t", 1)
            blobs[path] = meta.split()[2]
        return blobs

    def changes(self) -> list[str]:
        head = self._git("rev-parse", "--verify", "-q", "HEAD").strip()
        paths = self.before.keys() | self.changed_paths()
        if head != self.head:  # committed meanwhile: what the commits touched counts too
            paths |= set(self._git("diff", "--name-only", "-z", self.head, head).split("\0"))
        paths.discard("")
        at_head = self.head_blobs(paths - self.before.keys())
        changed = []
        for path in sorted(paths):
            old = self.before[path] if path in self.before else at_head.get(path, "")
            new = _blob(self.root / path)
            if old != new:
                what = "new" if not old else "deleted" if not new else "changed"
                changed.append(f"{path}: {what} in the checkout during the run")
        return changed


def _blob(path: Path) -> str:
    """The id git gives the file's content ("" when there is no file), so that files can be
    compared with HEAD's without reading HEAD's copies."""
    try:
        if path.is_symlink():
            data = os.fsencode(path.readlink())
        elif path.is_file():
            data = path.read_bytes()
        else:
            return "" if not path.exists() else "folder"
    except OSError:
        return "unreadable"
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


@pytest.fixture(scope="session", autouse=True)
def session_hygiene() -> Iterator[None]:
    """Set up before every other fixture, so torn down after them all."""
    tree = SourceTree.of_checkout()
    threads = ThreadWatch()
    try:
        yield
    finally:
        threads.stop()
    left, changed = threads.leftovers(), tree.changes() if tree else []
    if changed:
        changed.append(TREE_NOTE)
    if left or changed:
        report = "\n  ".join([*left, *changed])
        pytest.fail(f"the tests left this behind:\n  {report}", pytrace=False)
