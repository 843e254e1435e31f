"""Office, OpenDocument and EPUB files are zip archives: refuse bombs and fakes before parsing."""

from __future__ import annotations

import io
import zipfile

from lanterne.indexer.document import ExtractionError
from lanterne.translation import _

MAX_UNPACKED = 512 * 1024**2  # more than this inside a zip is a bomb, not a document


def check_zip(data: bytes, kind: str) -> zipfile.ZipFile:
    """The archive, opened, once its declared unpacked size is known to be sane."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise ExtractionError(
            _("The {kind} file is damaged or not really a {kind} file.").format(kind=kind)
        ) from exc
    if unpacked > MAX_UNPACKED:
        raise ExtractionError(
            _(
                "The {kind} file unpacks to {size} MB, too much for a document (a zip bomb?)."
            ).format(kind=kind, size=unpacked // 1024**2)
        )
    return archive
