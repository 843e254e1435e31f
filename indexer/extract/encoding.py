"""Bytes to text for files that do not declare their encoding."""

from __future__ import annotations

from charset_normalizer import from_bytes

from lanterne.indexer.document import ExtractionError
from lanterne.indexer.reasons import BINARY, UNKNOWN_ENCODING, worded

_WESTERN = ("cp1252", "latin_1", "iso8859_15")
_WESTERN_MARGIN = 0.1


def decode_text(data: bytes) -> str:
    """Decode with UTF-8 first (by far the most common), then charset detection."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    # NUL bytes are valid UTF-8 but never occur in text, save UTF-16: with a BOM, or without
    # one as some Windows tools write it (a NUL in every other byte of Latin text).
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = _utf16_without_bom(data)
        if text is None:
            raise ExtractionError(worded(BINARY))
        return text
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        raise ExtractionError(worded(UNKNOWN_ENCODING))
    # On short French text, detection often ranks a Baltic or Central European code page just
    # above Windows-1252 (seen: "été à Besançon" read as cp1257 "été ą Besanēon"). Our users'
    # legacy files are overwhelmingly Western European, so that near-tie goes to Windows-1252.
    western = next((m for m in matches if m.encoding in _WESTERN), None)
    if western is not None and western.chaos <= best.chaos + _WESTERN_MARGIN:
        return str(western)
    return str(best)


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text of a Latin script has a NUL as every high byte; then it decodes to
    printable text. Anything else with NULs is binary."""
    sample = data[:8192] if len(data) % 2 == 0 else b""
    if len(sample) < 8:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    half = len(sample) // 2
    if odd >= half * 0.6 and even <= half * 0.05:
        encoding = "utf-16-le"
    elif even >= half * 0.6 and odd <= half * 0.05:
        encoding = "utf-16-be"
    else:
        return None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return None
    printable = sum(c.isprintable() or c.isspace() for c in text[:4096])
    return text if printable >= 0.95 * min(len(text), 4096) else None
