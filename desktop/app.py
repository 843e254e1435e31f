"""Starting the GUI: one QApplication, the main window, and a clean model shutdown at exit."""

from __future__ import annotations

import sys

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from lanterne import __version__
from lanterne.assets import asset_path
from lanterne.context import AppContext
from lanterne.desktop.main_window import MainWindow
from lanterne.settings import Settings


def run_gui(settings: Settings | None = None, argv: list[str] | None = None) -> int:
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("Lanterne")
    app.setApplicationVersion(__version__)
    app.setOrganizationName("Lanterne")
    QApplication.setWindowIcon(QIcon(str(asset_path("lanterne.svg"))))
    ctx = AppContext(settings)
    window = MainWindow(ctx)
    window.show()
    try:
        return int(app.exec())
    finally:
        ctx.close()  # free the model before the interpreter tears down llama.cpp
