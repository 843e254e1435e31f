"""Office, OpenDocument and EPUB files are zip archives: refuse bombs and fakes before parsing."""

from __future__ import annotations

import io
import zipfile
import zlib

from lanterne.indexer.document import ExtractionError
from lanterne.indexer.reasons import NOT_REALLY, ZIP_BOMB, damaged, worded

MAX_UNPACKED = 512 * 1024**2  # more than this inside a zip is a bomb, not a document


def check_zip(data: bytes, kind: str) -> zipfile.ZipFile:
    """The archive, opened, once its declared unpacked size is known to be sane."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise ExtractionError(worded(NOT_REALLY, kind=kind)) from exc
    if unpacked > MAX_UNPACKED:
        raise ExtractionError(worded(ZIP_BOMB, kind=kind, size=unpacked // 1024**2))
    return archive


# What reading a member of a damaged archive raises: a bad CRC or header (BadZipFile), a broken
# deflate stream (zlib.error), an impossible size or offset (ValueError, EOFError), an unknown
# compression method (NotImplementedError), an encrypted member (RuntimeError, from zipfile).
MEMBER_ERRORS = (
    KeyError,
    zipfile.BadZipFile,
    zlib.error,
    ValueError,
    EOFError,
    NotImplementedError,
    RuntimeError,
)


def read_member(archive: zipfile.ZipFile, name: str, kind: str) -> bytes:
    """A member's bytes; a missing or damaged member is the whole file's reason."""
    try:
        return archive.read(name)
    except MEMBER_ERRORS as exc:
        raise ExtractionError(damaged(kind)) from exc
