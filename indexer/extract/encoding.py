"""Bytes to text for files that do not declare their encoding."""

from __future__ import annotations

from charset_normalizer import from_bytes

from lanterne.indexer.document import ExtractionError
from lanterne.translation import _


def decode_text(data: bytes) -> str:
    """Decode with UTF-8 first (by far the most common), then charset detection."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ExtractionError(_("This looks like a binary file, not text."))
    best = from_bytes(data).best()
    if best is None:
        raise ExtractionError(_("The text encoding of this file could not be recognised."))
    return str(best)
