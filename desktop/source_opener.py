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
from lanterne.foundation.translation import _
from lanterne.index_repair import telling_damage
from lanterne.indexer import folder_presence
from lanterne.indexer.store import IndexStore


class SourceOpener(QObject):
    message = Signal(str)  # what the window should tell the user (e.g. which page to go to)

    def __init__(self, parent: QObject | None = None, index_path: Path | None = None) -> None:
        super().__init__(parent)
        self.index_path = index_path
        self._tasks: list[BackgroundTask] = []

    def open_link(self, url: QUrl) -> None:
        """A link of an answer, clicked. The text may come from a document written to trick
        the model, so: web pages go to the browser, local files open only when they are
        indexed documents (after symlinks are followed), and every other scheme is refused."""
        scheme = url.scheme().lower()
        if scheme in ("http", "https"):
            QDesktopServices.openUrl(url)
            return
        if scheme != "file" or self.index_path is None:
            self._refuse(url.toString())
            return
        path = Path(url.toLocalFile())
        task = BackgroundTask(owner=self)
        self._tasks.append(task)
        index_path = self.index_path

        def indexed(_report: object) -> bool:
            with telling_damage(index_path):  # damaged: the index service repairs it
                store = IndexStore(index_path)
                try:
                    state = store.document(path.resolve())
                finally:
                    store.close()
            return state is not None and state.status == "indexed"

        def decide(is_indexed: object) -> None:
            self._tasks.remove(task)
            if is_indexed is True:
                QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.resolve())))
            else:
                self._refuse(str(path))

        task.connect_outcome(decide, lambda _m: decide(False))
        task.run(indexed)

    def _refuse(self, link: str) -> None:
        self.message.emit(
            _("Not opened: {link} is neither a web page nor one of your indexed documents.").format(
                link=link[:200]
            )
        )

    def open(self, citation: Citation) -> None:
        path, page = Path(citation.path), citation.page
        task = BackgroundTask(owner=self)
        self._tasks.append(task)
        index_path = self.index_path

        def lookup(_report: object) -> list[str] | str | None:
            if not path.exists():
                return _unavailable(path, index_path)
            if not page:
                return None
            return source_location.page_command(path, page, source_location.default_pdf_viewer())

        def launch(command: object) -> None:
            self._tasks.remove(task)
            if isinstance(command, str):  # it cannot be opened now: why, in words
                self.message.emit(command)
                return
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


def _unavailable(path: Path, index_path: Path | None) -> str:
    """Why a cited file cannot be opened now: its folder is not connected, or it is gone."""
    found = None
    if index_path is not None:
        store = IndexStore(index_path)
        try:
            found = folder_presence.folder_of(store.db, path)
        finally:
            store.close()
    if found is not None and not found[1].connected:
        return _(
            "{name} cannot be opened now: its folder {folder} is not connected. Connect the "
            "drive or network share it is on, then open it again."
        ).format(name=path.name, folder=found[0])
    return _("{name} cannot be opened: it is no longer at {path}.").format(
        name=path.name, path=path
    )
