"""Every reason a file could not be read is a sentence in the user's language: one of those
declared in lanterne.indexer.reasons, never a library's or the system's text. Damaged Word,
PowerPoint, Excel, OpenDocument, EPUB, PDF, HTML and CSV files (cut short, bytes flipped, a
package part replaced by XML of the wrong kind or by half of itself) are read through the real
file reader; the hostile corpus is checked the same way in test_hostile_files.py, and every fuzzed
file in test_fuzz_extractors.py.
"""

from __future__ import annotations

import io
import random
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lanterne.foundation.translation import _, set_language
from lanterne.indexer import reasons
from lanterne.indexer.file_reader import ReadJob, Unreadable, read_file
from support import office_docs
from support.worded_reasons import assert_worded, is_worded

ZIP_WRITERS: dict[str, Callable[[Path], Path]] = {
    ".docx": office_docs.write_docx,
    ".pptx": office_docs.write_pptx,
    ".xlsx": office_docs.write_xlsx,
    ".odt": office_docs.write_odt,
    ".ods": office_docs.write_ods,
    ".odp": office_docs.write_odp,
    ".epub": office_docs.write_epub,
}
TEXT_SEEDS = {
    ".html": b"<html><head><title>T</title></head><body><h1>Un</h1><p>Texte</p></body></html>",
    ".csv": b'nom;role\nnas01;"stockage\nweb02;site\n',
}
# What a part of a package is replaced by: XML of another kind, nothing, half of itself.
PART_DAMAGE: dict[str, Callable[[bytes], bytes]] = {
    "foreign XML": lambda _data: b"<x/>",
    "content types as relationships": lambda _data: (
        b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
    ),
    "empty": lambda _data: b"",
    "cut in half": lambda data: data[: len(data) // 2],
}


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("seeds")
    found = dict(TEXT_SEEDS)
    for suffix, write in ZIP_WRITERS.items():
        found[suffix] = write(folder / f"seed{suffix}").read_bytes()
    pdf = office_docs.write_pdf(folder / "seed.pdf", [["Le rapport annuel."], ["Page deux."]])
    found[".pdf"] = pdf.read_bytes()
    return found


def _rezip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def _damaged(seed: bytes, suffix: str) -> Iterator[tuple[str, bytes]]:
    """(what was done, the bytes) for one seed: cuts, flipped bytes, and for packages each
    part damaged in each way."""
    rng = random.Random(suffix)
    for fraction in (0.0, 0.05, 0.3, 0.6, 0.95):
        yield f"cut at {fraction:.0%}", seed[: int(len(seed) * fraction)]
    for i in range(8):
        data = bytearray(seed)
        for _flip in range(1 + i * 4):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        yield f"{1 + i * 4} bytes flipped", bytes(data)
    if suffix in ZIP_WRITERS:
        with zipfile.ZipFile(io.BytesIO(seed)) as archive:
            members = {name: archive.read(name) for name in archive.namelist()}
        for name, part in members.items():
            for how, damage in PART_DAMAGE.items():
                yield f"{name}: {how}", _rezip({**members, name: damage(part)})


def _reason_of(path: Path) -> str | None:
    outcome = read_file(ReadJob(path, None, 800, 100))
    return outcome.reason if isinstance(outcome, Unreadable) else None


@pytest.mark.parametrize("suffix", [*sorted(ZIP_WRITERS), ".pdf", ".html", ".csv"])
def test_damaged_documents_get_a_declared_reason_in_words(
    suffix: str, seeds: dict[str, bytes], tmp_path: Path
) -> None:
    path = tmp_path / f"damaged{suffix}"
    given: dict[str, int] = {}
    for what, data in _damaged(seeds[suffix], suffix):
        path.write_bytes(data)
        reason = _reason_of(path)
        if reason is not None:
            assert_worded(reason, f"{suffix}, {what}")
            given[reason] = given.get(reason, 0) + 1
    assert given, f"no damaged {suffix} was refused: the test damaged nothing"


def test_damaged_office_packages_name_their_format(seeds: dict[str, bytes], tmp_path: Path) -> None:
    """The two reasons seen raw in the field: python-docx's AttributeError on a package whose
    content types or relationships are XML of another kind."""
    for suffix, kind in ((".docx", "Word"), (".pptx", "PowerPoint")):
        with zipfile.ZipFile(io.BytesIO(seeds[suffix])) as archive:
            members = {name: archive.read(name) for name in archive.namelist()}
        for part in ("[Content_Types].xml", "_rels/.rels"):
            path = tmp_path / f"{part.strip('[]_/').replace('/', '-')}{suffix}"
            path.write_bytes(_rezip({**members, part: b"<x/>"}))
            reason = _reason_of(path)
            assert reason in (reasons.damaged(kind), _(reasons.NOT_REALLY).format(kind=kind)), (
                f"{suffix} {part}: {reason!r}"
            )


def test_a_file_swapped_for_a_folder_or_gone_is_said_in_words(tmp_path: Path) -> None:
    folder_now = tmp_path / "notes.txt"
    folder_now.mkdir()
    assert _reason_of(folder_now) == _(reasons.NOT_A_FILE)
    assert _reason_of(tmp_path / "gone.txt") == _(reasons.GONE)
    below_a_file = tmp_path / "plain.txt"
    below_a_file.write_text("text", "utf-8")
    assert _reason_of(below_a_file / "inner.txt") == _(reasons.GONE)


def test_reasons_follow_the_interface_language(seeds: dict[str, bytes], tmp_path: Path) -> None:
    """Given in French when the interface is French (the catalog's sentence when it has one),
    and still one of the declared reasons there."""
    path = tmp_path / "coupe.docx"
    path.write_bytes(seeds[".docx"][:4000])
    set_language("fr")
    try:
        reason = _reason_of(path)
        assert reason is not None and is_worded(reason), reason
        assert reason == _(reasons.NOT_REALLY).format(kind="Word")
    finally:
        set_language("en")


def test_raw_texts_are_told_apart_from_reasons() -> None:
    """The check itself: the raw texts shown before, and what they looked like, fail it."""
    for raw in (
        "The Word file cannot be read ('lxml.etree._Element' object has no attribute 'overrides').",
        "The file could not be read: Input/output error",
        "Unexpected error while reading this file: KeyError: 'word/document.xml'",
        "The PDF is damaged or not a PDF (Failed to load document (PDFium: Data format error).).",
        "This Word document is damaged and cannot be read. [Errno 5]",
    ):
        assert not is_worded(raw), raw
    for msgid in reasons.REASONS:
        filled = _(msgid).format(kind="Word", size=12, limit=50, seconds=60, signal=9, code=1,
                                 suffix=".xyz")  # fmt: skip
        assert is_worded(filled), filled
