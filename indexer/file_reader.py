"""One file in, passages and their stems out: all the work of indexing a file except writing it.

Pure and picklable both ways, so that it runs in the reader processes (indexer/reader_pool.py)
where a hostile file can be stopped without stopping the index.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from lanterne.foundation.stemming import stem_text
from lanterne.indexer import reasons
from lanterne.indexer.chunker import Chunk, chunk_document
from lanterne.indexer.document import ExtractionError
from lanterne.indexer.extract import extract
from lanterne.indexer.regular_file import open_regular

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReadJob:
    path: Path
    previous_sha256: str | None  # the indexed content's hash: equal means nothing to redo
    chunk_chars: int
    chunk_overlap: int


@dataclass(frozen=True)
class Version:
    """Size and modification time of the bytes actually read. Recorded instead of the scan's,
    so a file rewritten between the scan and the read is not kept with the newer text under
    the older stamp (the next scan would then skip the change, or keep a stale size)."""

    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Unchanged:
    version: Version


@dataclass(frozen=True)
class Passages:
    sha256: str
    title: str | None
    chunks: list[Chunk]
    stems: list[tuple[str, str]]  # (text, heading) of each chunk, as the FTS table stores them
    version: Version


@dataclass(frozen=True)
class Unreadable:
    reason: str
    sha256: str | None = None


ReadOutcome = Unchanged | Passages | Unreadable


_READ_ATTEMPTS = 3


def _read_still(path: Path) -> tuple[bytes, Version] | None:
    """The file's bytes and their version, or None if it kept changing while being read."""
    for attempt in range(_READ_ATTEMPTS):
        with open_regular(path) as handle:  # a pipe put in its place must not block
            before = os.fstat(handle.fileno())
            data = handle.read()
            after = os.fstat(handle.fileno())
        if (before.st_size, before.st_mtime_ns) == (after.st_size, after.st_mtime_ns) and len(
            data
        ) == after.st_size:
            return data, Version(after.st_size, after.st_mtime_ns)
        time.sleep(0.05 * (attempt + 1))  # being written: let the writer finish
    return None


def read_file(job: ReadJob) -> ReadOutcome:
    try:
        read = _read_still(job.path)
    except OSError as exc:
        return Unreadable(reasons.os_reason(exc))
    if read is None:
        return Unreadable(reasons.worded(reasons.KEPT_CHANGING))
    data, version = read
    digest = hashlib.sha256(data).hexdigest()
    if digest == job.previous_sha256:
        return Unchanged(version)
    try:
        doc = extract(job.path, data)
        chunks = chunk_document(doc, job.chunk_chars, job.chunk_overlap)
    except ExtractionError as exc:
        return Unreadable(exc.reason, digest)
    except MemoryError:
        return Unreadable(reasons.worded(reasons.TOO_MUCH_MEMORY), digest)
    except Exception:  # a hostile or broken file must never stop the whole index
        logger.debug("Unexpected error while reading %s", job.path, exc_info=True)
        return Unreadable(reasons.worded(reasons.UNEXPECTED), digest)
    stems = [(stem_text(c.text, c.lang), stem_text(c.heading, c.lang)) for c in chunks]
    return Passages(digest, doc.title, chunks, stems, version)
