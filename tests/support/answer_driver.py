"""The real main window asking one question in the last conversation, as a user would: run as
`python answer_driver.py QUESTION` with LANTERNE_HOME set up; exits once the answer is saved.
Tests kill it at random moments (tests/test_crash_safety.py)."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from lanterne.context import AppContext
from lanterne.desktop.main_window import MainWindow
from lanterne.foundation.settings import Settings


def main(question: str) -> int:
    app = QApplication([])
    ctx = AppContext(Settings())
    window = MainWindow(ctx)
    window.show()

    def ask() -> None:
        window.question.setPlainText(question)
        window.ask()
        window.worker.finished.connect(lambda _answer: QTimer.singleShot(0, app.quit))
        window.worker.failed.connect(lambda _error: app.exit(1))

    def continue_last(found: list[int]) -> None:
        if found:
            window.open_conversation(found[0])
        window.store.submit(lambda _store: None, lambda _none: ask())  # after it is shown

    window.store.submit(
        lambda store: [c.id for c in store.conversations()][:1],  # the most recent first
        continue_last,
    )
    code = app.exec()
    window.store.wait_idle(10)
    window.shutdown()
    ctx.close()
    return int(code)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
