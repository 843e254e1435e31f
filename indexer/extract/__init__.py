"""Pick the extractor for a file by its suffix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from lanterne.indexer.document import ExtractedDocument, ExtractionError
from lanterne.indexer.extract.html import extract_html
from lanterne.indexer.extract.markdown import extract_markdown
from lanterne.indexer.extract.office import extract_docx, extract_pptx, extract_xlsx
from lanterne.indexer.extract.pdf import extract_pdf
from lanterne.indexer.extract.table_rows import extract_csv
from lanterne.indexer.extract.text import extract_text
from lanterne.translation import _

Extractor = Callable[[Path, bytes], ExtractedDocument]

EXTRACTORS: dict[str, Extractor] = {
    ".txt": extract_text,
    ".text": extract_text,
    ".md": extract_markdown,
    ".markdown": extract_markdown,
    ".html": extract_html,
    ".htm": extract_html,
    ".xhtml": extract_html,
    ".pdf": extract_pdf,
    ".docx": extract_docx,
    ".pptx": extract_pptx,
    ".xlsx": extract_xlsx,
    ".csv": extract_csv,
}


def is_supported(path: Path) -> bool:
    return path.suffix.lower() in EXTRACTORS


def extract(path: Path, data: bytes) -> ExtractedDocument:
    """Extract `data` (the bytes of `path`); raises ExtractionError with a user-facing reason."""
    extractor = EXTRACTORS.get(path.suffix.lower())
    if extractor is None:
        raise ExtractionError(
            _("Unsupported file type: {suffix}").format(suffix=path.suffix or path.name)
        )
    return extractor(path, data)
