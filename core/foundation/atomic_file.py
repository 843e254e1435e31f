"""Writing a small file so that a crash or a full disk never leaves half of it.

The text goes to a temporary file beside the target, is flushed to the disk, and only then
replaces the target: readers see the old file or the new one, never a mix. On a full disk the
old file stays, no temporary file is left, and the error names the folder.
"""

from __future__ import annotations

import os
from pathlib import Path

from lanterne.foundation.db_faults import DiskFullError, is_disk_full


def write_text_atomic(path: Path, text: str, *, what_now: str = "") -> None:
    """`what_now`: said after the disk-full message (what stays in force, what to do)."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with tmp.open("w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())  # some file systems say the disk is full only here
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if is_disk_full(exc):
            raise DiskFullError(path.parent, len(text.encode("utf-8")), what_now) from exc
        raise
