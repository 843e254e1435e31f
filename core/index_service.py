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
from lanterne.disk_space import RoomWait, index_full_error, vectors_full_error
from lanterne.embedding_model import configured_embedder
from lanterne.engine.activity import GENERATION
from lanterne.foundation.database import DatabaseUpgradeError
from lanterne.foundation.db_faults import DiskFullError, is_disk_full
from lanterne.foundation.settings import SettingsError
from lanterne.foundation.translation import _
from lanterne.index_repair import (
    Rebuild,
    RepairError,
    claim_repair,
    on_damage,
    resume_rebuild,
)
from lanterne.indexer.embedding import TextEmbedder
from lanterne.indexer.embedding_worker import EmbeddingProgress, EmbeddingWorker
from lanterne.indexer.index_health import (
    FileIdentity,
    IndexDamagedError,
    file_identity,
    index_damage,
)
from lanterne.indexer.indexing import FolderError, Indexer, Progress
from lanterne.indexer.store import IndexStatus
from lanterne.indexer.watcher import watch


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
    # A watched folder went away (a drive unplugged: its documents are kept) or came back.
    presence: Callable[[Path, bool], None] | None = None
    # The disk holding the index is full: why and what to free while indexing waits for room
    # (core/disk_space.py), None once it goes on by itself.
    disk_full: Callable[[str | None], None] | None = None
    # The index was damaged and is being rebuilt from the folders (core/index_repair.py): what
    # to say meanwhile; None once every folder was read again.
    rebuilding: Callable[[str | None], None] | None = None


