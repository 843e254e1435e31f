"""Turns at the one in-process model, for the person at the keyboard and for other apps.

llama.cpp runs one answer at a time (engine/host.py's model thread); without a gate, questions
from the API and the GUI would interleave on that thread and the person typing would wait behind
any number of scripts. Here a request takes a turn before it starts: priority 0 (the GUI, quick
ask) before priority 1 (API clients), first come first served within a priority. API requests
beyond `limit` waiting are refused at once with an estimate of when to retry, rather than left
to time out; a waiter whose cancel event is set leaves the queue.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from lanterne.engine.errors import GenerationCancelledError
from lanterne.foundation.translation import _

KEYBOARD = 0  # the person using the app
API = 1  # other apps, through `lanterne serve` or the in-app server
_POLL_S = 0.01  # how often a waiter looks at its cancel event
_FIRST_GUESS_S = 10.0  # a turn's length before any was measured
_MEASURED = 8  # the latest turns the retry estimate averages


class GateFullError(Exception):
    """Too many API requests are already waiting; `retry_after` is in whole seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            _("Lanterne is busy with other requests; try again in {seconds} s.").format(
                seconds=retry_after
            )
        )
        self.retry_after = retry_after


class ModelGate:
    def __init__(self, limit: int, applies: Callable[[], bool] = lambda: True) -> None:
        """`applies`: whether turns are needed now (no in-process model with a remote backend,
        whose server queues on its own); when False, `hold` lets everyone through."""
        self.limit = limit
        self._applies = applies
        self._cond = threading.Condition()
        self._busy = False
        self._waiting: list[tuple[int, int]] = []  # (priority, ticket)
        self._tickets = itertools.count()
        self._durations: deque[float] = deque(maxlen=_MEASURED)

    def waiting(self, priority: int | None = None) -> int:
        """How many wait, at `priority` or at all."""
        with self._cond:
            return len(self._waiting) if priority is None else self._count(priority)

    def retry_after(self) -> int:
        """Seconds until a request refused now would likely find room."""
        with self._cond:
            return self._retry_after()

    def _retry_after(self) -> int:
        turn = sum(self._durations) / len(self._durations) if self._durations else _FIRST_GUESS_S
        return max(1, math.ceil(turn * (len(self._waiting) + 1)))

    @contextmanager
    def hold(self, priority: int, cancel: threading.Event | None = None) -> Iterator[None]:
        """The model's turn, waited for; raises `GateFullError` (API priority only) when more
        than `limit` requests wait, `GenerationCancelledError` when `cancel` is set while
        waiting."""
        if not self._applies():
            yield
            return
        self._enter(priority, cancel)
        started = time.monotonic()
        try:
            yield
        finally:
            with self._cond:
                self._durations.append(time.monotonic() - started)
                self._busy = False
                self._cond.notify_all()

    def _enter(self, priority: int, cancel: threading.Event | None) -> None:
        with self._cond:
            if not self._busy and not self._waiting:
                self._busy = True
                return
            if priority >= API and self._count(API) >= self.limit:
                raise GateFullError(self._retry_after())
            ticket = (priority, next(self._tickets))
            self._waiting.append(ticket)
            try:
                while self._busy or min(self._waiting) != ticket:
                    if cancel is not None and cancel.is_set():
                        raise GenerationCancelledError(_("The answer was stopped."))
                    self._cond.wait(_POLL_S if cancel is not None else None)
            finally:
                self._waiting.remove(ticket)
                self._cond.notify_all()  # the next in line may be this one's successor
            self._busy = True

    def _count(self, priority: int) -> int:
        return sum(1 for p, _t in self._waiting if p == priority)
