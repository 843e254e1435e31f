"""The models the user asked for, fetched one after another while they go on working.

The wish is written down (`downloads.json` in the data folder) before the first byte comes, and
crossed out only once the files are verified and registered: quitting, a crash or a lost
network mid-download leaves it there, and the next start goes on from where the partial file
stopped (the hub download resumes by range). A download the user cancels is crossed out; its
partial file stays for a later resume.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from lanterne.engine.hub_download import Progress, ProgressCallback
from lanterne.engine.model_store import InstalledModel
from lanterne.foundation import paths
from lanterne.foundation.atomic_file import write_text_atomic
from lanterne.foundation.settings import SettingsError
from lanterne.foundation.translation import _, format_size
from lanterne.model_library import ModelLibrary

FORMAT = 1


@dataclass(frozen=True)
class Wanted:
    model_id: str
    quant: str
    error: str = ""  # why the last try failed, in words; kept for the next start to say

    @property
    def key(self) -> tuple[str, str]:
        return self.model_id, self.quant


def downloads_path() -> Path:
    return paths.data_dir() / "downloads.json"


class DownloadQueue:
    """The list of wanted downloads, in the order they were asked for."""

    def __init__(self, library: ModelLibrary, path: Path | None = None) -> None:
        self.library = library
        self.path = path or downloads_path()
        self._lock = threading.Lock()

    def wanted(self) -> list[Wanted]:
        """What is still to fetch. An unreadable list is treated as empty: it only ever holds
        wishes that the user can make again, never their data."""
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            return [
                Wanted(str(w["model_id"]), str(w["quant"]), str(w.get("error", "")))
                for w in raw["wanted"]
            ]
        except (OSError, ValueError, KeyError, TypeError):
            return []

    def _write(self, wanted: list[Wanted]) -> None:
        data = {"format": FORMAT, "wanted": [asdict(w) for w in wanted]}
        write_text_atomic(self.path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")

    def add(self, model_id: str, quant: str | None = None) -> Wanted:
        """Queue a catalog model; refused in words when the catalog or the organisation says
        no, so the wish is never kept for something that cannot happen."""
        if not self.library.settings.policy.downloads:
            raise SettingsError(_("Model downloads are turned off by your organisation."))
        model = self.library.catalog.get(model_id)
        self.library.settings.check_model(model.id)
        wanted = Wanted(model.id, model.quant(quant).name)
        with self._lock:
            queue = [w for w in self.wanted() if w.key != wanted.key]
            self._write([*queue, wanted])
        return wanted

    def remove(self, wanted: Wanted) -> None:
        with self._lock:
            queue = self.wanted()
            if any(w.key == wanted.key for w in queue):
                self._write([w for w in queue if w.key != wanted.key])

    def note_failure(self, wanted: Wanted, error: str) -> Wanted:
        failed = Wanted(wanted.model_id, wanted.quant, error)
        with self._lock:
            self._write([failed if w.key == wanted.key else w for w in self.wanted()])
        return failed

    def fetch(
        self,
        wanted: Wanted,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> InstalledModel:
        """Download, verify and register one wanted model, then cross it out. The first chat
        model to arrive is put to use when none is (ModelLibrary.download does that)."""
        installed = self.library.download(
            wanted.model_id, wanted.quant, progress=progress, cancel=cancel
        )
        self.remove(wanted)
        return installed

    def name(self, wanted: Wanted) -> str:
        return self.library.catalog.get(wanted.model_id).name


def about(seconds: float | None) -> str:
    """A remaining time as people say it: "about 3 min", "about 40 s", "about 1 h 10 min"."""
    if seconds is None:
        return _("time left unknown")
    whole = max(1, round(seconds))
    if whole < 60:
        return _("about {seconds} s").format(seconds=whole)
    minutes = round(whole / 60)
    if minutes < 60:
        return _("about {minutes} min").format(minutes=minutes)
    return _("about {hours} h {minutes} min").format(hours=minutes // 60, minutes=minutes % 60)


def waiting_text(progress: Progress | None) -> str:
    """What a question asked before the model is here waits for, said in the question box
    and on the waiting turn."""
    if progress is None:
        return _("The model is downloading: starting…")
    if progress.stage == "verifying":
        return _("The model is downloaded and being checked: {done} of {total}.").format(
            done=format_size(progress.done), total=format_size(progress.total)
        )
    return _("The model is downloading: {done} of {total}, {left}.").format(
        done=format_size(progress.done), total=format_size(progress.total), left=about(progress.eta)
    )
