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
from lanterne.database import DatabaseUpgradeError

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

    def __init__(self, open_store: Callable[[], ConversationStore]) -> None:
        super().__init__()
        self._jobs: queue.Queue[object] = queue.Queue()
        self._delivered.connect(lambda then, result: then(result))
        self._pending = 0
        self._settled = threading.Condition()
        self._thread = threading.Thread(
            target=self._run, args=(open_store,), name="lanterne-conversations", daemon=True
        )
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
        self._jobs.put(_STOP)
        self._thread.join(timeout)

    def _run(self, open_store: Callable[[], ConversationStore]) -> None:
        try:
            store = open_store()
        except DatabaseUpgradeError as exc:
            self._refuse_jobs(str(exc))
            return
        try:
            while True:
                item = self._jobs.get()
                if item is _STOP:
                    return
                job, then = cast(tuple[Job, Callable[[Any], None] | None], item)
                try:
                    result = job(store)
                except Exception as exc:  # shown by the window; the thread goes on
                    self.failed.emit(f"{type(exc).__name__}: {exc}")
                else:
                    if then is not None:
                        self._delivered.emit(then, result)
                with self._settled:
                    self._pending -= 1
                    self._settled.notify_all()
        finally:
            store.close()

    def _refuse_jobs(self, reason: str) -> None:
        """The database cannot be opened: say why, once, and let every job go unrun."""
        self.unavailable.emit(reason)
        while self._jobs.get() is not _STOP:
            with self._settled:
                self._pending -= 1
                self._settled.notify_all()
