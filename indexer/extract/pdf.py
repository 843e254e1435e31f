"""PDF: the text of each page with its page number, through PDFium (pypdfium2).

PDFium is the engine Chrome uses on the web's PDFs, so it copes with what people actually have;
a damaged or password-protected file becomes a reason shown to the user, never a crash. Page
text comes out in reading order with line breaks; paragraphs are split at blank lines, or at
lines ending a sentence when the PDF has none.
"""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from lanterne.indexer.document import Block, ExtractedDocument, ExtractionError
from lanterne.indexer.reasons import PDF_NO_TEXT, PDF_PASSWORD, damaged, worded

_SENTENCE_END = (".", "!", "?", "…", ":", "»")


def paragraphs(page_text: str) -> list[str]:
    """Lines joined into paragraphs: PDF text has line breaks but rarely blank lines, so a line
    ending a sentence ends its paragraph too."""
    result: list[str] = []
    current: list[str] = []
    for line in page_text.splitlines():
        words = line.split()
        if words:
            current.extend(words)
        if current and (not words or line.rstrip().endswith(_SENTENCE_END)):
            result.append(" ".join(current))
            current = []
    if current:
        result.append(" ".join(current))
    return result


def _open(data: bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if exc.err_code == pdfium_c.FPDF_ERR_PASSWORD:
            raise ExtractionError(worded(PDF_PASSWORD)) from exc
        raise ExtractionError(damaged("PDF")) from exc


def extract_pdf(path: Path, data: bytes) -> ExtractedDocument:
    pdf = _open(data)
    blocks: list[Block] = []
    try:
        title = (pdf.get_metadata_dict().get("Title") or "").strip() or path.stem
        for index in range(len(pdf)):
            try:
                page = pdf[index]
            except pdfium.PdfiumError:
                continue  # one unreadable page must not lose the others
            try:
                text = page.get_textpage().get_text_range().replace("\r\n", "\n")
            except pdfium.PdfiumError:
                continue
            finally:
                page.close()
            blocks += [Block(text=para, page=index + 1) for para in paragraphs(text)]
    finally:
        pdf.close()
    if not blocks:
        raise ExtractionError(worded(PDF_NO_TEXT))
    return ExtractedDocument(path=path, title=title, blocks=blocks)
