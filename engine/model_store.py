"""The models this machine has: downloaded from the catalog, or imported from a local file.

A small JSON registry in the data directory, written atomically (a crash never leaves half a
file). Downloaded models live in Lanterne's models folder and are deleted with their entry;
imported ones stay where the user keeps them (a network share included) unless copied, and
removing their entry never touches the file.

Windows refuses to delete a file another process has open or mapped (llama.cpp maps the model
it answers with, an antivirus may be scanning a fresh download): deleting waits a moment for
it, then says in words what holds it, and the entry stays until its files are gone.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from lanterne.engine.errors import EngineError
from lanterne.engine.gguf_header import GGUFSummary, read_summary
from lanterne.foundation.atomic_file import write_text_atomic
from lanterne.foundation.translation import _

FORMAT = 1
RETRY_PAUSES_S = (0.1, 0.25, 0.5, 1.0)  # how long Windows is given to let go of a file


class ModelStoreError(EngineError):
    """A registry problem the user can act on (unknown name, unreadable file…)."""


@dataclass(frozen=True)
class InstalledModel:
    name: str  # what the user types: the catalog id, or the imported file's stem
    path: str  # the first (or only) GGUF file
    files: tuple[str, ...]
    size: int
    source: str  # "catalog" (downloaded) or "import"
    architecture: str = ""
    catalog_id: str | None = None
    quant: str | None = None
    repo: str | None = None
    revision: str | None = None  # the commit the files came from
    sha256: tuple[str, ...] = ()  # verified against the hub, one per file
    copied: bool = False  # an import copied into the models folder (deleted on remove)
    added: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @property
    def owned(self) -> bool:
        """Whether the files are Lanterne's to delete."""
        return self.source == "catalog" or self.copied

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["files"] = list(self.files)
        data["sha256"] = list(self.sha256)
        return data


class ModelStore:
    def __init__(self, registry: Path, models_dir: Path) -> None:
        self.registry = registry
        self.models_dir = models_dir

    def _read(self) -> list[InstalledModel]:
        if not self.registry.exists():
            return []
        try:
            raw = json.loads(self.registry.read_text(encoding="utf-8"))
            return [
                InstalledModel(
                    **{
                        **m,
                        "files": tuple(m["files"]),
                        "sha256": tuple(m.get("sha256", ())),
                    }
                )
                for m in raw["models"]
            ]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelStoreError(
                _(
                    "The model list {path} is damaged ({error}); move it aside to start afresh."
                ).format(path=self.registry, error=exc)
            ) from exc

    def _write(self, models: list[InstalledModel]) -> None:
        self.registry.parent.mkdir(parents=True, exist_ok=True)
        data = {"format": FORMAT, "models": [m.to_json() for m in models]}
        write_text_atomic(self.registry, json.dumps(data, indent=2, ensure_ascii=False) + "\n")

    def list(self) -> list[InstalledModel]:
        return self._read()

    def find(self, name: str) -> InstalledModel | None:
        key = name.strip().lower()
        for m in self._read():
            if m.name.lower() == key or m.catalog_id == key:
                return m
        return None

    def get(self, name: str) -> InstalledModel:
        found = self.find(name)
        if found is None:
            names = ", ".join(m.name for m in self._read()) or _("none yet")
            raise ModelStoreError(
                _("No installed model named '{name}'. Installed: {names}.").format(
                    name=name, names=names
                )
            )
        return found

    def add(self, model: InstalledModel) -> InstalledModel:
        """Register `model`, replacing an entry of the same name."""
        models = [m for m in self._read() if m.name.lower() != model.name.lower()]
        models.append(model)
        self._write(models)
        return model

    def remove(self, name: str) -> InstalledModel:
        """Unregister `name`; delete its files only if Lanterne downloaded or copied them."""
        model = self.get(name)
        if model.owned:
            for f in model.files:
                delete_file(Path(f))
        self._write([m for m in self._read() if m.name != model.name])
        return model

    def unique_name(self, wanted: str) -> str:
        taken = {m.name.lower() for m in self._read()}
        name, n = wanted, 2
        while name.lower() in taken:
            name, n = f"{wanted}-{n}", n + 1
        return name

    def import_file(
        self, path: Path, *, name: str | None = None, copy: bool = False
    ) -> InstalledModel:
        """Register a local GGUF after reading its header; copy it (all parts) if asked."""
        path = path.expanduser().absolute()
        summary: GGUFSummary = read_summary(path)  # raises ModelLoadError with the reason
        files = [Path(f) for f in summary.files]
        if copy:
            target = self.models_dir / "imported"
            target.mkdir(parents=True, exist_ok=True)
            free = shutil.disk_usage(target).free
            if free < summary.file_bytes:
                raise ModelStoreError(
                    _("Not enough disk space in {folder} to copy {name}.").format(
                        folder=target, name=path.name
                    )
                )
            copied = []
            for f in files:
                dest = target / f.name
                shutil.copy2(f, dest)
                copied.append(dest)
            files = copied
        existing = next((m for m in self._read() if Path(m.path) == files[0]), None)
        model = InstalledModel(
            name=name or (existing.name if existing else self.unique_name(_stem(files[0]))),
            path=str(files[0]),
            files=tuple(str(f) for f in files),
            size=summary.file_bytes,
            source="import",
            architecture=summary.architecture,
            copied=copy,
        )
        return self.add(model)

    def record_download(self, model: InstalledModel) -> InstalledModel:
        existing = self.find(model.name)
        if existing is not None:
            model = replace(model, added=existing.added)
        return self.add(model)


def delete_file(path: Path) -> None:
    """Delete a model file that may be missing already. On Windows a file in use cannot be
    deleted: retried briefly, then a ModelStoreError that says so."""
    windows = sys.platform == "win32"  # elsewhere an open or mapped file deletes at once
    pauses = RETRY_PAUSES_S if windows else ()
    for attempt in range(len(pauses) + 1):
        try:
            path.unlink()
            return
        except FileNotFoundError:
            return
        except PermissionError as exc:
            if attempt < len(pauses):
                time.sleep(pauses[attempt])
                continue
            if windows:
                message = _(
                    "Lanterne or another program is using this model file ({path}); "
                    "close it and try again."
                )
            else:
                message = _(
                    "Lanterne is not allowed to delete the model file {path}; "
                    "check the permissions of its folder."
                )
            raise ModelStoreError(message.format(path=path)) from exc


def _stem(path: Path) -> str:
    """`Qwen3-30B-A3B-Q4_K_M-00001-of-00002.gguf` -> `Qwen3-30B-A3B-Q4_K_M`."""
    stem = path.name.removesuffix(".gguf")
    if "-00001-of-" in stem:
        stem = stem.split("-00001-of-")[0]
    return stem
