"""GGUF models other local-AI apps already downloaded, so a user need not fetch them twice.

Each app keeps models its own way: LM Studio and GPT4All as plain `.gguf` files in a folder,
Jan under its data folder, the Hugging Face cache under `snapshots/`, and Ollama as
content-addressed blobs named by a manifest per model and tag. Only files that start with the
GGUF magic are offered, and only the first part of a split model; multimodal projectors
(`mmproj`) are left out because they are not chat models.

A folder or file that exists but cannot be read (permissions, a disk error, a link to a drive
that is not connected) is reported with its reason in words, so that a model the user knows
they have is never just missing; an app that is not installed is no error. Files that vanish
while the scan runs (an app deleting a download) are passed over in silence.
"""

from __future__ import annotations

import errno
import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from lanterne.foundation.translation import _

_MAGIC = b"GGUF"
_MAX_DEPTH = 6
_OLLAMA_MODEL_LAYER = "application/vnd.ollama.image.model"
_UNREACHABLE = {
    getattr(errno, name)
    for name in ("ENOTCONN", "ETIMEDOUT", "ESTALE", "EHOSTDOWN", "EHOSTUNREACH", "ENODEV")
    if hasattr(errno, name)
}

APPS = ("LM Studio", "Ollama", "GPT4All", "Jan", "Hugging Face cache")


@dataclass(frozen=True)
class FoundModel:
    app: str  # "LM Studio", "Ollama", "GPT4All", "Jan", "Hugging Face cache"
    name: str  # as the app shows it
    path: Path
    size: int  # all parts of a split model

    def to_json(self) -> dict[str, object]:
        return {"app": self.app, "name": self.name, "path": str(self.path), "size": self.size}


@dataclass(frozen=True)
class Skipped:
    """A folder or file that is there but could not be read, and why, in words."""

    app: str
    path: Path
    reason: str

    def to_json(self) -> dict[str, object]:
        return {"app": self.app, "path": str(self.path), "reason": self.reason}


@dataclass
class Scan:
    found: list[FoundModel] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def apps(self) -> list[str]:
        """The apps models were found in, in the order of `APPS`."""
        present = {m.app for m in self.found}
        return [app for app in APPS if app in present]

    def to_json(self) -> dict[str, object]:
        return {
            "found": [m.to_json() for m in self.found],
            "skipped": [s.to_json() for s in self.skipped],
        }


# --- Reasons in words ------------------------------------------------------------------------


def folder_reason(error: OSError) -> str:
    """Why a folder that exists could not be listed."""
    if isinstance(error, NotADirectoryError):
        return _("A file stands where this folder should be.")
    if isinstance(error, PermissionError):
        return _("Lanterne is not allowed to open this folder: check its permissions.")
    if error.errno == errno.EIO:
        return _("The disk reported an error while this folder was read.")
    if error.errno in _UNREACHABLE:
        return _(
            "The folder could not be reached: its drive or network share may have been "
            "disconnected."
        )
    if error.errno == errno.ELOOP:
        return _("This folder is a link that leads back to itself.")
    return _("The system could not read this folder ({error}).").format(
        error=error.strerror or error
    )


def file_reason(error: OSError) -> str:
    """Why a model file or an Ollama manifest that exists could not be read."""
    if isinstance(error, PermissionError):
        return _("Lanterne is not allowed to read this file: check its permissions.")
    if error.errno == errno.EIO:
        return _("The disk reported an error while this file was read.")
    if error.errno in _UNREACHABLE:
        return _(
            "The file could not be reached: its drive or network share may have been disconnected."
        )
    return _("The system could not read this file ({error}).").format(error=error.strerror or error)


