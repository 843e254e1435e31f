"""Opening a citation's file, at its page where the viewer can be told, without blocking the GUI.

The default PDF viewer is looked up on a worker thread (it asks the system); the viewer or the
file's default application is then started detached.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QUrl, Signal
from PySide6.QtGui import QDesktopServices

from lanterne.assistant.answer import Citation
from lanterne.desktop import source_location
from lanterne.desktop.workers import BackgroundTask
from lanterne.translation import _


class SourceOpener(QObject):
    message = Signal(str)  # what the window should tell the user (e.g. which page to go to)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks: list[BackgroundTask] = []

    def open(self, citation: Citation) -> None:
        path, page = Path(citation.path), citation.page
        task = BackgroundTask(owner=self)
        self._tasks.append(task)

        def lookup(_report: object) -> list[str] | None:
            if not page:
                return None
            return source_location.page_command(path, page, source_location.default_pdf_viewer())

        def launch(command: object) -> None:
            self._tasks.remove(task)
            if isinstance(command, list) and QProcess.startDetached(command[0], command[1:])[0]:
                return
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
            if page:
                self.message.emit(
                    _("Opened {name}: the passage is on page {page}.").format(
                        name=path.name, page=page
                    )
                )

        task.connect_outcome(launch, lambda _m: launch(None))
        task.run(lookup)
