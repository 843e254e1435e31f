"""Markdown through markdown-it-py, so headings give each passage its place in the document."""

from __future__ import annotations

from pathlib import Path

from markdown_it import MarkdownIt

from lanterne.indexer.document import Block, ExtractedDocument
from lanterne.indexer.extract.encoding import decode_text

_BLOCK_OPENERS = {
    "paragraph_open",
    "bullet_list_open",
    "ordered_list_open",
    "table_open",
    "blockquote_open",
}
_LEAF_BLOCKS = {"fence", "code_block", "html_block"}


def extract_markdown(path: Path, data: bytes) -> ExtractedDocument:
    text = decode_text(data)
    lines = text.splitlines()
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    headings: list[tuple[int, str]] = []  # (level, title) stack
    blocks: list[Block] = []
    title: str | None = None
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.type == "heading_open":
            level = int(tok.tag[1:])
            heading = tokens[i + 1].content.strip()
            while headings and headings[-1][0] >= level:
                headings.pop()
            headings.append((level, heading))
            if title is None and level == 1:
                title = heading
            i += 3
            continue
        if tok.map is not None and (tok.type in _BLOCK_OPENERS or tok.type in _LEAF_BLOCKS):
            start, end = tok.map
            source = "\n".join(lines[start:end]).strip()
            if source:
                blocks.append(
                    Block(
                        text=source,
                        heading_path=tuple(h for _, h in headings),
                        line=start + 1,
                    )
                )
            if tok.type in _BLOCK_OPENERS:
                closer = tok.type.replace("_open", "_close")
                nesting = 0
                # Skip to the matching closer: the whole container was emitted as one block.
                j = i + 1
                while j < len(tokens):
                    if tokens[j].type == tok.type:
                        nesting += 1
                    elif tokens[j].type == closer:
                        if nesting == 0:
                            break
                        nesting -= 1
                    j += 1
                i = j + 1
                continue
        i += 1
    return ExtractedDocument(path=path, title=title or path.stem, blocks=blocks)
