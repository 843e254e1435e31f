"""Spreadsheet and CSV rows as text blocks a citation can point into (by row number)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path

from lanterne.indexer.document import Block, ExtractedDocument, ExtractionError
from lanterne.indexer.extract.encoding import decode_text
from lanterne.indexer.reasons import damaged

ROWS_PER_BLOCK = 20


def rows_as_blocks(rows: Iterable[list[str]], heading: tuple[str, ...]) -> list[Block]:
    """Rows as tab-separated lines, a few at a time, each group anchored at its first row."""
    blocks: list[Block] = []
    group: list[str] = []
    first = 1
    for number, cells in enumerate(rows, start=1):
        line = "\t".join(cells).rstrip()
        if not line.strip():
            continue
        if not group:
            first = number
        group.append(line)
        if len(group) >= ROWS_PER_BLOCK:
            blocks.append(Block("\n".join(group), heading, line=first))
            group = []
    if group:
        blocks.append(Block("\n".join(group), heading, line=first))
    return blocks


# A spreadsheet export may hold a long text in one cell: as long as the file itself may be.
csv.field_size_limit(64 * 1024 * 1024)


def extract_csv(path: Path, data: bytes) -> ExtractedDocument:
    """CSV in any encoding, with `,`, `;` (French Excel) or tab between values."""
    text = decode_text(data)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:8192], ",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = csv.reader(io.StringIO(text), dialect)
    try:
        blocks = rows_as_blocks(rows, ())
    except csv.Error as exc:
        raise ExtractionError(damaged("CSV")) from exc
    return ExtractedDocument(path=path, title=path.stem, blocks=blocks)
