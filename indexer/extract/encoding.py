"""Bytes to text for files that do not declare their encoding."""

from __future__ import annotations

from charset_normalizer import from_bytes

from lanterne.indexer.document import ExtractionError
from lanterne.translation import _

_WESTERN = ("cp1252", "latin_1", "iso8859_15")
_WESTERN_MARGIN = 0.1


def decode_text(data: bytes) -> str:
    """Decode with UTF-8 first (by far the most common), then charset detection."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    # NUL bytes are valid UTF-8 but never occur in text (UTF-16, which has them, has a BOM).
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ExtractionError(_("This looks like a binary file, not text."))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        raise ExtractionError(_("The text encoding of this file could not be recognised."))
    # On short French text, detection often ranks a Baltic or Central European code page just
    # above Windows-1252 (seen: "été à Besançon" read as cp1257 "été ą Besanēon"). Our users'
    # legacy files are overwhelmingly Western European, so that near-tie goes to Windows-1252.
    western = next((m for m in matches if m.encoding in _WESTERN), None)
    if western is not None and western.chaos <= best.chaos + _WESTERN_MARGIN:
        return str(western)
    return str(best)
