"""What an extractor hands to the chunker: text blocks that remember where they came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Block:
    """A paragraph-like unit of text with the anchors a citation needs."""

    text: str
    heading_path: tuple[str, ...] = ()
    page: int | None = None
    line: int | None = None


@dataclass
class ExtractedDocument:
    path: Path
    title: str | None = None
    blocks: list[Block] = field(default_factory=list)


class ExtractionError(Exception):
    """A file that cannot be read; `reason` is shown to the user as is."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
