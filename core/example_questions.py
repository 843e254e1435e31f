"""Example questions for an empty conversation, made from the headings of the user's documents.

A first question is easier to ask when the window shows one about the user's own files rather
than a generic tip. Headings name what a document is about; each example quotes one (quoting
keeps any heading grammatical, whatever its case or form), from as many different documents as
there are examples, spread over the index. Documents in the interface language come first.
The same index always gives the same examples: nothing is drawn at random.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from lanterne.foundation.translation import N_, _
from lanterne.index_repair import telling_damage
from lanterne.indexer.headings import Heading, sample_headings
from lanterne.indexer.store import IndexStore

TEMPLATES = (
    N_("What do my documents say about “{topic}”?"),
    N_("What are the key points of “{topic}”?"),
    N_("Summarize “{topic}” in a few lines."),
)
MIN_CHARS, MAX_CHARS, MAX_WORDS = 4, 60, 9  # a topic; a question heading may be longer
MAX_QUESTION_CHARS, MAX_QUESTION_WORDS = 100, 16

# "Chapter 3.", "Annexe B :", "Part II –" before the title; or "1.2.3", "4.", "IV.", "A.1.",
# "b)" alone (a bare number is kept: "2024 budget", "10 tips").
_NUMBER = r"(?:\d+(?:[.\-]\d+)*|[IVXLC]+|[A-Za-z](?:\.\d+)*)"
_NUMBERING = re.compile(
    r"^(?:(?:chapter|chapitre|part|partie|section|appendix|annexe|step|étape|lesson|leçon)\s+"
    rf"{_NUMBER}\s*[.:)\-–—]?\s*"
    rf"|\d+(?:\.\d+)+\.?\s+|{_NUMBER}\s*[.)]\s+|\d+\s+[-–—:]\s+)",
    re.IGNORECASE,
)
_REPLY = re.compile(r"^(?:(?:re|fwd?|tr|ref)\s*:\s*)+", re.IGNORECASE)  # mail subjects
_MARKUP = re.compile(r"[*`]+")
_SPACES = re.compile(r"\s+")
_TRAILING = " \t.,;:–—-…·|/"
# Words that head a part of any document and tell nothing of what it is about: a heading made
# of these alone ("Table of contents", "Voir aussi", "General notes") is no topic.
_GENERIC_WORDS = frozenset(
    word
    for line in (
        "introduction intro contents content table of the a an and des de du la le les et en",
        "matieres sommaire index preface foreword avant-propos avant propos conclusion",
        "conclusions summary resume synthese abstract references bibliography bibliographie",
        "glossary glossaire lexique acknowledgements acknowledgments remerciements credits",
        "notes note appendix appendices annexe annexes overview apercu about untitled sans",
        "titre title document documents home accueil menu navigation chapter chapitre part",
        "partie section sections page pages toc license licence copyright changelog todo misc",
        "divers other others autre autres general generalites see also voir aussi further",
        "reading pour aller plus loin related links liens next steps prochaines etapes author",
        "authors auteur auteurs contact contacts questions answers reponses faq frequentes",
        "description details detail information informations info infos context contexte",
        "background draft brouillon documentation",
    )
    for word in line.split()
)
# What extractors name a part that has no title of its own: "Slide 3", "Feuil1", "Page 2".
_PLACEHOLDER = re.compile(
    r"^(?:slide|diapositive|sheet|feuil|feuille|page|figure|tableau|table|chapter|chapitre|"
    r"part|partie|section|appendix|annexe|step|étape|lesson|leçon|week|semaine|day|jour|version|"
    r"untitled|document)"
    r"\s*[\dIVXLC]*[a-z]?$",
    re.IGNORECASE,
)
_NOT_A_TOPIC = re.compile(r"https?:|www\.|@|[/\\{}<>=*$#|]|\.\w{2,4}$")


def example_questions(index: IndexStore | Path, language: str, count: int = 3) -> list[str]:
    """Up to `count` questions about the indexed documents, in the current interface language
    (`language`: documents written in it come first); none when no heading makes a topic."""
    if isinstance(index, Path):
        if not index.exists():  # nothing indexed yet: not created here
            return []
        with telling_damage(index):  # damaged: the index service, if running, repairs it
            store = IndexStore(index)
            try:
                return example_questions(store, language, count)
            finally:
                store.close()
    return [
        topic if asked else _(TEMPLATES[i % len(TEMPLATES)]).format(topic=topic)
        for i, (topic, asked) in enumerate(pick_topics(index, language, count))
    ]


def pick_topics(store: IndexStore, language: str, count: int) -> list[tuple[str, bool]]:
    """(topic, whether it is a question already) from `count` different documents."""
    chosen = _spread(_topics(sample_headings(store, language), language), count)
    if len(chosen) < count:  # too few in the interface language: the others' headings
        taken = {t[0].casefold() for t in chosen}
        others = [
            t
            for t in _topics(sample_headings(store), language)
            if t[0].casefold() not in taken and t[2] != language
        ]
        chosen += _spread(others, count - len(chosen))
    return [(topic, asked) for topic, asked, _lang in chosen]


def _topics(headings: list[Heading], language: str) -> list[tuple[str, bool, str]]:
    """One (topic, is a question, document language) per document, in the order given: its
    first heading that is a question in the interface language (asked as it is written), else
    its first usable top-level heading (what the document is about), else its first usable
    section's. A heading that other documents share (a book's title on each of its pages, a
    template's) comes last."""
    candidates: dict[int, list[tuple[int, str, bool, str]]] = {}  # document -> its headings
    cleaned: dict[str, str | None] = {}  # passages under one heading repeat it: cleaned once
    seen_paths: set[tuple[int, str]] = set()
    for heading in headings:
        if (heading.document_id, heading.path) in seen_paths:
            continue
        seen_paths.add((heading.document_id, heading.path))
        for depth, level in enumerate(heading.path.split(" › ")):
            if level not in cleaned:
                cleaned[level] = clean_heading(level)
            topic = cleaned[level]
            asked = topic is not None and topic.endswith("?")
            if topic is None or (asked and heading.lang != language):
                continue
            found = candidates.setdefault(heading.document_id, [])
            if all(c[1] != topic for c in found):
                rank = 0 if asked else 1 if depth == 0 else 2
                found.append((rank, topic, asked, heading.document_lang))
    holders: dict[str, int] = {}  # how many documents have each heading
    for found in candidates.values():
        for key in {c[1].casefold() for c in found}:
            holders[key] = holders.get(key, 0) + 1
    topics: list[tuple[str, bool, str]] = []
    taken: set[str] = set()
    for found in candidates.values():
        # sorted() keeps the passages' order within a rank
        ranked = sorted(found, key=lambda c: (holders[c[1].casefold()] > 1, c[0]))
        for _rank, topic, asked, lang in ranked:
            if topic.casefold() not in taken:
                taken.add(topic.casefold())
                topics.append((topic, asked, lang))
                break
    return topics


