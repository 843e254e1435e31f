"""watchdog's watches of the connected folders, kept in step as folders go away and come back.

A folder that is not connected is not watched: watchdog cannot watch what is not there, and a
watch on the empty folder a drive is mounted on would never see the drive's files. `poll()` looks
at every folder (a stat or two each): one that went away loses its watch (its documents stay);
one that came back, or whose root is another folder than before (a drive unmounted and mounted
again between two looks), is watched afresh and brought in line with the index, which reads only
what changed.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from watchdog.events import FileSystemEventHandler
from watchdog.observers.api import BaseObserver, ObservedWatch

from lanterne.indexer import folder_presence
from lanterne.indexer.indexing import Indexer, ProgressCallback

_Identity = tuple[int, int] | None  # the root's (device, inode) while connected


class FolderWatches:
    def __init__(
        self, indexer: Indexer, observer: BaseObserver, handler: FileSystemEventHandler
    ) -> None:
        self.indexer = indexer
        self.observer = observer
        self.handler = handler
        self._watches: dict[Path, ObservedWatch] = {}
        self._identities: dict[Path, _Identity] = {}

    def poll(self, progress: ProgressCallback | None = None) -> list[tuple[Path, bool]]:
        """Watch what is connected, stop watching what is not; (folder, connected) for each
        folder that went away or came back since the last poll (none at the first)."""
        changes = []
        folders = self.indexer.store.folders()
        for folder_id, folder in folders:
            identity = self._identity(folder_id, folder)
            first = folder not in self._identities
            before = self._identities.get(folder)
            if not first and identity == before:
                if identity is not None and folder not in self._watches:
                    self._watch(folder)  # its watch could not be made last time
                continue
            self._identities[folder] = identity
            self._unwatch(folder)
            if identity is not None:
                self._watch(folder)
            if first:
                continue
            if identity is not None:
                self.indexer.sync_folder(folder, progress)  # only what changed is read
            if (identity is None) != (before is None):
                changes.append((folder, identity is not None))
        for gone in set(self._identities) - {folder for _id, folder in folders}:
            del self._identities[gone]
            self._unwatch(gone)
        return changes

    def _identity(self, folder_id: int, folder: Path) -> _Identity:
        if not folder_presence.note(self.indexer.store.db, folder_id, folder).connected:
            return None
        try:
            st = folder.stat()
        except OSError:
            return None
        return st.st_dev, st.st_ino

    def _watch(self, folder: Path) -> None:
        with contextlib.suppress(OSError):  # gone meanwhile, or no watch left: tried again
            self._watches[folder] = self.observer.schedule(
                self.handler, str(folder), recursive=True
            )

    def _unwatch(self, folder: Path) -> None:
        watch = self._watches.pop(folder, None)
        if watch is not None:
            with contextlib.suppress(KeyError, OSError):  # its watch ended with the folder
                self.observer.unschedule(watch)
