"""Model downloads that belong to the app, not to a window: started from the wizard or Models,
they go on while the user picks folders, reads and asks; quitting stops them and the next start
resumes them. Windows only listen (progress, a model arrived, a failure in words).
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal

from lanterne.engine.hub_download import DownloadCancelledError, Progress
from lanterne.model_downloads import DownloadQueue, Wanted
from lanterne.model_library import ModelLibrary


class DownloadService(QObject):
    started = Signal(str)  # the model's name
    progress = Signal(object)  # Progress of the one downloading
    arrived = Signal(object)  # InstalledModel, verified and registered
    failed = Signal(str, str)  # the model's name, why in words
    idle = Signal()  # nothing left to fetch this session (cancelled, done or failed)

    def __init__(self, library: ModelLibrary, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.queue = DownloadQueue(library)
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()  # quitting: the loop ends, wishes stay
        self._this = threading.Event()  # stops the download under way only
        self._lock = threading.Lock()
        self.current: Wanted | None = None
        self.current_name = ""
        self.last_progress: Progress | None = None
        self._running = False
        self._tried: set[tuple[str, str]] = set()  # failed this session: not retried in a loop

    @property
    def library(self) -> ModelLibrary:
        return self.queue.library

    def request(self, model_id: str, quant: str | None = None) -> Wanted:
        """Queue a download (SettingsError in words when refused) and start if idle."""
        wanted = self.queue.add(model_id, quant)
        self._tried.discard(wanted.key)  # asked again: try again
        self._kick()
        return wanted

    def resume(self) -> bool:
        """At start: go on with what a previous session left, if anything and allowed."""
        if not self.queue.wanted() or not self.library.settings.policy.downloads:
            return False
        self._kick()
        return True

    def is_active(self) -> bool:
        """Fetching, or about to; false from the moment `idle` is sent."""
        return self._running

    def is_wanted(self, model_id: str) -> bool:
        return any(w.model_id == model_id for w in self.queue.wanted())

    def cancel(self, model_id: str | None = None) -> None:
        """The user's cancel: the download stops and is crossed out (its partial file stays,
        so asking again resumes). With a model id, only that one."""
        for wanted in self.queue.wanted():
            if model_id is None or wanted.model_id == model_id:
                self.queue.remove(wanted)
        current = self.current
        if current is not None and (model_id is None or current.model_id == model_id):
            self._this.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Quitting: stop fetching but keep the wish, so the next start resumes it."""
        self._stopping.set()
        self._this.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _kick(self) -> None:
        with self._lock:
            if self.is_active():
                return
            self._stopping = threading.Event()
            self._running = True
            self._thread = threading.Thread(
                target=self._run, args=(self._stopping,), name="lanterne-download", daemon=True
            )
            self._thread.start()

    def _next(self) -> Wanted | None:
        return next((w for w in self.queue.wanted() if w.key not in self._tried), None)

    def _run(self, stopping: threading.Event) -> None:
        while not stopping.is_set():
            wanted = self._next()
            if wanted is None:
                break
            self._this = this = threading.Event()
            if stopping.is_set():  # stop() came between the check and the new event
                break
            self.current, self.last_progress = wanted, None
            try:
                self.current_name = self.queue.name(wanted)
            except Exception as exc:  # no longer in the catalog (an update): nothing to fetch
                self.queue.remove(wanted)
                self.failed.emit(wanted.model_id, str(exc))
                continue
            self.started.emit(self.current_name)
            try:
                installed = self.queue.fetch(wanted, progress=self._report, cancel=this)
            except DownloadCancelledError:
                continue  # cancelled by the user (crossed out) or quitting (the loop ends)
            except Exception as exc:  # said in words; tried again at the next start
                self._tried.add(wanted.key)
                self.queue.note_failure(wanted, str(exc))
                self.failed.emit(self.current_name, str(exc))
                continue
            self.arrived.emit(installed)
        self.current, self.last_progress = None, None
        self._running = False
        self.idle.emit()

    def _report(self, progress: Progress) -> None:
        self.last_progress = progress
        self.progress.emit(progress)
