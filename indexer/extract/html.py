"""HTML through lxml: headings become the passage's heading path, block elements its paragraphs."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from lxml import etree

from lanterne.indexer.document import Block, ExtractedDocument, ExtractionError
from lanterne.indexer.extract.encoding import decode_text
from lanterne.indexer.reasons import HTML_EMPTY, damaged, worded

_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_BLOCKS = {
    "p",
    "li",
    "pre",
    "blockquote",
    "td",
    "th",
    "dt",
    "dd",
    "figcaption",
    "caption",
    "address",
}
_INLINE = {
    "a",
    "abbr",
    "b",
    "bdi",
    "bdo",
    "br",
    "cite",
    "code",
    "data",
    "dfn",
    "em",
    "i",
    "kbd",
    "mark",
    "q",
    "s",
    "samp",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "time",
    "u",
    "var",
    "img",
    "wbr",
    "font",
    "label",
    "tt",
    "acronym",
    "big",
}
_NESTING = _BLOCKS | set(_HEADINGS) | {"ul", "ol", "dl", "table", "div", "section"}
_SKIP = {
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "head",
    "nav",
    "form",
    "button",
    "select",
    "textarea",
    "iframe",
    "object",
}
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
_SPACES = re.compile(r"\s+")


def _decode(data: bytes) -> str:
    """Honour a declared charset (HTML's own rule), else detect like any text file."""
    declared = _CHARSET.search(data[:4096])
    if declared:
        name = declared.group(1).decode("ascii", "replace")
        try:
            codecs.lookup(name)
        except LookupError:
            pass
        else:
            return data.decode(name, errors="replace")
    return decode_text(data)


def _text_of(element: etree._Element) -> str:
    """All text inside `element` (not its tail), serialised by libxml2 rather than joined here."""
    return etree.tostring(element, method="text", encoding="unicode", with_tail=False)


def _line_of(element: etree._Element) -> int | None:
    line = element.sourceline
    return line if isinstance(line, int) else None


def _has_nested_blocks(element: etree._Element) -> bool:
    """A list item holding a sub-list, a <dd> holding a <dl>: walk it, don't flatten it."""
    return next(element.iterdescendants(*_NESTING), None) is not None


def _clean(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


class _Walker:
    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.headings: list[tuple[int, str]] = []
        self.first_h1: str | None = None
        self._run: list[str] = []  # inline text not inside any block element

    def _emit(self, text: str, line: int | None) -> None:
        if text:
            self.blocks.append(
                Block(text=text, heading_path=tuple(h for _, h in self.headings), line=line)
            )

    def _flush_run(self) -> None:
        if self._run:
            self._emit(_clean(" ".join(self._run)), None)
            self._run = []

    def walk(self, element: etree._Element) -> None:
        if element.text:
            self._run.append(element.text)
        for child in element:
            tag = child.tag if isinstance(child.tag, str) else ""
            tag = tag.lower()
            if not tag or tag in _SKIP:
                pass
            elif tag in _INLINE:
                self._run.append(_text_of(child))
            elif tag in _HEADINGS:
                self._flush_run()
                level = _HEADINGS[tag]
                title = _clean(_text_of(child))
                if title:
                    while self.headings and self.headings[-1][0] >= level:
                        self.headings.pop()
                    self.headings.append((level, title))
                    if level == 1 and self.first_h1 is None:
                        self.first_h1 = title
            elif tag in _BLOCKS and not _has_nested_blocks(child):
                self._flush_run()
                raw = _text_of(child)
                text = raw.strip("\n") if tag == "pre" else _clean(raw)
                self._emit(text, _line_of(child))
            else:
                self._flush_run()
                self.walk(child)
                self._flush_run()
            if child.tail:
                self._run.append(child.tail)


def extract_html(path: Path, data: bytes) -> ExtractedDocument:
    text = _XML_DECL.sub("", _decode(data), count=1)
    if not text.strip():
        return ExtractedDocument(path=path, title=path.stem, blocks=[])
    try:
        # Plain etree elements (lxml.html's element classes cost a Python lookup per element),
        # from lxml's default HTML parser, which is per thread.
        root = etree.HTML(text)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        raise ExtractionError(damaged("HTML")) from exc
    if root is None:
        raise ExtractionError(worded(HTML_EMPTY))
    title_el = root.find(".//title")
    body = root.find("body")
    walker = _Walker()
    walker.walk(body if body is not None else root)
    walker._flush_run()
    title = _clean(_text_of(title_el)) if title_el is not None else ""
    return ExtractedDocument(
        path=path, title=title or walker.first_h1 or path.stem, blocks=walker.blocks
    )
