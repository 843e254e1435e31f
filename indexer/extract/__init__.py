"""Pick the extractor for a file by its suffix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from lanterne.indexer.document import ExtractedDocument, ExtractionError
from lanterne.indexer.extract.email_file import extract_eml, extract_mbox
from lanterne.indexer.extract.epub import extract_epub
from lanterne.indexer.extract.html import extract_html
from lanterne.indexer.extract.markdown import extract_markdown
from lanterne.indexer.extract.odf import extract_odp, extract_ods, extract_odt
from lanterne.indexer.extract.office import extract_docx, extract_pptx, extract_xlsx
from lanterne.indexer.extract.pdf import extract_pdf
from lanterne.indexer.extract.rst import extract_rst
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
    ".odt": extract_odt,
    ".ods": extract_ods,
    ".odp": extract_odp,
    ".epub": extract_epub,
    ".eml": extract_eml,
    ".mbox": extract_mbox,
    ".rst": extract_rst,
    ".rest": extract_rst,
}
# Source code and configuration: plain text, each passage anchored at its first line.
SOURCE_SUFFIXES = (
    ".py",
    ".pyi",
    ".js",
    ".mjs",
    ".ts",
    ".tsx",
    ".jsx",
    ".java",
    ".kt",
    ".scala",
    ".c",
    ".h",
    ".cc",
    ".cpp",
    ".hpp",
    ".cs",
    ".go",
    ".rs",
    ".rb",
    ".php",
    ".swift",
    ".m",
    ".lua",
    ".pl",
    ".r",
    ".sh",
    ".bash",
    ".zsh",
    ".ps1",
    ".bat",
    ".sql",
    ".toml",
    ".yaml",
    ".yml",
    ".ini",
    ".cfg",
    ".conf",
    ".tex",
)
EXTRACTORS.update(dict.fromkeys(SOURCE_SUFFIXES, extract_text))


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
