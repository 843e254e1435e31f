"""Passages sized for retrieval and for the model's context, following the document's structure.

Consecutive blocks under the same heading (and page) are packed up to a size budget; a block
larger than the budget is split at sentence or word boundaries with some overlap, so that no
passage starts mid-thought without context.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lanterne.foundation.language import Language, passage_language
from lanterne.indexer.document import Block, ExtractedDocument

_SENTENCE_END = re.compile(r"(?<=[.!?…:;])\s+")
_SPACES = re.compile(r"\s*")


@dataclass(frozen=True)
class Chunk:
    ordinal: int
    text: str
    heading_path: tuple[str, ...]
    page: int | None
    line: int | None
    lang: Language

    @property
    def heading(self) -> str:
        return " › ".join(self.heading_path)


def _split_long(text: str, max_chars: int, overlap: int) -> list[str]:
    pieces = [p for p in _SENTENCE_END.split(text) if p]
    out: list[str] = []
    current = ""
    for piece in pieces:
        # A "sentence" longer than the budget is cut at spaces. Positions move along it rather
        # than slicing off what is left each time, which copied a 10 MB CSV field 8,000 times.
        start = 0
        while len(piece) - start > max_chars:
            cut = piece.rfind(" ", start, start + max_chars)
            cut = cut if cut > start + max_chars // 2 else start + max_chars
            if current:
                out.append(current)
                current = ""
            out.append(piece[start:cut])
            start = _SPACES.match(piece, cut).end()  # type: ignore[union-attr]
        piece = piece[start:]
        candidate = f"{current} {piece}".strip() if current else piece
        if len(candidate) <= max_chars:
            current = candidate
        else:
            out.append(current)
            tail = current[-overlap:] if overlap else ""
            tail = tail[tail.find(" ") + 1 :] if " " in tail else tail
            current = f"{tail} {piece}".strip() if tail else piece
            if len(current) > max_chars:
                current = piece
    if current:
        out.append(current)
    return out


def chunk_document(
    doc: ExtractedDocument, max_chars: int = 1200, overlap: int = 150
) -> list[Chunk]:
    chunks: list[Chunk] = []
    group: list[Block] = []

    def flush() -> None:
        if not group:
            return
        text = "\n\n".join(b.text for b in group)
        first = group[0]
        for part in _split_long(text, max_chars, overlap) if len(text) > max_chars else [text]:
            chunks.append(
                Chunk(
                    ordinal=len(chunks),
                    text=part,
                    heading_path=first.heading_path,
                    page=first.page,
                    line=first.line,
                    lang=passage_language(part),
                )
            )
        group.clear()

    size = 0
    for block in doc.blocks:
        same_place = bool(group) and (
            block.heading_path == group[0].heading_path and block.page == group[0].page
        )
        if group and (not same_place or size + len(block.text) + 2 > max_chars):
            flush()
            size = 0
        group.append(block)
        size += len(block.text) + 2
    flush()
    return chunks
