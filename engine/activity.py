"""Whether the chat model is generating right now, so background work can step aside.

Embedding runs on the same few cores as the chat model; a batch started mid-answer would slow
the tokens the user is watching. The embedding worker waits here between batches.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Activity:
    def __init__(self) -> None:
        self._busy = 0
        self._idle = threading.Condition()

    @contextmanager
    def generating(self) -> Iterator[None]:
        with self._idle:
            self._busy += 1
        try:
            yield
        finally:
            with self._idle:
                self._busy -= 1
                if not self._busy:
                    self._idle.notify_all()

    @property
    def busy(self) -> bool:
        return self._busy > 0

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block while an answer is being generated; False if still busy after `timeout`."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)


GENERATION = Activity()  # this process's chat generation
