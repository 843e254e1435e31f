"""Plain text: paragraphs separated by blank lines, each anchored at its first line."""

from __future__ import annotations

from pathlib import Path

from lanterne.indexer.document import Block, ExtractedDocument
from lanterne.indexer.extract.encoding import decode_text


def paragraphs_with_lines(text: str, first_line: int = 1) -> list[tuple[str, int]]:
    """Split on blank lines, keeping the 1-based line where each paragraph starts."""
    result: list[tuple[str, int]] = []
    current: list[str] = []
    start = first_line
    for number, line in enumerate(text.splitlines(), start=first_line):
        if line.strip():
            if not current:
                start = number
            current.append(line.rstrip())
        elif current:
            result.append(("\n".join(current), start))
            current = []
    if current:
        result.append(("\n".join(current), start))
    return result


def extract_text(path: Path, data: bytes) -> ExtractedDocument:
    text = decode_text(data)
    blocks = [Block(text=para, line=line) for para, line in paragraphs_with_lines(text)]
    return ExtractedDocument(path=path, title=path.stem, blocks=blocks)
