from __future__ import annotations

from pathlib import Path

import pytest

from lanterne.indexer.document import ExtractionError
from lanterne.indexer.extract import extract, is_supported


def test_plain_text_paragraphs_keep_their_first_line() -> None:
    data = "Premier paragraphe.\nSuite.\n\n\nDeuxième paragraphe.\n".encode()
    doc = extract(Path("notes.txt"), data)
    assert [(b.text, b.line) for b in doc.blocks] == [
        ("Premier paragraphe.\nSuite.", 1),
        ("Deuxième paragraphe.", 5),
    ]


def test_legacy_encodings_are_detected() -> None:
    text = "L'été à Besançon, déjà très chaud, était précédé d'un printemps pluvieux. " * 4
    doc = extract(Path("vieux.txt"), text.encode("cp1252"))
    assert "été à Besançon" in doc.blocks[0].text


def test_binary_file_gets_a_reason() -> None:
    with pytest.raises(ExtractionError, match="binary"):
        extract(Path("image.txt"), b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\xff\xfe" * 10)


def test_unsupported_suffix_gets_a_reason() -> None:
    assert not is_supported(Path("a.exe"))
    with pytest.raises(ExtractionError, match=r"Unsupported file type: \.exe"):
        extract(Path("a.exe"), b"MZ")


def test_markdown_headings_become_heading_paths() -> None:
    md = (
        "# Guide\n\nIntro text.\n\n## Install\n\nRun the installer.\n\n- one\n- two\n\n"
        "### Details\n\n```sh\nmake run\n```\n\n## Use\n\nAsk a question.\n"
    )
    doc = extract(Path("guide.md"), md.encode())
    assert doc.title == "Guide"
    got = [(b.heading_path, b.text, b.line) for b in doc.blocks]
    assert got == [
        (("Guide",), "Intro text.", 3),
        (("Guide", "Install"), "Run the installer.", 7),
        (("Guide", "Install"), "- one\n- two", 9),
        (("Guide", "Install", "Details"), "```sh\nmake run\n```", 14),
        (("Guide", "Use"), "Ask a question.", 20),
    ]


def test_html_structure_without_scripts_or_navigation() -> None:
    html = b"""<html><head><meta charset="iso-8859-1"><title>Titre</title>
    <style>p {color: red}</style></head><body><nav>Menu</nav>
    <h1>Sauvegardes</h1><div>Texte libre <b>important</b> ici.</div>
    <p>Le script s'ex\xe9cute la nuit.</p><h2>Restauration</h2><ul><li>Copier</li></ul>
    <script>alert(1)</script></body></html>"""
    doc = extract(Path("page.html"), html)
    assert doc.title == "Titre"
    got = [(b.heading_path, b.text) for b in doc.blocks]
    assert got == [
        (("Sauvegardes",), "Texte libre important ici."),
        (("Sauvegardes",), "Le script s'exécute la nuit."),
        (("Sauvegardes", "Restauration"), "Copier"),
    ]
    assert all("alert" not in b.text and "Menu" not in b.text for b in doc.blocks)


def test_empty_files_give_no_blocks() -> None:
    for name in ("a.txt", "a.md", "a.html"):
        assert extract(Path(name), b"").blocks == []


def test_short_latin1_french_is_not_read_as_a_baltic_code_page() -> None:
    doc = extract(Path("court.txt"), "Le café était fermé à Noël; où êtes-vous?".encode("latin-1"))
    assert doc.blocks[0].text == "Le café était fermé à Noël; où êtes-vous?"


def test_non_western_legacy_text_still_decodes() -> None:
    text = "Привет, как дела? Это обычный текст в старой кодировке Windows. " * 5
    doc = extract(Path("ru.txt"), text.encode("cp1251"))
    assert doc.blocks[0].text.startswith("Привет, как дела?")


def test_nested_blocks_are_not_glued_together() -> None:
    html = b"""<html><body><h1>Table</h1><dl class="toc"><dt><a>14.1. Policy</a></dt>
    <dd><dl><dt><a>14.2. Firewall</a></dt><dt><a>14.3. Logs</a></dt></dl></dd></dl>
    <ul><li>Parent<ul><li>Child</li></ul></li></ul></body></html>"""
    texts = [b.text for b in extract(Path("toc.html"), html).blocks]
    assert texts == ["14.1. Policy", "14.2. Firewall", "14.3. Logs", "Parent", "Child"]