def _dangling(path: Path) -> str | None:
    """Why `path` is not there when a link on its way leads nowhere (a folder moved to a drive
    that is not connected), or None when it simply does not exist."""
    for p in (path, *path.parents):
        try:
            os.lstat(p)
        except OSError:
            continue  # not there: its folder may be
        try:
            p.stat()
        except FileNotFoundError:  # the entry is there, what it leads to is not: a link
            reason = _(
                "The link {link} points to {target}, which is not there (a drive not connected?)."
            )
            try:
                return reason.format(link=p, target=p.readlink())
            except OSError:  # gone meanwhile
                return None
        except OSError:
            return None
        return None
    return None


def _missing(path: Path) -> bool:
    """Nothing at all at `path`, not even a link (an error reaching it is not missing)."""
    try:
        os.lstat(path)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return False


# --- Plain folders ---------------------------------------------------------------------------

Report = Callable[[Skipped], None]


def _is_gguf(path: Path, app: str, report: Report) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(4) == _MAGIC
    except FileNotFoundError:  # vanished meanwhile, or a link to nothing
        dangling = _dangling(path)
        if dangling is not None:
            report(Skipped(app, path, dangling))
        return False
    except IsADirectoryError:
        return False
    except OSError as exc:
        report(Skipped(app, path, file_reason(exc)))
        return False


def _wanted(path: Path) -> bool:
    name = path.name.lower()
    if "mmproj" in name:
        return False
    return "-of-" not in name or "-00001-of-" in name


def _size(path: Path) -> int | None:
    """All parts of a split model (`-00001-of-00003.gguf`); None when the file vanished."""
    parts = [path]
    if "-00001-of-" in path.name:
        prefix, rest = path.name.split("-00001-of-", 1)
        count = rest.removesuffix(".gguf")
        if count.isdigit():
            n = int(count)
            parts = [path.with_name(f"{prefix}-{i:05d}-of-{count}.gguf") for i in range(1, n + 1)]
    try:
        return path.stat().st_size + sum(p.stat().st_size for p in parts[1:] if p.exists())
    except OSError:
        return None


def _walk(root: Path, app: str, report: Report) -> Iterator[tuple[str, list[str], list[str]]]:
    """os.walk that reports folders it cannot list; a missing one is no error."""

    def failed(exc: OSError) -> None:
        where = Path(exc.filename) if exc.filename else root
        if isinstance(exc, FileNotFoundError):  # not installed, or deleted meanwhile
            dangling = _dangling(where)
            if dangling is not None:
                report(Skipped(app, where, dangling))
            return
        report(Skipped(app, where, folder_reason(exc)))

    base = len(root.parts)
    for folder, dirs, files in os.walk(root, onerror=failed, followlinks=False):
        if len(Path(folder).parts) - base >= _MAX_DEPTH:
            dirs.clear()
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        yield folder, dirs, sorted(files)


def _gguf_files(root: Path, app: str = "", report: Report | None = None) -> Iterator[Path]:
    """`.gguf` files under `root`, not following links out of it, a few levels deep."""
    tell: Report = report or (lambda _skipped: None)
    for folder, _dirs, files in _walk(root, app, tell):
        for f in files:
            path = Path(folder) / f
            if f.lower().endswith(".gguf") and _wanted(path) and _is_gguf(path, app, tell):
                yield path


