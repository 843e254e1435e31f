"""OpenDocument text, spreadsheets and presentations (LibreOffice's .odt, .ods, .odp).

All three keep their content in `content.xml` inside a zip; it is read with lxml, the same
parser as HTML, so no extra dependency is needed. Text: `text:h` headings by outline level,
`text:p` paragraphs and list items. Spreadsheets: each table a heading, rows as lines.
Presentations: each `draw:page` a page, its name as the heading.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from lxml import etree

from lanterne.foundation.translation import _
from lanterne.indexer.document import Block, ExtractedDocument, ExtractionError
from lanterne.indexer.extract.table_rows import rows_as_blocks
from lanterne.indexer.extract.zip_check import check_zip, read_member
from lanterne.indexer.reasons import damaged

_NS = {
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "draw": "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0",
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
}
_TEXT, _TABLE, _DRAW = ("{" + _NS[k] + "}" for k in ("text", "table", "draw"))
_MAX_REPEAT = 1000  # "repeat this empty cell 16,384 times" is how a sheet pads its rows


def _content(archive: zipfile.ZipFile, kind: str) -> etree._Element:
    raw = read_member(archive, "content.xml", kind)
    try:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
        return etree.fromstring(raw, parser)
    except etree.XMLSyntaxError as exc:
        raise ExtractionError(damaged(kind)) from exc


def _text(element: etree._Element) -> str:
    """The text of a paragraph and its spans; `text:s`, tabs and line breaks count as spaces."""
    parts = [element.text or ""]
    for child in element:
        if child.tag in (_TEXT + "s", _TEXT + "tab", _TEXT + "line-break"):
            parts.append(" ")
        else:
            parts.append(_text(child))
        parts.append(child.tail or "")
    return " ".join("".join(parts).split())


def extract_odt(path: Path, data: bytes) -> ExtractedDocument:
    root = _content(check_zip(data, "OpenDocument"), "OpenDocument")
    headings: list[str] = []
    blocks: list[Block] = []
    for node in root.iter(_TEXT + "h", _TEXT + "p"):
        text = _text(node)
        if not text:
            continue
        if node.tag == _TEXT + "h":
            level = int(node.get(_TEXT + "outline-level", "1"))
            headings = [*headings[: level - 1], text]
        else:
            blocks.append(Block(text, tuple(headings)))
    return ExtractedDocument(path=path, title=path.stem, blocks=blocks)


def _row_cells(row: etree._Element) -> list[str]:
    cells: list[str] = []
    for cell in row.iterchildren(_TABLE + "table-cell"):
        repeat = min(int(cell.get(_TABLE + "number-columns-repeated", "1")), _MAX_REPEAT)
        value = " ".join(_text(p) for p in cell.iter(_TEXT + "p"))
        cells.extend([value] * repeat)
    while cells and not cells[-1]:
        cells.pop()
    return cells


def extract_ods(path: Path, data: bytes) -> ExtractedDocument:
    root = _content(check_zip(data, "OpenDocument"), "OpenDocument")
    blocks: list[Block] = []
    for table in root.iter(_TABLE + "table"):
        name = table.get(_TABLE + "name", "")
        rows = (_row_cells(row) for row in table.iter(_TABLE + "table-row"))
        blocks += rows_as_blocks(rows, (name,) if name else ())
    return ExtractedDocument(path=path, title=path.stem, blocks=blocks)


def extract_odp(path: Path, data: bytes) -> ExtractedDocument:
    root = _content(check_zip(data, "OpenDocument"), "OpenDocument")
    blocks: list[Block] = []
    for number, page in enumerate(root.iter(_DRAW + "page"), start=1):
        name = page.get(_DRAW + "name") or _("Slide {n}").format(n=number)
        for para in page.iter(_TEXT + "p", _TEXT + "h"):
            text = _text(para)
            if text:
                blocks.append(Block(text, (name,), page=number))
    return ExtractedDocument(path=path, title=path.stem, blocks=blocks)
