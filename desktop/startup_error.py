"""Why Lanterne could not start, in a window: a launch without a console has nowhere else to
say it (core/no_console.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from lanterne.foundation.translation import _


def qt_can_start() -> bool:
    """Qt ends the process when it finds no display, so on X11 and Wayland systems one is
    looked for first; Windows and macOS always have one for a logged-in user."""
    if sys.platform in ("win32", "darwin"):
        return True
    return any(os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def show_startup_error(message: str, log: Path | None) -> None:
    """`message` in a modal error window, and where the log with the details is; nothing when
    no window can be opened (the log then holds it)."""
    if not qt_can_start():
        return
    _app = QApplication.instance() or QApplication(sys.argv[:1])  # held until the box closes
    details = message
    if log is not None:
        details += "\n\n" + _("These details are also written in {path}.").format(path=log)
    # The headline as the box's text, the reason beneath it: each system styles them as such.
    box = QMessageBox(QMessageBox.Icon.Critical, "Lanterne", _("Lanterne could not start."))
    box.setTextFormat(Qt.TextFormat.PlainText)  # paths and keys, never markup
    box.setInformativeText(details)
    box.exec()
