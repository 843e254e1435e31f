"""Word, PowerPoint and Excel files (Office Open XML), each with the anchor a citation needs.

Word: paragraphs under the path of their heading styles ("Heading 1", "Titre 1"…), tables row
by row. PowerPoint: each slide is a page, its title the heading. Excel: each sheet a heading,
rows as tab-separated lines in groups, values only (formulas as their last computed value).
A zip bomb or a file that is not what its name says becomes a reason, not a crash.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import docx
import openpyxl
import pptx
from docx.document import Document as DocxDocument
from docx.table import Table
from docx.text.paragraph import Paragraph

from lanterne.foundation.translation import _
from lanterne.indexer.document import Block, ExtractedDocument, ExtractionError
from lanterne.indexer.extract.table_rows import rows_as_blocks
from lanterne.indexer.extract.zip_check import check_zip
from lanterne.indexer.reasons import damaged

T = TypeVar("T")
_HEADING = re.compile(r"^(?:heading|titre|überschrift|título|titolo)\s*(\d+)$", re.IGNORECASE)


Extractor = Callable[[Path, bytes], ExtractedDocument]


def _open(kind: str, data: bytes, opener: Callable[[io.BytesIO], T]) -> T:
    """The library's document object, after the zip check."""
    check_zip(data, kind)
    return opener(io.BytesIO(data))


def _guarded(kind: str) -> Callable[[Extractor], Extractor]:
    """python-docx, python-pptx and openpyxl raise many kinds on bad input (XML errors, but
    also AttributeError, TypeError, KeyError from a damaged part), when opening a file and
    lazily while walking it: any of them becomes the file's reason."""

    def decorate(extract: Extractor) -> Extractor:
        @functools.wraps(extract)
        def run(path: Path, data: bytes) -> ExtractedDocument:
            try:
                return extract(path, data)
            except ExtractionError:
                raise
            except Exception as exc:
                raise ExtractionError(damaged(kind)) from exc

        return run

    return decorate


def _docx_items(document: DocxDocument) -> Iterator[Paragraph | Table]:
    for child in document.element.body.iterchildren():
        if child.tag.endswith("}p"):
            yield Paragraph(child, document)
        elif child.tag.endswith("}tbl"):
            yield Table(child, document)


@_guarded("Word")
def extract_docx(path: Path, data: bytes) -> ExtractedDocument:
    document = _open("Word", data, docx.Document)
    headings: list[str] = []
    blocks: list[Block] = []
    for item in _docx_items(document):
        if isinstance(item, Table):
            for row in item.rows:
                cells = [c.text.strip() for c in row.cells]
                if any(cells):
                    blocks.append(Block(" | ".join(cells), tuple(headings)))
            continue
        text = item.text.strip()
        if not text:
            continue
        style = item.style.name if item.style is not None else ""
        level = _HEADING.match(style or "")
        if level or style == "Title":
            depth = int(level.group(1)) if level else 1
            headings = [*headings[: depth - 1], text]
            continue
        blocks.append(Block(text, tuple(headings)))
    title = (document.core_properties.title or "").strip() or path.stem
    return ExtractedDocument(path=path, title=title, blocks=blocks)


@_guarded("PowerPoint")
def extract_pptx(path: Path, data: bytes) -> ExtractedDocument:
    presentation = _open("PowerPoint", data, pptx.Presentation)
    blocks: list[Block] = []
    for number, slide in enumerate(presentation.slides, start=1):
        title_shape = slide.shapes.title
        title = title_shape.text_frame.text.strip() if title_shape is not None else ""
        heading = (title or _("Slide {n}").format(n=number),)
        for shape in slide.shapes:
            is_title = title_shape is not None and shape.shape_id == title_shape.shape_id
            if is_title or not shape.has_text_frame:
                continue
            for para in shape.text_frame.paragraphs:
                text = "".join(run.text for run in para.runs).strip()
                if text:
                    blocks.append(Block(text, heading, page=number))
        frame = slide.notes_slide.notes_text_frame if slide.has_notes_slide else None
        if frame is not None:
            notes = frame.text.strip()
            if notes:
                blocks.append(Block(notes, (*heading, _("Notes")), page=number))
    return ExtractedDocument(path=path, title=path.stem, blocks=blocks)


@_guarded("Excel")
def extract_xlsx(path: Path, data: bytes) -> ExtractedDocument:
    workbook = _open(
        "Excel", data, lambda f: openpyxl.load_workbook(f, read_only=True, data_only=True)
    )
    blocks: list[Block] = []
    try:
        for sheet in workbook.worksheets:
            rows = (
                ["" if v is None else str(v) for v in row]
                for row in sheet.iter_rows(values_only=True)
            )
            blocks += rows_as_blocks(rows, (sheet.title,))
    finally:
        workbook.close()
    return ExtractedDocument(path=path, title=path.stem, blocks=blocks)
