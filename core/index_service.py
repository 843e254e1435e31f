"""The index kept in step with the folders for as long as Lanterne runs.

One thread watches (initial reconciliation, then watchdog's changes), another embeds what has no
vector yet. Folder changes, re-index and pause arrive as commands, run on the watching thread
(which owns the index's writer connection) between batches. Used by `lanterne index watch` and
by the desktop app, where it goes on while the window is closed to the tray.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from lanterne.context import AppContext
from lanterne.database import DatabaseUpgradeError
from lanterne.embedding_model import configured_embedder
from lanterne.engine.activity import GENERATION
from lanterne.indexer.embedding_worker import EmbeddingProgress, EmbeddingWorker
from lanterne.indexer.indexing import FolderError, Indexer, Progress
from lanterne.indexer.store import IndexStatus
from lanterne.indexer.watcher import watch
from lanterne.settings import SettingsError
from lanterne.translation import _


@dataclass(frozen=True)
class ServiceEvents:
    """Called on the service's threads: a GUI must hand them over to its own thread."""

    progress: Callable[[Progress], None] | None = None
    ready: Callable[[Progress], None] | None = None  # folders reconciled, now watching
    batch: Callable[[int], None] | None = None  # changes applied
    embedding: Callable[[EmbeddingProgress], None] | None = None
    error: Callable[[str], None] | None = None  # a command failed: say why
    folders_changed: Callable[[], None] | None = None
    # Folders, counts and unreadable files, read once by the watching thread on its own
    # connection at start, when a folder starts indexing, and after each change.
    status: Callable[[IndexStatus], None] | None = None


Command = Callable[[Indexer], None]


