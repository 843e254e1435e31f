"""reStructuredText: section titles (underlined, optionally overlined) become heading paths.

Levels follow the order in which adornment styles first appear, as docutils does; the rest is
paragraphs at blank lines, each anchored at its first line. Directives and comments (`..`)
are kept as text: their content is often the documentation itself.
"""

from __future__ import annotations

import re
from pathlib import Path

from lanterne.indexer.document import Block, ExtractedDocument
from lanterne.indexer.extract.encoding import decode_text

_ADORNMENT = re.compile(r"^([=\-`:'\"~^_*+#<>.])\1{2,}\s*$")


def extract_rst(path: Path, data: bytes) -> ExtractedDocument:
    lines = decode_text(data).splitlines()
    styles: list[tuple[str, bool]] = []  # (character, overlined), in order of appearance
    headings: list[str] = []
    blocks: list[Block] = []
    current: list[str] = []
    start = 1
    title = ""

    def flush() -> None:
        if current:
            blocks.append(Block(" ".join(" ".join(current).split()), tuple(headings), line=start))
            current.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        over = bool(_ADORNMENT.match(line)) and i + 2 < len(lines)
        if over and _ADORNMENT.match(lines[i + 2]) and lines[i + 1].strip():
            text, style, step = lines[i + 1].strip(), (line.strip()[0], True), 3
        elif line.strip() and not _ADORNMENT.match(line) and _ADORNMENT.match(nxt):
            if len(nxt.strip()) >= len(line.strip()):
                text, style, step = line.strip(), (nxt.strip()[0], False), 2
            else:
                text, style, step = "", ("", False), 0
        else:
            text, style, step = "", ("", False), 0
        if step:
            flush()
            if style not in styles:
                styles.append(style)
            level = styles.index(style)
            headings = [*headings[:level], text]
            title = title or text
            i += step
            continue
        if line.strip():
            if not current:
                start = i + 1
            current.append(line.strip())
        else:
            flush()
        i += 1
    flush()
    return ExtractedDocument(path=path, title=title or path.stem, blocks=blocks)
