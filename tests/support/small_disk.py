"""A small filesystem made by the tests (a tmpfs, which needs root, as CI runs), filled up by a
file of the test's own and freed again by deleting it, as a user would."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

needs_root = pytest.mark.skipif(
    sys.platform != "linux" or os.geteuid() != 0,
    reason="a small filesystem is mounted as a tmpfs, which needs root on Linux",
)

FILLER = "filler.bin"


@contextlib.contextmanager
def small_disk(folder: Path, size_mb: float) -> Iterator[Path]:
    """`folder`, a tmpfs of `size_mb` megabytes until the block ends."""
    folder.mkdir(parents=True, exist_ok=True)
    size_kb = int(size_mb * 1024)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k,mode=0755", "tmpfs", str(folder)],
        check=True,
    )
    try:
        yield folder
    finally:
        # Lazily: a thread of a failed test may still hold a file open there.
        subprocess.run(["umount", "--lazy", str(folder)], check=False)


def free(folder: Path) -> int:
    return shutil.disk_usage(folder).free


def fill(folder: Path, leave: int = 0) -> Path:
    """A file taking all the free space of `folder`'s disk but `leave` bytes."""
    filler = folder / FILLER
    size = free(folder) - leave
    if size > 0:
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.posix_fallocate(fd, 0, size)
        finally:
            os.close(fd)
    return filler
