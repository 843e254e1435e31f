"""Keep the index live while folders change, with watchdog.

Events are only collected on watchdog's thread; the caller's thread applies them in batches once
the folder has been quiet for `debounce` seconds, so a burst (an unzip, a checkout) becomes one
pass and the index keeps a single writer.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from lanterne.indexer.folder_watches import FolderWatches
from lanterne.indexer.ignore_rules import IGNORE_FILE
from lanterne.indexer.indexing import Indexer, Progress, ProgressCallback
from lanterne.indexer.pause_gate import PauseGate


class _Collector(FileSystemEventHandler):
    def __init__(self, sink: queue.Queue[Path]) -> None:
        self.sink = sink

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        # A folder "modified" only says an entry in it changed, and that entry has its own event;
        # taken as a folder change it would re-sync the whole watched folder on every save.
        if event.is_directory and event.event_type == "modified":
            return
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            if raw:
                path = raw.decode() if isinstance(raw, bytes) else raw
                self.sink.put(Path(path))


def apply_changes(indexer: Indexer, changed: set[Path]) -> int:
    """Re-index changed files (read in parallel), sync changed folders, forget what
    disappeared."""
    applied = 0
    files: list[Path] = []
    for path in sorted(changed):
        if path.is_dir():
            for _folder_id, folder in indexer.store.folders():
                if path.is_relative_to(folder):
                    indexer.sync_folder(folder)
                    applied += 1
                    break
        elif path.exists() or path.name == IGNORE_FILE:  # a removed rules file counts too
            files.append(path)
        else:
            indexer.remove_path(path)
            applied += 1
    outcomes = indexer.index_paths(files)
    return applied + sum(outcome is not None for outcome in outcomes.values())


def watch(
    indexer: Indexer,
    stop: threading.Event,
    *,
    debounce: float = 0.3,
    max_wait: float = 1.5,
    readers_idle: float = 60.0,
    gate: PauseGate | None = None,
    on_batch: Callable[[int], None] | None = None,
    on_ready: Callable[[Progress], None] | None = None,
    progress: ProgressCallback | None = None,
    presence_every: float = 5.0,
    on_presence: Callable[[Path, bool], None] | None = None,
) -> None:
    """Watch every folder of the index until `stop` is set.

    The observer starts first, then the folders are reconciled with the index (what changed while
    nothing was watching), then `on_ready` is called: no change can fall between the two.
    Every `presence_every` seconds, folders that went away or came back are told to
    `on_presence` (folder, connected); one that came back is watched and reconciled again.
    """
    events: queue.Queue[Path] = queue.Queue()
    observer = Observer()
    handler = _Collector(events)
    observer.start()
    try:
        watches = FolderWatches(indexer, observer, handler)
        watches.poll()  # the connected folders are watched before they are reconciled
        ready = indexer.sync_all(progress)
        if on_ready:
            on_ready(ready)
        pending: set[Path] = set()
        first_event = last_event = 0.0
        last_look = time.monotonic()
        while not stop.is_set():
            try:
                path = events.get(timeout=0.05)
                last_event = time.monotonic()
                if not pending:
                    first_event = last_event
                pending.add(path)
            except queue.Empty:
                pass
            now = time.monotonic()
            if not pending and now - last_event >= readers_idle:
                indexer.stop_readers()  # quiet for a while: give their memory back
            # Quiet for `debounce`, or a storm that has gone on for `max_wait`: apply what we have.
            if gate is not None and gate.paused:
                continue  # changes wait, unlost, until indexing resumes
            if now - last_look >= presence_every:
                last_look = now
                for folder, connected in watches.poll(progress):
                    if on_presence:
                        on_presence(folder, connected)
            if pending and (now - last_event >= debounce or now - first_event >= max_wait):
                batch, pending = pending, set()
                count = apply_changes(indexer, batch)
                if on_batch:
                    on_batch(count)
    finally:
        observer.stop()
        observer.join(timeout=5)
