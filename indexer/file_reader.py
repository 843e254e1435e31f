"""One file in, passages and their stems out: all the work of indexing a file except writing it.

Pure and picklable both ways, so that it runs in the reader processes (indexer/reader_pool.py)
where a hostile file can be stopped without stopping the index.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from lanterne.indexer.chunker import Chunk, chunk_document
from lanterne.indexer.document import ExtractionError
from lanterne.indexer.extract import extract
from lanterne.indexer.stemming import stem_text
from lanterne.translation import _


@dataclass(frozen=True)
class ReadJob:
    path: Path
    previous_sha256: str | None  # the indexed content's hash: equal means nothing to redo
    chunk_chars: int
    chunk_overlap: int


@dataclass(frozen=True)
class Unchanged:
    pass


@dataclass(frozen=True)
class Passages:
    sha256: str
    title: str | None
    chunks: list[Chunk]
    stems: list[tuple[str, str]]  # (text, heading) of each chunk, as the FTS table stores them


@dataclass(frozen=True)
class Unreadable:
    reason: str
    sha256: str | None = None


ReadOutcome = Unchanged | Passages | Unreadable


def read_file(job: ReadJob) -> ReadOutcome:
    try:
        data = job.path.read_bytes()
    except OSError as exc:
        reason = _("The file could not be read: {error}").format(error=exc.strerror or exc)
        return Unreadable(reason)
    digest = hashlib.sha256(data).hexdigest()
    if digest == job.previous_sha256:
        return Unchanged()
    try:
        doc = extract(job.path, data)
        chunks = chunk_document(doc, job.chunk_chars, job.chunk_overlap)
    except ExtractionError as exc:
        return Unreadable(exc.reason, digest)
    except MemoryError:
        return Unreadable(_("Reading this file needed too much memory."), digest)
    except Exception as exc:  # a hostile or broken file must never stop the whole index
        reason = _("Unexpected error while reading this file: {error}").format(
            error=f"{type(exc).__name__}: {exc}"
        )
        return Unreadable(reason, digest)
    stems = [(stem_text(c.text, c.lang), stem_text(c.heading, c.lang)) for c in chunks]
    return Passages(digest, doc.title, chunks, stems)
