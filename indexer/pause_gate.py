"""Pausing indexing between files, so that a pause never leaves a file half written."""

from __future__ import annotations

import threading


class PauseGate:
    def __init__(self) -> None:
        self._open = threading.Event()
        self._open.set()

    @property
    def paused(self) -> bool:
        return not self._open.is_set()

    def pause(self) -> None:
        self._open.clear()

    def resume(self) -> None:
        self._open.set()

    def wait(self, stop: threading.Event | None = None) -> None:
        """Return at once when not paused; else when resumed or `stop` is set."""
        while not self._open.wait(0.1):
            if stop is not None and stop.is_set():
                return
