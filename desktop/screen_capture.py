"""Screenshots of real windows: wait for a window to settle, then save what it shows.

The documentation's screenshots (desktop/screenshots.py) and the tests' own (tests/support/
*_shots.py) drive the same windows the same way: let Qt process its events until a condition
holds, give the painting a few more rounds, then save the widget's pixels as
`<language>-<name>.png`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QApplication, QWidget


class ScreenCapture:
    def __init__(self, out: Path, language: str, settle_rounds: int = 30) -> None:
        self.out = out
        self.language = language
        self.settle_rounds = settle_rounds
        self.saved: list[Path] = []

    @staticmethod
    def wait(done: Callable[[], bool], timeout: float = 30.0) -> None:
        """Process events until `done()`; TimeoutError past `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                raise TimeoutError("the window did not settle in time")
            QApplication.processEvents()
            time.sleep(0.01)

    def settle(self) -> None:
        """A few rounds of events, so what was just shown is painted."""
        for _ in range(self.settle_rounds):
            QApplication.processEvents()
            time.sleep(0.01)

    def shoot(self, widget: QWidget, name: str) -> Path:
        self.settle()
        path = self.out / f"{self.language}-{name}.png"
        widget.grab().save(str(path))
        self.saved.append(path)
        return path