Command = Callable[[Indexer], None]
MAX_REPAIRS = 3  # damaged again and again: a failing disk, not worth rebuilding once more


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
        self._room = RoomWait(events.disk_full)
        self._rebuild: Rebuild | None = None  # this process rebuilds a damaged index
        self._repairs = 0
        self._embed_lock = threading.Lock()
        self._embed_stop = threading.Event()  # the embedding thread lets go: stop, or a repair
        self._embed_idle = threading.Event()  # it holds no connection to the index
        self._embed_idle.set()

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
        self._embed_stop.set()
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

    @property
    def waiting_for_room(self) -> bool:
        """Whether indexing or embedding waits for room on a full disk."""
        return self._room.waiting

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
        """Watch the index; a damaged one is set aside and rebuilt, then watched again."""
        stop_listening = on_damage(self._damage_met)
        try:
            while not self._stopping.is_set():
                if self._rebuild is None:  # one a stopped process left unfinished
                    try:
                        self._rebuild = resume_rebuild(self.ctx.index_path, self.ctx.settings)
                    except RepairError as exc:
                        self._tell(str(exc))
                        return
                    if self._rebuild is not None and self.events.rebuilding:
                        self.events.rebuilding(self._rebuild.message())
                try:
                    self._watch_index()
                    return
                except Exception as exc:
                    damage = index_damage(exc, self.ctx.index_path)
                    if damage is None:
                        raise
                    identity = damage.identity
                    del damage  # its frames hold the failed connections: let them close
                if not self._repair(identity):
                    return
        finally:
            stop_listening()
            if self._rebuild is not None:
                self._rebuild.release()  # unfinished: the next start goes on with it

    def _repair(self, identity: FileIdentity | None) -> bool:
        """Set the damaged index aside and start rebuilding it; False when that cannot be."""
        self._repairs += 1
        if self._repairs > MAX_REPAIRS:
            self._tell(
                _(
                    "The index {file} was damaged again right after being rebuilt: the disk "
                    "holding it may be failing. Check that disk, then start Lanterne again."
                ).format(file=self.ctx.index_path)
            )
            return False
        with self._embed_lock:
            self._watching.clear()  # vectors wait for the words again
            self._embed_stop.set()
        self._embed_idle.wait(30)  # its connection closed: an open file cannot move on Windows
        if self._rebuild is not None:  # damaged again while rebuilding: claimed anew
            self._rebuild.release()
            self._rebuild = None
        try:
            self._rebuild = claim_repair(
                self.ctx.index_path, self.ctx.settings, identity, float("inf"), self._stopping
            )
        except RepairError as exc:
            self._tell(str(exc))
            return False
        finally:
            if not self._stopping.is_set():
                self._embed_stop.clear()
        if self._rebuild is not None:  # else another process set it aside and rebuilds it
            self._tell(self._rebuild.message())
            if self.events.rebuilding:
                self.events.rebuilding(self._rebuild.message())
        return True

    def _tell(self, message: str) -> None:
        if self.events.error:
            self.events.error(message)

    def _damage_met(self, path: Path, identity: FileIdentity | None) -> None:
        """Damage met elsewhere in this process (search, an answer): repaired here."""
        if path == self.ctx.index_path and identity is not None:
            self._command(partial(self._damaged, identity=identity))

    def _damaged(self, _indexer: Indexer, identity: FileIdentity) -> None:
        if file_identity(self.ctx.index_path) == identity:  # else repaired already
            raise IndexDamagedError(self.ctx.index_path, identity)

    def _watch_index(self) -> None:
        try:
            indexer = self._indexer = self._open_indexer()  # its own connection, on this thread
        except DatabaseUpgradeError as exc:
            if self.events.error:
                self.events.error(str(exc))
            return
        if indexer is None:  # stopped while waiting for room to open the index
            return
        if self._paused:
            indexer.gate.pause()
        try:
            self._add_policy_folders(indexer)
            self._report_status()
            while not self._stopping.is_set():
                self._interrupt.clear()
                try:
                    self._watch_round(indexer)
                except Exception as exc:
                    if not is_disk_full(exc):
                        raise
                    # What was being written was rolled back and its files stay pending: the
                    # next round's reconciliation takes them up again.
                    indexer.stop_readers()  # their memory back while waiting
                    self._room.wait(index_full_error(indexer.store), self._stopping)
        finally:
            indexer.close()

    def _watch_round(self, indexer: Indexer) -> None:
        """Queued commands, then watching until the next command or stop."""
        if self._run_commands(indexer):
            self._report_status()
        if self._stopping.is_set():
            return
        if not indexer.store.folders():  # nothing to watch: wait for a folder
            self._interrupt.wait()
            return
        watch(
            indexer,
            self._interrupt,
            on_batch=self._on_batch,
            on_ready=self._on_ready,
            progress=self._on_progress,
            gate=indexer.gate,
            on_presence=self._on_presence,
        )

    def _open_indexer(self) -> Indexer | None:
        """The index, opened once the disk has room for it (a new one's tables, the -shm);
        None when stopped first."""
        while True:
            try:
                return self.ctx.indexer()
            except Exception as exc:
                if not is_disk_full(exc):
                    raise
                error = DiskFullError(self.ctx.index_path.parent)
                if not self._room.wait(error, self._stopping):
                    return None

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
            except Exception as exc:
                if is_disk_full(exc):  # run again once there is room
                    self._commands.put(command)
                raise
            self._changed.set()

    def _report_status(self) -> None:
        ours = getattr(self._indexer.store.handle, "identity", None) if self._indexer else None
        if ours is not None and file_identity(self.ctx.index_path) != ours:
            # Set aside (`lanterne search` met damage) or deleted meanwhile: follow the new one.
            raise IndexDamagedError(self.ctx.index_path, ours)
        if self.events.status and self._indexer is not None:
            days = self.ctx.settings.get_int("index.missing_folder_days")
            self.events.status(self._indexer.store.status(gone_after_days=days))

    def _on_progress(self, progress: Progress) -> None:
        if progress.done:
            self._room.went_on()  # a file was written: no longer waiting for room
        if progress.done == 0 and progress.total:  # a new folder is listed from its first file
            self._report_status()
        if self.events.progress:
            self.events.progress(progress)

    def _on_ready(self, progress: Progress) -> None:
        self._room.went_on()
        if self._rebuild is not None:  # every folder was read again: the index is whole
            self._rebuild.finish()
            self._rebuild = None
            if self.events.rebuilding:
                self.events.rebuilding(None)
        self._watching.set()
        self._changed.set()
        self._report_status()
        if self.events.ready:
            self.events.ready(progress)

    def _on_presence(self, folder: Path, connected: bool) -> None:
        self._changed.set()
        self._report_status()
        if self.events.presence:
            self.events.presence(folder, connected)

    def _on_batch(self, count: int) -> None:
        self._room.went_on()
        self._changed.set()
        self._report_status()
        if self.events.batch:
            self.events.batch(count)

    def _on_embedded(self, progress: EmbeddingProgress) -> None:
        self._room.went_on()  # a batch of vectors was written
        if self.events.embedding:
            self.events.embedding(progress)

    def _embed(self) -> None:
        while not self._watching.wait(0.5):
            if self._stopping.is_set() or not any(t.is_alive() for t in self._threads[:1]):
                return
        embedder, problem = configured_embedder(self.ctx.settings)
        if embedder is None:
            if problem and self.events.error:
                self.events.error(_("Not embedding: {reason}").format(reason=problem))
            return
        while self._embed_turn():  # at start, and again once a repaired index has its words
            try:
                self._embed_index(embedder)
            except Exception as exc:
                damage = index_damage(exc, self.ctx.index_path)
                if damage is None:
                    raise
                with self._embed_lock:
                    self._watching.clear()  # until the watching thread has seen to it
                self._damage_met(self.ctx.index_path, damage.identity)
            finally:
                self._embed_idle.set()

    def _embed_turn(self) -> bool:
        """Wait until the words are in and no repair is under way; False once stopping."""
        while not self._stopping.is_set():
            if self._watching.wait(0.5):
                with self._embed_lock:
                    if self._watching.is_set() and not self._embed_stop.is_set():
                        self._embed_idle.clear()
                        return True
            elif not self._threads[0].is_alive():
                return False
        return False

    def _embed_index(self, embedder: TextEmbedder) -> None:
        """Embed until stopped or a repair begins."""
        store = self.ctx.open_store()  # its own connection: SQLite wants one per thread

        def wait_turn() -> None:
            GENERATION.wait_idle()  # never slow an answer being read
            if self._indexer is not None:
                self._indexer.gate.wait(self._stopping)

        worker = EmbeddingWorker(store, embedder, wait_turn=wait_turn)
        self._changed.set()  # whatever the last run left unembedded
        try:
            while not self._embed_stop.is_set():
                if self._changed.wait(0.5):
                    self._changed.clear()
                    try:
                        worker.run(self._embed_stop, on_batch=self._on_embedded)
                        self._room.went_on()
                    except Exception as exc:
                        if not is_disk_full(exc):
                            raise
                        error = vectors_full_error(store, worker.model, embedder.dimensions)
                        self._room.wait(error, self._embed_stop)
                        self._changed.set()
        except Exception as exc:
            identity = getattr(store.handle, "identity", None)
            damage = index_damage(exc, self.ctx.index_path, identity)
            if damage is None:
                raise
            raise damage from exc
        finally:
            store.close()
