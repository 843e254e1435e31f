"""The conversations database, used from one thread of its own so the GUI never waits on disk.

Jobs run one at a time in the order they were submitted (a conversation is created before its
first message is written); a job's result comes back to the GUI thread through a signal.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from PySide6.QtCore import QObject, Signal

from lanterne.conversations.store import ConversationStore
from lanterne.disk_space import ROOM, wait_for_room
from lanterne.foundation import paths
from lanterne.foundation.database import DatabaseUpgradeError
from lanterne.foundation.db_faults import DatabaseDamagedError, DiskFullError, is_disk_full
from lanterne.foundation.translation import _

T = TypeVar("T")
Job = Callable[[ConversationStore], Any]
_STOP = object()


@dataclass
class RowRef:
    """A conversation or message being written. `id` is set by the store thread's first job for
    it and read only by later jobs on that thread (they run in order), never by the GUI thread;
    a row loaded from disk comes with its id."""

    id: int | None = None


class StoreThread(QObject):
    _delivered = Signal(object, object)  # callback, result
    failed = Signal(str)  # a job's error, to be shown (the job's data is not lost: nothing ran)
    unavailable = Signal(str)  # the database could not be opened: why (no job will run)
    saved_again = Signal(str)  # what a full disk held back is written now: say so
    restored = Signal(str)  # it was found damaged and restored: what came back, from when

    def __init__(self, open_store: Callable[[], ConversationStore], start: bool = True) -> None:
        """`start`: at once; else at `start()`, once whoever listens to its signals does."""
        super().__init__()
        self._jobs: queue.Queue[object] = queue.Queue()
        self._delivered.connect(lambda then, result: then(result))
        self._pending = 0
        self._closing = threading.Event()  # a job held by a full disk stops waiting
        self._settled = threading.Condition()
        self._thread = threading.Thread(
            target=self._run, args=(open_store,), name="lanterne-conversations", daemon=True
        )
        if start:
            self.start()

    def start(self) -> None:
        """Open the database and run the jobs, those submitted so far first. Idempotent."""
        if self._thread.ident is None:
            self._thread.start()

    def submit(
        self, job: Callable[[ConversationStore], T], then: Callable[[T], None] | None = None
    ) -> None:
        with self._settled:
            self._pending += 1
        self._jobs.put((job, then))

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Every job submitted so far has run (tests; the app's shutdown)."""
        with self._settled:
            return self._settled.wait_for(lambda: self._pending == 0, timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Run what is queued, then stop."""
        self.start()  # never started: what is queued runs all the same
        self._closing.set()
        self._jobs.put(_STOP)
        self._thread.join(timeout)

    def _run(self, open_store: Callable[[], ConversationStore]) -> None:
        try:
            store = self._open_when_room(open_store)
        except (DatabaseUpgradeError, DatabaseDamagedError) as exc:
            self._refuse_jobs(str(exc))
            return
        try:
            self._tell_notices(store)
            while True:
                item = self._jobs.get()
                if item is _STOP:
                    return
                job, then = cast(tuple[Job, Callable[[Any], None] | None], item)
                try:
                    result = self._run_when_room(job, store)
                except DatabaseDamagedError as exc:  # already a sentence
                    self.failed.emit(str(exc))
                except Exception as exc:  # shown by the window; the thread goes on
                    self.failed.emit(f"{type(exc).__name__}: {exc}")
                else:
                    if then is not None:
                        self._delivered.emit(then, result)
                self._tell_notices(store)
                with self._settled:
                    self._pending -= 1
                    self._settled.notify_all()
        finally:
            store.close()

    def _tell_notices(self, store: ConversationStore) -> None:
        for notice in store.take_notices():
            self.restored.emit(notice)

    def _run_when_room(self, job: Job, store: ConversationStore) -> Any:
        """The job; on a full disk it waits for room, and the jobs after it with it (they run
        in order), so an answer is saved whole once there is room, unless Lanterne quits first.
        The answer stays on screen meanwhile."""
        held = False
        while True:
            try:
                result = job(store)
            except Exception as exc:
                if not is_disk_full(exc) or self._closing.is_set():
                    raise
                if not held:
                    self.failed.emit(str(DiskFullError(store.path.parent, ROOM, _held())))
                held = True
                if not wait_for_room(store.path.parent, self._closing):
                    raise
                continue
            if held:
                self.saved_again.emit(_("There is room again: the conversation is saved."))
            return result

    def _open_when_room(self, open_store: Callable[[], ConversationStore]) -> ConversationStore:
        """The database, once the disk has room to open it (its -shm file, a new one's tables)."""
        while True:
            try:
                return open_store()
            except Exception as exc:
                if not is_disk_full(exc) or self._closing.is_set():
                    raise
                self.failed.emit(str(DiskFullError(paths.data_dir(), ROOM, _held())))
                if not wait_for_room(paths.data_dir(), self._closing):
                    raise

    def _refuse_jobs(self, reason: str) -> None:
        """The database cannot be opened: say why, once, and let every job go unrun."""
        self.unavailable.emit(reason)
        while self._jobs.get() is not _STOP:
            with self._settled:
                self._pending -= 1
                self._settled.notify_all()


def _held() -> str:
    return _(
        "The conversation stays on screen but is not saved yet: it is saved as soon as there is "
        "room, unless Lanterne is quit first."
    )
