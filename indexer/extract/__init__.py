"""Pick the extractor for a file by its suffix.

Extractors are named, not imported: each module (and the library it wraps: pypdfium2, python-docx,
openpyxl, lxml...) is imported the first time a file of its kind is read, so a command that never
extracts (search, ask, --version) does not pay for them at start-up.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from lanterne.indexer.document import ExtractedDocument, ExtractionError
from lanterne.indexer.reasons import UNSUPPORTED, worded

Extractor = Callable[[Path, bytes], ExtractedDocument]

# suffix -> "module:function" under lanterne.indexer.extract
EXTRACTORS: dict[str, str] = {
    ".txt": "text:extract_text",
    ".text": "text:extract_text",
    ".md": "markdown:extract_markdown",
    ".markdown": "markdown:extract_markdown",
    ".html": "html:extract_html",
    ".htm": "html:extract_html",
    ".xhtml": "html:extract_html",
    ".pdf": "pdf:extract_pdf",
    ".docx": "office:extract_docx",
    ".pptx": "office:extract_pptx",
    ".xlsx": "office:extract_xlsx",
    ".csv": "table_rows:extract_csv",
    ".odt": "odf:extract_odt",
    ".ods": "odf:extract_ods",
    ".odp": "odf:extract_odp",
    ".epub": "epub:extract_epub",
    ".eml": "email_file:extract_eml",
    ".mbox": "email_file:extract_mbox",
    ".rst": "rst:extract_rst",
    ".rest": "rst:extract_rst",
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
EXTRACTORS.update(dict.fromkeys(SOURCE_SUFFIXES, "text:extract_text"))


def is_supported(path: Path) -> bool:
    return path.suffix.lower() in EXTRACTORS


def extract(path: Path, data: bytes) -> ExtractedDocument:
    """Extract `data` (the bytes of `path`); raises ExtractionError with a user-facing reason."""
    name = EXTRACTORS.get(path.suffix.lower())
    if name is None:
        raise ExtractionError(worded(UNSUPPORTED, suffix=path.suffix or path.name))
    return _extractor(name)(path, data)


def _extractor(name: str) -> Extractor:
    module, function = name.split(":")
    found: Extractor = getattr(importlib.import_module(f"{__name__}.{module}"), function)
    return found
