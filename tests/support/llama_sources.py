"""The chat templates and tokenizers of the llama.cpp that the installed llama-cpp-python vendors.

Tests build tiny models of every catalog architecture with each family's *real* chat template and
(where llama.cpp ships it) real tokenizer. Those files are in llama-cpp-python's source
distribution (`vendor/llama.cpp/models/templates/*.jinja`, `models/ggml-vocab-*.gguf`), not in
the installed package, so the sdist of exactly the installed version is found (the benchmarks'
cache, or this cache) or fetched from the package index, as `pip` fetched it to build the
wheel, and only those files are unpacked, once, into the test cache.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Final

import llama_cpp

VERSION: Final = str(llama_cpp.__version__)
SDIST_NAME: Final = f"llama_cpp_python-{VERSION}.tar.gz"
TEST_CACHE: Final = Path(
    os.environ.get("LANTERNE_TEST_CACHE", Path.home() / ".cache" / "lanterne-tests")
)
BENCH_SDIST: Final = (
    Path.home() / ".cache" / "lanterne-bench" / f"llama-bench-{VERSION}" / SDIST_NAME
)
_WANTED: Final = ("/vendor/llama.cpp/models/templates/", "/vendor/llama.cpp/models/ggml-vocab-")


def _sdist() -> Path:
    for candidate in (BENCH_SDIST, TEST_CACHE / SDIST_NAME):
        if candidate.is_file():
            return candidate
    TEST_CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=TEST_CACHE) as scratch:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--no-binary",
                ":all:",
                "--dest",
                scratch,
                f"llama-cpp-python=={VERSION}",
            ],
            check=True,
        )
        return Path(shutil.move(Path(scratch) / SDIST_NAME, TEST_CACHE / SDIST_NAME))


def models_dir() -> Path:
    """llama.cpp's `models/` folder (templates and vocabularies only), unpacked once."""
    target = TEST_CACHE / f"llama-cpp-{VERSION}-models"
    done = target / ".complete"
    if done.exists():
        return target
    with tempfile.TemporaryDirectory(dir=TEST_CACHE if TEST_CACHE.exists() else None) as tmp:
        scratch = Path(tmp) / "models"
        (scratch / "templates").mkdir(parents=True)
        with tarfile.open(_sdist()) as archive:
            for member in archive:
                if not member.isfile() or not any(w in member.name for w in _WANTED):
                    continue
                name = member.name.rsplit("/models/", 1)[1]
                source = archive.extractfile(member)
                assert source is not None
                with source, (scratch / name).open("wb") as out:
                    shutil.copyfileobj(source, out)
        (scratch / ".complete").write_text(VERSION, encoding="utf-8")
        shutil.rmtree(target, ignore_errors=True)
        shutil.move(scratch, target)
    return target


def chat_template(name: str) -> str:
    """A real chat template by its file name in llama.cpp, without `.jinja`."""
    return (models_dir() / "templates" / f"{name}.jinja").read_text(encoding="utf-8")


def vocab_file(name: str) -> Path:
    """`ggml-vocab-<name>.gguf`: a real tokenizer (no weights) that llama.cpp tests with."""
    path = models_dir() / f"ggml-vocab-{name}.gguf"
    if not path.is_file():
        raise FileNotFoundError(path)
    return path
