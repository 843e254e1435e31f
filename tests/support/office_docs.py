"""Real PDF, Office, OpenDocument and EPUB files written from real text, for extractor tests.

Word, PowerPoint and Excel files come from the libraries that read them (python-docx,
python-pptx, openpyxl), as an office suite would save them. The PDF is written by hand: one
text object per line in the standard Helvetica font with WinAnsi encoding (so French accents
are real PDF text, as a word processor exports them), one page per list of lines. OpenDocument
and EPUB packages are zips laid out as LibreOffice and e-book tools write them.
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
    path.write_bytes(pdf_file(objects, b"/Info %d 0 R" % info_id))
    return path


def pdf_file(objects: list[bytes], trailer: bytes = b"") -> bytes:
    """Objects 1..n (1 being the catalog) laid out with their cross-reference table; `trailer`
    adds entries to the trailer dictionary."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R %s >>\n" % (len(objects) + 1, trailer)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


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


_ODF_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
    'xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" '
    'office:version="1.3"'
)


def _write_odf(path: Path, mimetype: str, body: str) -> Path:
    """An OpenDocument package as LibreOffice lays it out: the mimetype first, uncompressed."""
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content {_ODF_NS}>'
        f"<office:body>{body}</office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.3">'
        f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{mimetype}"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED)
        z.writestr("content.xml", content)
        z.writestr("META-INF/manifest.xml", manifest)
    return path


def write_odt(path: Path) -> Path:
    return _write_odf(
        path,
        "application/vnd.oasis.opendocument.text",
        "<office:text>"
        '<text:h text:outline-level="1">Sauvegardes</text:h>'
        "<text:p>Le script de sauvegarde s'exécute chaque nuit<text:s/>à deux heures avec "
        '<text:span text:style-name="T1">rsync</text:span>.</text:p>'
        '<text:h text:outline-level="2">Restauration</text:h>'
        "<text:list><text:list-item><text:p>Copiez le dossier depuis le disque externe."
        "</text:p></text:list-item></text:list>"
        "</office:text>",
    )


def write_ods(path: Path) -> Path:
    def row(*cells: str) -> str:
        return (
            "<table:table-row>"
            + "".join(f"<table:table-cell><text:p>{c}</text:p></table:table-cell>" for c in cells)
            + '<table:table-cell table:number-columns-repeated="16380"/></table:table-row>'
        )

    return _write_odf(
        path,
        "application/vnd.oasis.opendocument.spreadsheet",
        '<office:spreadsheet><table:table table:name="Serveurs">'
        + row("Nom", "Rôle")
        + row("nas01", "stockage chiffré")
        + "</table:table></office:spreadsheet>",
    )


def write_odp(path: Path) -> Path:
    return _write_odf(
        path,
        "application/vnd.oasis.opendocument.presentation",
        "<office:presentation>"
        '<draw:page draw:name="Installer Debian"><draw:frame><draw:text-box>'
        "<text:p>Le partitionnement assisté crée une partition racine.</text:p>"
        "</draw:text-box></draw:frame></draw:page>"
        '<draw:page draw:name="Miroirs"><draw:frame><draw:text-box>'
        "<text:p>deb.debian.org redirige vers un serveur proche.</text:p>"
        "</draw:text-box></draw:frame></draw:page>"
        "</office:presentation>",
    )


def write_epub(path: Path) -> Path:
    """An EPUB 3 book of two chapters, laid out as e-book tools write it."""
    chapter = (
        '<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml">'
        "<head><title>{title}</title></head><body><h1>{title}</h1><p>{text}</p></body></html>"
    )
    opf = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">'
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Le manuel</dc:title>'
        '<dc:identifier id="id">urn:uuid:1</dc:identifier><dc:language>fr</dc:language>'
        "</metadata><manifest>"
        '<item id="c1" href="text/ch1.xhtml" media-type="application/xhtml+xml"/>'
        '<item id="c2" href="text/ch2.xhtml" media-type="application/xhtml+xml"/>'
        '<item id="css" href="style.css" media-type="text/css"/>'
        '</manifest><spine><itemref idref="c1"/><itemref idref="c2"/></spine></package>'
    )
    container = (
        '<?xml version="1.0"?>\n<container version="1.0" '
        'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
        '<rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
        "</rootfiles></container>"
    )
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        z.writestr("META-INF/container.xml", container)
        z.writestr("OEBPS/content.opf", opf)
        z.writestr("OEBPS/style.css", "p { margin: 0 }")
        z.writestr(
            "OEBPS/text/ch1.xhtml",
            chapter.format(title="Paquets", text="APT résout les dépendances des paquets."),
        )
        z.writestr(
            "OEBPS/text/ch2.xhtml",
            chapter.format(title="Mirrors", text="The mirror deb.debian.org is a good default."),
        )
    return path
