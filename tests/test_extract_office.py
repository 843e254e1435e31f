"""PDF, Word, PowerPoint, Excel and CSV from real files, with the anchors citations use."""

from __future__ import annotations

from pathlib import Path

import pytest

from lanterne.indexer.document import ExtractionError
from lanterne.indexer.extract import extract, is_supported
from lanterne.indexer.indexing import Indexer, IndexOptions
from lanterne.indexer.retriever import Retriever
from lanterne.indexer.store import IndexStore
from support.office_docs import write_docx, write_pdf, write_pptx, write_xlsx, write_zip_bomb

PAGES = [
    [
        "La tarte aux pommes cuit quarante minutes dans un four",
        "préchauffé à 180 degrés.",
        "",
        "Il faut éplucher les pommes et les couper en fines lamelles.",
    ],
    ["The installer asks for a mirror close to you.", "", "LVM lets you resize volumes later."],
]


def read(path: Path) -> list[tuple[str, tuple[str, ...], int | None, int | None]]:
    doc = extract(path, path.read_bytes())
    return [(b.text, b.heading_path, b.page, b.line) for b in doc.blocks]


def test_pdf_text_keeps_its_pages_and_accents(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "recette.pdf", PAGES, title="Recettes")
    doc = extract(path, path.read_bytes())
    assert doc.title == "Recettes"
    assert [(b.text, b.page) for b in doc.blocks] == [
        ("La tarte aux pommes cuit quarante minutes dans un four préchauffé à 180 degrés.", 1),
        ("Il faut éplucher les pommes et les couper en fines lamelles.", 1),
        ("The installer asks for a mirror close to you.", 2),
        ("LVM lets you resize volumes later.", 2),
    ]


def test_damaged_and_textless_pdfs_are_explained(tmp_path: Path) -> None:
    good = write_pdf(tmp_path / "good.pdf", PAGES).read_bytes()
    truncated = tmp_path / "truncated.pdf"
    truncated.write_bytes(good[:200])
    with pytest.raises(ExtractionError, match="damaged or not really a PDF"):
        extract(truncated, truncated.read_bytes())
    fake = tmp_path / "fake.pdf"
    fake.write_text("just text with a .pdf name")
    with pytest.raises(ExtractionError, match="damaged or not really a PDF"):
        extract(fake, fake.read_bytes())
    blank = write_pdf(tmp_path / "scan.pdf", [[], []])
    with pytest.raises(ExtractionError, match="no text layer"):
        extract(blank, blank.read_bytes())


def test_word_paragraphs_sit_under_their_headings(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "guide.docx")
    assert extract(path, path.read_bytes()).title == "Guide de sauvegarde"
    assert [(text, heading) for text, heading, _p, _l in read(path)] == [
        (
            "Le script de sauvegarde s'exécute chaque nuit à deux heures avec rsync.",
            ("Sauvegardes",),
        ),
        (
            "Pour restaurer un dossier, copiez-le depuis le disque externe chiffré.",
            ("Sauvegardes", "Restauration"),
        ),
        ("Serveur | Heure", ("Sauvegardes", "Restauration")),
        ("nas01 | 02:00", ("Sauvegardes", "Restauration")),
        ("The mirror deb.debian.org redirects every request to a nearby server.", ("Mirrors",)),
    ]


def test_slides_are_pages_with_their_title_and_notes(tmp_path: Path) -> None:
    path = write_pptx(tmp_path / "deck.pptx")
    assert read(path) == [
        (
            "Guided partitioning creates a root and a swap partition.",
            ("Installing Debian",),
            1,
            None,
        ),
        ("Elle cuit quarante minutes à 180 degrés.", ("La tarte aux pommes",), 2, None),
        ("Préchauffer le four.", ("La tarte aux pommes", "Notes"), 2, None),
    ]


def test_spreadsheets_by_sheet_and_row(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "parc.xlsx")
    blocks = read(path)
    assert blocks[0] == (
        "Nom\tRôle\tSauvegarde\nnas01\tstockage\tchaque nuit à 02:00\nweb02\tsite public\t"
        "hebdomadaire",
        ("Serveurs",),
        None,
        1,
    )
    assert blocks[1][1] == ("Budget",) and "février\t980" in blocks[1][0]


def test_csv_with_french_semicolons(tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_bytes("nom;ville\nÉlodie;Besançon\nMarc;Lyon\n".encode("cp1252"))
    ((text, _heading, _page, line),) = read(path)
    assert text == "nom\tville\nÉlodie\tBesançon\nMarc\tLyon" and line == 1


@pytest.mark.parametrize("suffix", [".docx", ".pptx", ".xlsx"])
def test_broken_office_files_are_explained(tmp_path: Path, suffix: str) -> None:
    fake = tmp_path / f"fake{suffix}"
    fake.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ExtractionError, match="damaged or not really"):
        extract(fake, fake.read_bytes())
    bomb = write_zip_bomb(tmp_path / f"bomb{suffix}")
    assert bomb.stat().st_size < 2_000_000
    with pytest.raises(ExtractionError, match=r"unpacks to 600 MB.*zip bomb"):
        extract(bomb, bomb.read_bytes())


def test_office_files_are_indexed_and_found_with_their_anchors(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    write_pdf(folder / "recette.pdf", PAGES)
    write_docx(folder / "guide.docx")
    write_pptx(folder / "deck.pptx")
    write_xlsx(folder / "parc.xlsx")
    (folder / "broken.docx").write_bytes(b"not a zip")
    assert all(is_supported(p) for p in folder.iterdir())
    store = IndexStore(tmp_path / "index.sqlite3")
    try:
        progress = Indexer(store, IndexOptions()).add_folder(folder)
        assert progress.done == 5
        status = store.status()
        assert status.documents == 4 and len(status.errors) == 1
        retriever = Retriever(store)
        hit = retriever.search("lamelles pommes", k=3)[0]
        assert hit.path.endswith("recette.pdf") and hit.page == 1
        hit = retriever.search("restaurer dossier", k=3)[0]
        assert hit.path.endswith("guide.docx") and hit.heading == "Sauvegardes › Restauration"
        hit = retriever.search("partitioning swap", k=3)[0]
        assert hit.path.endswith("deck.pptx") and hit.page == 1
        hit = retriever.search("hebdomadaire", k=3)[0]
        assert hit.path.endswith("parc.xlsx") and hit.heading == "Serveurs" and hit.line == 1
    finally:
        store.close()