def _spread(items: list[tuple[str, bool, str]], count: int) -> list[tuple[str, bool, str]]:
    """`count` items evenly spaced from first to last, so examples span the index."""
    if count <= 0 or not items:
        return []
    if len(items) <= count:
        return list(items)
    if count == 1:
        return [items[0]]
    return [items[round(i * (len(items) - 1) / (count - 1))] for i in range(count)]


def _folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def clean_heading(heading: str) -> str | None:
    """The heading as a topic ("6.3. The debuild command" -> "The debuild command"), or None
    when it names no subject: generic ("Introduction", "Table des matières"), a placeholder
    ("Slide 3", "Chapter 2"), a path, an address, too short or too long."""
    text = _SPACES.sub(" ", _MARKUP.sub("", heading)).strip()
    text = _REPLY.sub("", text)
    for _round in range(2):  # "Chapter 2. 2.1 Foo"
        stripped = _NUMBERING.sub("", text, count=1)
        if stripped == text or not stripped.strip(_TRAILING):
            break
        text = stripped
    question = text.rstrip().endswith("?")
    asked = text.rstrip()  # as written: "Comment … ?" keeps its space before the mark
    text = text.strip(_TRAILING + "?!")
    folded = _folded(text)
    words = folded.split()
    letters = sum(ch.isalpha() for ch in text)
    most_chars, most_words = (
        (MAX_QUESTION_CHARS, MAX_QUESTION_WORDS) if question else (MAX_CHARS, MAX_WORDS)
    )
    if (
        not MIN_CHARS <= len(text) <= most_chars
        or len(words) > most_words
        or letters < max(3, len(text) // 2)
        or all(w.strip("'’-") in _GENERIC_WORDS for w in words)
        or _PLACEHOLDER.match(text)
        or _NOT_A_TOPIC.search(text)
    ):
        return None
    if text.isupper() and len(text) > 4:  # "INSTALLATION GUIDE": not shouted in a sentence
        text = text[0] + text[1:].lower()
    return asked if question else text
