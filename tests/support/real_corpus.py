"""A folder of real documents, in French and English, in every format Lanterne reads, made
offline from text this repository already holds: its English docs, cut at their sections, and the
French translations of its catalog. Office, PDF, OpenDocument and EPUB files come from
tests/support/office_docs.py; a damaged PDF and a fake Word file make error rows too.
"""

from __future__ import annotations

import html
import random
import re
from pathlib import Path
from typing import TypeVar

from support.office_docs import (
    write_docx,
    write_epub,
    write_odt,
    write_pdf,
    write_pptx,
    write_xlsx,
)

REPO = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def english_sections() -> list[tuple[str, str]]:
    """(title, Markdown body) of every level-2 section of the repository's docs."""
    sections: list[tuple[str, str]] = []
    for doc in sorted([REPO / "README.md", *(REPO / "docs").glob("*.md")]):
        parts = re.split(r"^##+ ", doc.read_text(encoding="utf-8"), flags=re.M)[1:]
        for part in parts:
            title, _, body = part.partition("\n")
            if len(body.strip()) > 200:
                sections.append((title.strip(), body.strip()))
    return sections


def french_paragraphs() -> list[str]:
    """The French catalog's translations: real French sentences, one per entry."""
    text = (REPO / "i18n" / "fr.po").read_text(encoding="utf-8")
    found: list[str] = []
    for entry in text.split("\n\n"):
        lines = entry.split("\nmsgstr ", 1)
        if len(lines) != 2:
            continue
        parts = re.findall(r'"((?:[^"\\]|\\.)*)"', lines[1])
        sentence = "".join(parts).replace('\\"', '"').replace("\\n", " ").strip()
        if len(sentence) > 40 and "{" not in sentence:
            found.append(sentence)
    return found


def _pdf_lines(paragraphs: list[str]) -> list[str]:
    """Lines a page can hold, in the PDF's WinAnsi encoding; a blank line between paragraphs."""
    lines: list[str] = []
    for paragraph in paragraphs:
        text = paragraph.replace("\u202f", " ").replace("\u00a0", " ")
        text = text.encode("cp1252", "replace").decode("cp1252")
        line = ""
        for word in text.split():
            if len(line) + len(word) > 80:
                lines.append(line)
                line = ""
            line = f"{line} {word}".strip()
        lines += [line, ""]
    return lines


# A fixed size, drawn from what the repository holds: the tests that index this corpus again and
# again (kill -9 rounds) must not grow slower as the docs and the catalog grow.
SECTIONS = 30
FRENCH_SENTENCES = 140


def _some(items: list[T], count: int, rng: random.Random) -> list[T]:
    """`count` of `items` (all when fewer), in their order."""
    if len(items) <= count:
        return items
    return [items[i] for i in sorted(rng.sample(range(len(items)), count))]


def write_corpus(root: Path, seed: int = 0) -> list[Path]:
    """About 70 files under `root` (in a few subfolders); returns them."""
    rng = random.Random(seed)
    written: list[Path] = []

    def put(rel: str, text: str) -> None:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)

    for i, (title, body) in enumerate(_some(english_sections(), SECTIONS, rng)):
        slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40] or "section"
        if i % 3 == 2:
            paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in body.split("\n\n"))
            put(
                f"web/{i:03d}-{slug}.html",
                f"<html><head><title>{html.escape(title)}</title></head>"
                f"<body><h1>{html.escape(title)}</h1>{paragraphs}</body></html>",
            )
        else:
            put(f"en/{i:03d}-{slug}.md", f"# {title}\n\n{body}\n")
    french = _some(french_paragraphs(), FRENCH_SENTENCES, rng)
    for i in range(0, len(french), 12):
        group = french[i : i + 12]
        rng.shuffle(group)
        put(f"fr/notes-{i // 12:03d}.txt", "\n\n".join(group) + "\n")
    for i in range(4):
        office = root / "bureau" / f"lot-{i}"
        office.mkdir(parents=True, exist_ok=True)
        written += [
            write_docx(office / "sauvegardes.docx"),
            write_pptx(office / "presentation.pptx"),
            write_xlsx(office / "serveurs.xlsx"),
            write_odt(office / "compte-rendu.odt"),
            write_epub(office / "manuel.epub"),
            write_pdf(
                office / "rapport.pdf",
                [_pdf_lines(french[j : j + 4]) for j in range(i * 12, i * 12 + 12, 4)],
                title=f"Rapport {i}",
            ),
        ]
    damaged = root / "bureau" / "abime.pdf"
    damaged.write_bytes(
        write_pdf(root / "bureau" / "tmp.pdf", [_pdf_lines(french[:4])]).read_bytes()[:300]
    )
    (root / "bureau" / "tmp.pdf").unlink()
    fake = root / "bureau" / "faux.docx"
    fake.write_text("Ceci n'est pas un document Word.", encoding="utf-8")
    written += [damaged, fake]
    return written
