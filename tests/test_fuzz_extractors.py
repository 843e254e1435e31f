"""Every extractor, fuzzed: valid documents of each kind broken at random (bits flipped, cut,
bytes inserted or deleted; for zip-based formats, a member broken and the package rebuilt), and
plain random bytes. An extractor either returns a document (which then chunks) or raises
ExtractionError with a reason; any other exception is a bug to fix in the extractor.

Derandomized, so CI runs the same examples every time; LANTERNE_FUZZ_EXAMPLES runs more.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lanterne.indexer.chunker import chunk_document
from lanterne.indexer.document import ExtractionError
from lanterne.indexer.extract import extract
from support import office_docs
from support.worded_reasons import assert_worded

EXAMPLES = int(os.environ.get("LANTERNE_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

TEXT_SEEDS: dict[str, bytes] = {
    ".txt": "Le rapport annuel.\n\nDeuxième paragraphe, été 2024.\n".encode(),
    ".md": b"# Titre\n\n## Partie\n\n- un\n- deux\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    b"\n```py\nx\n```\n",
    ".html": b"<html><head><title>T</title></head><body><h1>Un</h1><p>Texte <b>gras</b></p>"
    b"<table><tr><td>a</td></tr></table><script>x()</script></body></html>",
    ".csv": b"nom;role\nnas01;stockage\nweb02;site\n",
    ".rst": b"Titre\n=====\n\nTexte.\n\nPartie\n------\n\nPlus.\n",
    ".eml": b"Subject: Sauvegarde\nFrom: a@b.fr\nContent-Type: text/plain; charset=utf-8\n\n"
    b"Le script tourne la nuit.\n",
    ".mbox": b"From a@b Mon Jan  1 00:00:00 2024\nSubject: Un\n\nCorps un.\n\n"
    b"From c@d Mon Jan  1 00:00:00 2024\nSubject: Deux\n\nCorps deux.\n",
}
ZIP_WRITERS: dict[str, Callable[[Path], Path]] = {
    ".docx": office_docs.write_docx,
    ".pptx": office_docs.write_pptx,
    ".xlsx": office_docs.write_xlsx,
    ".odt": office_docs.write_odt,
    ".ods": office_docs.write_ods,
    ".odp": office_docs.write_odp,
    ".epub": office_docs.write_epub,
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


def check(suffix: str, data: bytes) -> None:
    try:
        document = extract(Path(f"fuzz{suffix}"), data)
    except ExtractionError as exc:
        assert_worded(exc.reason, suffix)  # one of Lanterne's sentences, no library text
        return
    chunk_document(document, 800, 100)


@st.composite
def broken(draw: st.DrawFn, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 6))):
        where = draw(st.integers(0, max(0, len(data) - 1)))
        action = draw(st.sampled_from(["flip", "cut", "insert", "delete", "repeat"]))
        if action == "flip" and data:
            data[where] ^= 1 << draw(st.integers(0, 7))
        elif action == "cut":
            del data[where:]
        elif action == "insert":
            data[where:where] = draw(st.binary(min_size=1, max_size=64))
        elif action == "delete":
            del data[where : where + draw(st.integers(1, 64))]
        else:
            data[where:where] = data[where : where + 32] * draw(st.integers(2, 50))
    return bytes(data)


@st.composite
def broken_member(draw: st.DrawFn, seed: bytes) -> bytes:
    """A zip package rebuilt around one broken member (the zip itself stays readable, so the
    XML parsers behind it are what gets tested)."""
    with zipfile.ZipFile(io.BytesIO(seed)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    name = draw(st.sampled_from(sorted(members)))
    members[name] = draw(broken(members[name]))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return out.getvalue()


ALL = sorted([*TEXT_SEEDS, *ZIP_WRITERS, ".pdf"])


@pytest.mark.parametrize("suffix", ALL)
def test_broken_documents_never_raise_anything_but_a_reason(
    suffix: str, seeds: dict[str, bytes]
) -> None:
    @FUZZ
    @given(st.data())
    def run(data: st.DataObject) -> None:
        check(suffix, data.draw(broken(seeds[suffix])))

    run()


@pytest.mark.parametrize("suffix", sorted(ZIP_WRITERS))
def test_packages_with_a_broken_part_never_raise_anything_but_a_reason(
    suffix: str, seeds: dict[str, bytes]
) -> None:
    @FUZZ
    @given(st.data())
    def run(data: st.DataObject) -> None:
        check(suffix, data.draw(broken_member(seeds[suffix])))

    run()


@FUZZ
@given(st.sampled_from(ALL), st.binary(max_size=4096))
def test_random_bytes_never_raise_anything_but_a_reason(suffix: str, data: bytes) -> None:
    check(suffix, data)