class IndexService:
    def __init__(self, ctx: AppContext, events: ServiceEvents, embed: bool = True) -> None:
        self.ctx = ctx
        self.events = events
        self.embed = embed
        self._commands: queue.Queue[Command] = queue.Queue()
        self._interrupt = threading.Event()  # ends the current watch: commands, or stop
        self._stopping = threading.Event()
        self._changed = threading.Event()  # new passages may need vectors
        # The embedding model loads once the folders are watched: changes are followed first,
        # and the load's CPU time never delays the watcher's start.
        self._watching = threading.Event()
        self._indexer: Indexer | None = None
        self._paused = False
        self._threads: list[threading.Thread] = []

    # Control (any thread) -----------------------------------------------------------------

    def start(self) -> None:
        watcher = threading.Thread(target=self._watch, name="lanterne-watch", daemon=True)
        self._threads = [watcher]
        if self.embed:
            embedder = threading.Thread(target=self._embed, name="lanterne-embed", daemon=True)
            self._threads.append(embedder)
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        self._stopping.set()
        self._interrupt.set()
        if self._indexer is not None:
            self._indexer.stop.set()  # a paused indexer stops waiting
        for thread in self._threads:
            thread.join(timeout)

    def add_folder(self, folder: Path) -> None:
        self._command(lambda indexer: self._add(indexer, folder))

    def remove_folder(self, folder: Path) -> None:
        self._command(lambda indexer: self._remove(indexer, folder))

    def reindex(self, folder: Path) -> None:
        self._command(lambda indexer: self._reindex(indexer, folder))

    def reload_settings(self) -> None:
        """Indexing settings changed (ignore patterns, limits): apply them and bring every
        folder in line (files now ignored leave the index, files no longer ignored come in)."""
        self._command(self._reload)

    def _reload(self, indexer: Indexer) -> None:
        indexer.options = self.ctx.index_options()
        indexer.stop_readers()  # the next files get readers with the new limits
        indexer.sync_all(self._on_progress)

    @property
    def paused(self) -> bool:
        return self._paused

    def pause(self) -> None:
        self._paused = True
        if self._indexer is not None:
            self._indexer.gate.pause()

    def resume(self) -> None:
        self._paused = False
        if self._indexer is not None:
            self._indexer.gate.resume()

    # Threads ------------------------------------------------------------------------------

    def _command(self, command: Command) -> None:
        self._commands.put(command)
        self._interrupt.set()

    def _add(self, indexer: Indexer, folder: Path) -> None:
        indexer.add_folder(folder, self._on_progress)
        if self.events.folders_changed:
            self.events.folders_changed()

    def _reindex(self, indexer: Indexer, folder: Path) -> None:
        indexer.reindex_folder(folder, self._on_progress)

    def _remove(self, indexer: Indexer, folder: Path) -> None:
        try:
            self.ctx.settings.check_folder_removal(folder)
        except SettingsError as exc:
            if self.events.error:
                self.events.error(str(exc))
            return
        indexer.remove_folder(folder)
        if self.events.folders_changed:
            self.events.folders_changed()

    def _watch(self) -> None:
        try:
            indexer = self._indexer = self.ctx.indexer()  # its own connection, on this thread
        except DatabaseUpgradeError as exc:
            if self.events.error:
                self.events.error(str(exc))
            return
        if self._paused:
            indexer.gate.pause()
        try:
            self._add_policy_folders(indexer)
            self._report_status()
            while not self._stopping.is_set():
                self._interrupt.clear()
                if self._run_commands(indexer):
                    self._report_status()
                if self._stopping.is_set():
                    break
                if not indexer.store.folders():  # nothing to watch: wait for a folder
                    self._interrupt.wait()
                    continue
                watch(
                    indexer,
                    self._interrupt,
                    on_batch=self._on_batch,
                    on_ready=self._on_ready,
                    progress=self._on_progress,
                    gate=indexer.gate,
                )
        finally:
            indexer.close()

    def _add_policy_folders(self, indexer: Indexer) -> None:
        """The organisation's folders, watched from the first start (a missing one, such as
        a share not mounted yet, is reported and tried again at the next start)."""
        watched = {path for _id, path in indexer.store.folders()}
        for folder in self.ctx.settings.policy_folders():
            if folder not in watched:
                self._commands.put(partial(self._add, folder=folder))

    def _run_commands(self, indexer: Indexer) -> int:
        """Run the queued commands; how many ran."""
        ran = 0
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return ran
            ran += 1
            try:
                command(indexer)
            except FolderError as exc:
                if self.events.error:
                    self.events.error(str(exc))
            self._changed.set()

    def _report_status(self) -> None:
        if self.events.status and self._indexer is not None:
            self.events.status(self._indexer.store.status())

    def _on_progress(self, progress: Progress) -> None:
        if progress.done == 0 and progress.total:  # a new folder is listed from its first file
            self._report_status()
        if self.events.progress:
            self.events.progress(progress)

    def _on_ready(self, progress: Progress) -> None:
        self._watching.set()
        self._changed.set()
        self._report_status()
        if self.events.ready:
            self.events.ready(progress)

    def _on_batch(self, count: int) -> None:
        self._changed.set()
        self._report_status()
        if self.events.batch:
            self.events.batch(count)

    def _embed(self) -> None:
        while not self._watching.wait(0.5):
            if self._stopping.is_set() or not any(t.is_alive() for t in self._threads[:1]):
                return
        embedder, problem = configured_embedder(self.ctx.settings)
        if embedder is None:
            if problem and self.events.error:
                self.events.error(_("Not embedding: {reason}").format(reason=problem))
            return
        store = self.ctx.open_store()  # its own connection: SQLite wants one per thread

        def wait_turn() -> None:
            GENERATION.wait_idle()  # never slow an answer being read
            if self._indexer is not None:
                self._indexer.gate.wait(self._stopping)

        worker = EmbeddingWorker(store, embedder, wait_turn=wait_turn)
        self._changed.set()  # whatever the last run left unembedded
        try:
            while not self._stopping.is_set():
                if self._changed.wait(0.5):
                    self._changed.clear()
                    worker.run(self._stopping, on_batch=self.events.embedding)
        finally:
            store.close()