def _app_data(*parts: str) -> list[Path]:
    """Per-user data folders where desktop apps keep their files, per platform."""
    home = Path.home()
    if sys.platform == "win32":
        roots = [
            Path(os.environ.get(v, "")) for v in ("LOCALAPPDATA", "APPDATA") if v in os.environ
        ]
    elif sys.platform == "darwin":
        roots = [home / "Library" / "Application Support"]
    else:
        roots = [Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share")]
    return [root.joinpath(*parts) for root in roots]


def hf_hub_cache() -> Path:
    """Where huggingface-hub caches downloads, read from the environment as it does."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return Path(os.environ.get("HF_HOME") or cache / "huggingface") / "hub"


def folder_apps() -> list[tuple[str, Path]]:
    """(app, folder) pairs where apps keep plain GGUF files."""
    home = Path.home()
    lmstudio = [home / ".lmstudio" / "models", home / ".cache" / "lm-studio" / "models"]
    gpt4all = _app_data("nomic.ai", "GPT4All")
    jan = [home / "jan" / "models", *[p / "data" / "llamacpp" / "models" for p in _app_data("Jan")]]
    hf_cache = [hf_hub_cache()]
    return (
        [("LM Studio", p) for p in lmstudio]
        + [("GPT4All", p) for p in gpt4all]
        + [("Jan", p) for p in jan]
        + [("Hugging Face cache", p) for p in hf_cache]
    )


# --- Ollama ----------------------------------------------------------------------------------


def ollama_models_dir() -> Path:
    if os.environ.get("OLLAMA_MODELS"):
        return Path(os.environ["OLLAMA_MODELS"])
    return Path.home() / ".ollama" / "models"


def _ollama_layers(manifest: Path, report: Report) -> list[object]:
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        dangling = _dangling(manifest)
        if dangling is not None:
            report(Skipped("Ollama", manifest, dangling))
        return []
    except OSError as exc:
        report(Skipped("Ollama", manifest, file_reason(exc)))
        return []
    except ValueError:
        data = None
    layers = data.get("layers") if isinstance(data, dict) else None
    if not isinstance(layers, list):
        report(Skipped("Ollama", manifest, _("This Ollama manifest is damaged.")))
        return []
    return layers


def _ollama_name(rel: tuple[str, ...]) -> str:
    """`registry.ollama.ai/library/qwen3/8b` -> `qwen3:8b`; other namespaces are kept."""
    model, tag = (rel[-2], rel[-1]) if len(rel) >= 2 else (rel[-1], "latest")
    namespace = rel[-3] if len(rel) >= 3 and rel[-3] != "library" else ""
    return f"{namespace + '/' if namespace else ''}{model}:{tag}"


def ollama_models(root: Path, report: Report | None = None) -> Iterator[FoundModel]:
    """Each model:tag in Ollama's manifests whose model layer is a GGUF blob."""
    tell: Report = report or (lambda _skipped: None)
    manifests = root / "manifests"
    for folder, _dirs, files in _walk(manifests, "Ollama", tell):
        for f in files:
            if f.startswith("."):  # .DS_Store and the like: no manifest
                continue
            manifest = Path(folder) / f
            for layer in _ollama_layers(manifest, tell):
                if not isinstance(layer, dict) or layer.get("mediaType") != _OLLAMA_MODEL_LAYER:
                    continue
                digest = str(layer.get("digest", "")).replace(":", "-")
                blob = root / "blobs" / digest
                if _missing(blob):
                    reason = _("The model file this manifest names is missing: {blob}").format(
                        blob=blob
                    )
                    tell(Skipped("Ollama", manifest, reason))
                    continue
                size = _size(blob) if _is_gguf(blob, "Ollama", tell) else None
                if size is not None:
                    name = _ollama_name(manifest.relative_to(manifests).parts)
                    yield FoundModel("Ollama", name, blob, size)


# --- Everything ------------------------------------------------------------------------------


def scan() -> Scan:
    """Every GGUF model found in the other apps' folders, each file once, and what could not
    be read with its reason."""
    result = Scan()
    seen: set[str] = set()
    reported: set[Path] = set()

    def report(skipped: Skipped) -> None:
        if skipped.path not in reported:
            reported.add(skipped.path)
            result.skipped.append(skipped)

    def add(model: FoundModel) -> None:
        real = os.path.realpath(model.path)
        if real not in seen:
            seen.add(real)
            result.found.append(model)

    for app, folder in folder_apps():
        for path in _gguf_files(folder, app, report):
            size = _size(path)
            if size is not None:
                add(FoundModel(app, path.name.removesuffix(".gguf"), path, size))
    for model in ollama_models(ollama_models_dir(), report):
        add(model)
    return result


def find_models() -> list[FoundModel]:
    """Every GGUF model found in the other apps' folders, each file once."""
    return scan().found
