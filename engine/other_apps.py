"""GGUF models other local-AI apps already downloaded, so a user need not fetch them twice.

Each app keeps models its own way: LM Studio and GPT4All as plain `.gguf` files in a folder,
Jan under its data folder, the Hugging Face cache under `snapshots/`, and Ollama as
content-addressed blobs named by a manifest per model and tag. Only files that start with the
GGUF magic are offered, and only the first part of a split model; multimodal projectors
(`mmproj`) are left out because they are not chat models.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_MAGIC = b"GGUF"
_MAX_DEPTH = 6
_OLLAMA_MODEL_LAYER = "application/vnd.ollama.image.model"


@dataclass(frozen=True)
class FoundModel:
    app: str  # "LM Studio", "Ollama", "GPT4All", "Jan", "Hugging Face cache"
    name: str  # as the app shows it
    path: Path
    size: int

    def to_json(self) -> dict[str, object]:
        return {"app": self.app, "name": self.name, "path": str(self.path), "size": self.size}


def _is_gguf(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(4) == _MAGIC
    except OSError:
        return False


def _wanted(path: Path) -> bool:
    name = path.name.lower()
    if "mmproj" in name:
        return False
    return "-of-" not in name or "-00001-of-" in name


def _gguf_files(root: Path) -> Iterator[Path]:
    """`.gguf` files under `root`, not following links out of it, a few levels deep."""
    if not root.is_dir():
        return
    base = len(root.parts)
    for folder, dirs, files in os.walk(root, followlinks=False):
        if len(Path(folder).parts) - base >= _MAX_DEPTH:
            dirs.clear()
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for f in files:
            path = Path(folder) / f
            if f.lower().endswith(".gguf") and _wanted(path) and _is_gguf(path):
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


def ollama_models_dir() -> Path:
    if os.environ.get("OLLAMA_MODELS"):
        return Path(os.environ["OLLAMA_MODELS"])
    return Path.home() / ".ollama" / "models"


def ollama_models(root: Path) -> Iterator[FoundModel]:
    """Each model:tag in Ollama's manifests whose model layer is a GGUF blob."""
    manifests = root / "manifests"
    if not manifests.is_dir():
        return
    for manifest in sorted(p for p in manifests.rglob("*") if p.is_file()):
        try:
            layers = json.loads(manifest.read_text(encoding="utf-8")).get("layers", [])
        except (OSError, ValueError, AttributeError):
            continue
        for layer in layers:
            if not isinstance(layer, dict) or layer.get("mediaType") != _OLLAMA_MODEL_LAYER:
                continue
            digest = str(layer.get("digest", "")).replace(":", "-")
            blob = root / "blobs" / digest
            if _is_gguf(blob):
                rel = manifest.relative_to(manifests).parts
                model, tag = (rel[-2], rel[-1]) if len(rel) >= 2 else (rel[-1], "latest")
                namespace = rel[-3] if len(rel) >= 3 and rel[-3] != "library" else ""
                name = f"{namespace + '/' if namespace else ''}{model}:{tag}"
                yield FoundModel("Ollama", name, blob, blob.stat().st_size)


def find_models() -> list[FoundModel]:
    """Every GGUF model found in the other apps' folders, each file once."""
    found: list[FoundModel] = []
    seen: set[Path] = set()
    for app, folder in folder_apps():
        for path in _gguf_files(folder):
            real = path.resolve()
            if real not in seen:
                seen.add(real)
                found.append(
                    FoundModel(app, path.name.removesuffix(".gguf"), path, real.stat().st_size)
                )
    for model in ollama_models(ollama_models_dir()):
        real = model.path.resolve()
        if real not in seen:
            seen.add(real)
            found.append(model)
    return found
