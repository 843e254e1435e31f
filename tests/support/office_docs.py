"""Real PDF, Word, PowerPoint, Excel and CSV files written from real text, for extractor tests.

Word, PowerPoint and Excel files come from the libraries that read them (python-docx,
python-pptx, openpyxl), as an office suite would save them. The PDF is written by hand: one
text object per line in the standard Helvetica font with WinAnsi encoding (so French accents
are real PDF text, as a word processor exports them), one page per list of lines.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import docx
import openpyxl
import pptx


def _pdf_string(text: str) -> bytes:
    raw = text.encode("cp1252")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def write_pdf(path: Path, pages: list[list[str]], title: str = "") -> Path:
    """A PDF whose page N shows the lines of pages[N-1] (an empty line: a paragraph break)."""
    objects: list[bytes] = []
    n_pages = len(pages)
    font_id = 3 + 2 * n_pages
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(n_pages))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode())
    for i, lines in enumerate(pages):
        content = b"BT /F1 11 Tf 14 TL 72 760 Td "
        for line in lines:
            content += _pdf_string(line) + b" Tj T* " if line else b"T* "
        content += b"ET"
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R "
            f"/Resources << /Font << /F1 {font_id + 1} 0 R >> >> >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    objects.append(b"<< >>")  # unused slot keeps the numbering simple
    objects.append(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    info_id = len(objects) + 1
    objects.append(b"<< /Title " + _pdf_string(title) + b" >>")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\n" % (len(objects) + 1, info_id)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    path.write_bytes(bytes(out))
    return path


def write_docx(path: Path) -> Path:
    document = docx.Document()
    document.core_properties.title = "Guide de sauvegarde"
    document.add_heading("Sauvegardes", level=1)
    document.add_paragraph(
        "Le script de sauvegarde s'exécute chaque nuit à deux heures avec rsync."
    )
    document.add_heading("Restauration", level=2)
    document.add_paragraph("Pour restaurer un dossier, copiez-le depuis le disque externe chiffré.")
    table = document.add_table(rows=2, cols=2)
    for row, cells in zip(table.rows, (("Serveur", "Heure"), ("nas01", "02:00")), strict=True):
        for cell, text in zip(row.cells, cells, strict=True):
            cell.text = text
    document.add_heading("Mirrors", level=1)
    document.add_paragraph("The mirror deb.debian.org redirects every request to a nearby server.")
    document.save(str(path))
    return path


def write_pptx(path: Path) -> Path:
    presentation = pptx.Presentation()
    for title, body, notes in (
        ("Installing Debian", "Guided partitioning creates a root and a swap partition.", ""),
        ("La tarte aux pommes", "Elle cuit quarante minutes à 180 degrés.", "Préchauffer le four."),
    ):
        slide = presentation.slides.add_slide(presentation.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text_frame.text = body
        if notes:
            slide.notes_slide.notes_text_frame.text = notes
    presentation.save(str(path))
    return path


def write_xlsx(path: Path) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.create_sheet("Serveurs", 0)
    workbook.remove(workbook.worksheets[1])  # the default empty sheet
    sheet.append(["Nom", "Rôle", "Sauvegarde"])
    sheet.append(["nas01", "stockage", "chaque nuit à 02:00"])
    sheet.append(["web02", "site public", "hebdomadaire"])
    second = workbook.create_sheet("Budget")
    for month, amount in (("janvier", 1200), ("février", 980)):
        second.append([month, amount])
    second.append(["total", "=SUM(B1:B2)"])
    workbook.save(str(path))
    return path


def write_zip_bomb(path: Path, inner: str = "word/document.xml") -> Path:
    """A small zip that claims a document but unpacks to 600 MB of zeros."""
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z,
        z.open(inner, "w", force_zip64=True) as member,
    ):
        block = b"\0" * (1024 * 1024)
        for _ in range(600):
            member.write(block)
    return path
