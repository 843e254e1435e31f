from __future__ import annotations

from pathlib import Path

from lanterne.foundation.language import detect_language, passage_language
from lanterne.indexer.chunker import chunk_document
from lanterne.indexer.document import Block, ExtractedDocument

FR = (
    "Le serveur de sauvegarde copie chaque nuit les dossiers partagés vers un disque externe "
    "chiffré, puis il vérifie que la copie est complète. "
)
EN = (
    "The backup server copies the shared folders to an encrypted external disk every night, "
    "then it checks that the copy is complete. "
)


def test_blocks_under_one_heading_are_packed_and_headings_split() -> None:
    doc = ExtractedDocument(
        Path("d.md"),
        blocks=[
            Block("Alpha paragraph.", ("A",), line=1),
            Block("Beta paragraph.", ("A",), line=3),
            Block("Gamma paragraph.", ("A", "B"), line=5),
        ],
    )
    chunks = chunk_document(doc, max_chars=500)
    assert [(c.text, c.heading, c.line) for c in chunks] == [
        ("Alpha paragraph.\n\nBeta paragraph.", "A", 1),
        ("Gamma paragraph.", "A › B", 5),
    ]


def test_long_text_is_split_within_budget_with_overlap() -> None:
    doc = ExtractedDocument(Path("d.txt"), blocks=[Block(EN * 30, line=1)])
    chunks = chunk_document(doc, max_chars=400, overlap=80)
    assert len(chunks) > 5
    assert all(len(c.text) <= 400 for c in chunks)
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    # The overlap repeats the end of one passage at the start of the next.
    assert chunks[1].text[:20] in chunks[0].text


def test_a_word_longer_than_the_budget_is_still_cut() -> None:
    doc = ExtractedDocument(Path("d.txt"), blocks=[Block("x" * 2500)])
    chunks = chunk_document(doc, max_chars=1000)
    assert [len(c.text) for c in chunks] == [1000, 1000, 500]


def test_language_of_each_chunk() -> None:
    assert detect_language(FR) == "fr"
    assert detect_language(EN) == "en"
    assert (
        detect_language("Wie spät ist es heute Abend in Berlin und wann fährt der Zug?") == "other"
    )
    assert detect_language("12345 --- ***") == "other"


def test_short_questions_are_recognised() -> None:
    assert detect_language("Combien de temps cuit la tarte ?") == "fr"
    assert detect_language("How long does the pie bake?") == "en"
    assert detect_language("Où sont les sauvegardes ?") == "fr"


def test_each_passage_of_a_mixed_document_gets_its_own_language() -> None:
    """A half-translated page: French passages get French stems, the English box English ones."""
    doc = ExtractedDocument(
        Path("d.html"),
        blocks=[
            Block(FR * 3, ("Sauvegardes",)),
            Block(EN * 3, ("Sauvegardes", "Note")),
            Block("Wie spät ist es heute Abend in Berlin und wann fährt der Zug?", ("Deutsch",)),
        ],
    )
    assert [c.lang for c in chunk_document(doc)] == ["fr", "en", "other"]


def test_passage_language_settles_prose_by_function_words_and_defers_the_rest() -> None:
    assert passage_language(FR) == "fr"
    assert passage_language(EN) == "en"
    # Mostly English with a French aside, and the reverse.
    assert passage_language(EN * 3 + FR) == "en"
    assert passage_language(FR * 3 + EN) == "fr"
    # No function words of either language: py3langid decides.
    assert passage_language("Sauvegardes chiffrées quotidiennes") == "fr"
    assert passage_language("12345 --- ***") == "other"
    assert passage_language("Der Zug fährt heute Abend nach Berlin, sagt der Schaffner.") == "other"
