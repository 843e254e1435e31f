"""OpenDocument, EPUB, e-mail, reStructuredText and source code, from real files."""

from __future__ import annotations

import mailbox
from email.message import EmailMessage
from pathlib import Path

import pytest

from lanterne.indexer.document import ExtractionError
from lanterne.indexer.extract import extract, is_supported
from support.office_docs import write_epub, write_odp, write_ods, write_odt, write_zip_bomb


def read(path: Path) -> list[tuple[str, tuple[str, ...], int | None, int | None]]:
    doc = extract(path, path.read_bytes())
    return [(b.text, b.heading_path, b.page, b.line) for b in doc.blocks]


def test_opendocument_text_keeps_heading_levels(tmp_path: Path) -> None:
    assert read(write_odt(tmp_path / "guide.odt")) == [
        (
            "Le script de sauvegarde s'exécute chaque nuit à deux heures avec rsync.",
            ("Sauvegardes",),
            None,
            None,
        ),
        (
            "Copiez le dossier depuis le disque externe.",
            ("Sauvegardes", "Restauration"),
            None,
            None,
        ),
    ]


def test_opendocument_spreadsheet_ignores_padding_columns(tmp_path: Path) -> None:
    assert read(write_ods(tmp_path / "parc.ods")) == [
        ("Nom\tRôle\nnas01\tstockage chiffré", ("Serveurs",), None, 1)
    ]


def test_opendocument_presentation_pages(tmp_path: Path) -> None:
    assert read(write_odp(tmp_path / "deck.odp")) == [
        ("Le partitionnement assisté crée une partition racine.", ("Installer Debian",), 1, None),
        ("deb.debian.org redirige vers un serveur proche.", ("Miroirs",), 2, None),
    ]


def test_epub_chapters_in_reading_order(tmp_path: Path) -> None:
    path = write_epub(tmp_path / "manuel.epub")
    doc = extract(path, path.read_bytes())
    assert doc.title == "Le manuel"
    assert [(b.text, b.heading_path, b.page) for b in doc.blocks] == [
        ("APT résout les dépendances des paquets.", ("Paquets",), 1),
        ("The mirror deb.debian.org is a good default.", ("Mirrors",), 2),
    ]


@pytest.mark.parametrize("suffix", [".odt", ".ods", ".odp", ".epub"])
def test_broken_packages_are_explained(tmp_path: Path, suffix: str) -> None:
    bomb = write_zip_bomb(tmp_path / f"bomb{suffix}", inner="content.xml")
    with pytest.raises(ExtractionError, match="zip bomb"):
        extract(bomb, bomb.read_bytes())
    fake = tmp_path / f"fake{suffix}"
    fake.write_text("plain text")
    with pytest.raises(ExtractionError, match="damaged or not really"):
        extract(fake, fake.read_bytes())


def message(subject: str, body: str, html: str | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Élodie Martin <elodie@example.org>"
    msg["To"] = "equipe@example.org"
    msg["Subject"] = subject
    msg["Date"] = "Mon, 23 Nov 2026 09:30:00 +0100"
    msg.set_content(body)
    if html:
        msg.add_alternative(html, subtype="html")
    return msg


def test_an_email_message(tmp_path: Path) -> None:
    path = tmp_path / "note.eml"
    msg = message(
        "Coupure du serveur", "Le serveur nas01 sera arrêté samedi.\n\nMerci de sauvegarder."
    )
    path.write_bytes(msg.as_bytes())
    doc = extract(path, path.read_bytes())
    assert doc.title == "Coupure du serveur"
    assert [b.text for b in doc.blocks] == [
        "From Élodie Martin <elodie@example.org>, Mon, 23 Nov 2026 09:30:00 +0100",
        "Le serveur nas01 sera arrêté samedi.",
        "Merci de sauvegarder.",
    ]
    assert {b.heading_path for b in doc.blocks} == {("Coupure du serveur",)}


def test_a_mailbox_numbers_its_messages(tmp_path: Path) -> None:
    path = tmp_path / "archive.mbox"
    box = mailbox.mbox(str(path))
    box.add(message("Réunion", "La réunion est à 10 h."))
    html_only = EmailMessage()
    html_only["Subject"] = "Newsletter"
    html_only.set_content("<h1>News</h1><p>Debian 13 is out.</p>", subtype="html")
    box.add(html_only)
    box.close()
    blocks = extract(path, path.read_bytes()).blocks
    assert [(b.text, b.page) for b in blocks if not b.text.startswith("From ")] == [
        ("La réunion est à 10 h.", 1),
        ("Debian 13 is out.", 2),
    ]
    empty = tmp_path / "empty.mbox"
    empty.write_bytes(b"")
    with pytest.raises(ExtractionError, match="no message"):
        extract(empty, b"")


def test_restructuredtext_sections(tmp_path: Path) -> None:
    path = tmp_path / "guide.rst"
    path.write_text(
        "=======\nManuel\n=======\n\nIntroduction du manuel.\n\n"
        "Sauvegardes\n===========\n\nLe script tourne\nchaque nuit.\n\n"
        "Restauration\n------------\n\nCopiez le dossier.\n\n"
        "Miroirs\n=======\n\nUtilisez deb.debian.org.\n",
        encoding="utf-8",
    )
    doc = extract(path, path.read_bytes())
    assert doc.title == "Manuel"
    assert [(b.text, b.heading_path, b.line) for b in doc.blocks] == [
        ("Introduction du manuel.", ("Manuel",), 5),
        ("Le script tourne chaque nuit.", ("Manuel", "Sauvegardes"), 10),
        ("Copiez le dossier.", ("Manuel", "Sauvegardes", "Restauration"), 16),
        ("Utilisez deb.debian.org.", ("Manuel", "Miroirs"), 21),
    ]


def test_source_code_is_indexed_with_line_anchors(tmp_path: Path) -> None:
    path = tmp_path / "backup.py"
    path.write_text(
        '"""Nightly backup."""\n\nimport subprocess\n\n\ndef run() -> None:\n'
        '    subprocess.run(["rsync", "-a", "/srv", "/mnt/backup"])\n',
        encoding="utf-8",
    )
    assert is_supported(path) and is_supported(tmp_path / "deploy.yaml")
    blocks = extract(path, path.read_bytes()).blocks
    assert [b.line for b in blocks] == [1, 3, 6]
    assert "rsync" in blocks[-1].text


def test_every_named_extractor_exists() -> None:
    """The registry names its extractors (imported on first use): each name must resolve."""
    from lanterne.indexer import extract

    for name in set(extract.EXTRACTORS.values()):
        assert callable(extract._extractor(name)), name
