"""French and English stems for the full-text index, computed in Python.

FTS5's only stemmer (porter) is English, and Python's sqlite3 cannot register an FTS5 tokenizer,
so the index stores each chunk's words already reduced to stems by Snowball (PyStemmer, C, MIT/BSD)
for the chunk's language, and a question's words are looked up under both their French and their
English stem: "installations" finds "installer" in French text and "installing" in English text.
Diacritics are left to the FTS5 tokenizer (`unicode61 remove_diacritics 2`), after stemming,
since Snowball's French rules read accents.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

import Stemmer

from lanterne.foundation.language import Language

_WORD = re.compile(r"\w+", re.UNICODE)
_local = threading.local()  # Stemmer objects are not thread-safe
_cache: dict[tuple[str, str], str] = {}
_CACHE_LIMIT = 500_000

# Function words dropped from questions (never from the index): with OR-ed terms they match most
# chunks, which costs time at a million chunks and adds nothing BM25 would not already discount.
_FRENCH_STOP_WORDS = frozenset(
    [
        "a",
        "à",
        "au",
        "aux",
        "avec",
        "ce",
        "ces",
        "cet",
        "cette",
        "comment",
        "d",
        "dans",
        "de",
        "des",
        "du",
        "elle",
        "en",
        "est",
        "et",
        "il",
        "ils",
        "je",
        "l",
        "la",
        "le",
        "les",
        "leur",
        "lui",
        "ma",
        "mais",
        "me",
        "mes",
        "moi",
        "mon",
        "n",
        "ne",
        "nos",
        "notre",
        "nous",
        "on",
        "ou",
        "où",
        "par",
        "pas",
        "pour",
        "qu",
        "que",
        "quel",
        "quelle",
        "quelles",
        "quels",
        "qui",
        "quoi",
        "s",
        "sa",
        "se",
        "ses",
        "son",
        "sont",
        "sur",
        "ta",
        "te",
        "tes",
        "toi",
        "ton",
        "tu",
        "un",
        "une",
        "vos",
        "votre",
        "vous",
        "y",
        "c",
        "j",
        "m",
        "t",
        "peut",
        "faut",
        "faire",
        "fait",
        "être",
        "avoir",
        "ai",
        "as",
    ]
)
_ENGLISH_STOP_WORDS = frozenset(
    [
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "could",
        "do",
        "does",
        "for",
        "from",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "should",
        "so",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "we",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
    ]
)
STOP_WORDS = _FRENCH_STOP_WORDS | _ENGLISH_STOP_WORDS


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _stemmer(language: str) -> Stemmer._Stemmer:
    stemmers: dict[str, Stemmer._Stemmer] | None = getattr(_local, "stemmers", None)
    if stemmers is None:
        stemmers = _local.stemmers = {}
    stemmer = stemmers.get(language)
    if stemmer is None:
        stemmer = stemmers[language] = Stemmer.Stemmer(language)
    return stemmer


def stem(word: str, language: str) -> str:
    key = (language, word)
    found = _cache.get(key)
    if found is None:
        found = _stemmer(language).stemWord(word)
        if len(_cache) >= _CACHE_LIMIT:
            _cache.clear()
        _cache[key] = found
    return found


def _snowball_language(lang: Language | str) -> str:
    # Text in neither language gets the English stemmer: it is the mildest of the two, and most
    # such text in a French/English user's folders is code, names and numbers.
    return "french" if lang == "fr" else "english"


def stem_text(text: str, lang: Language | str) -> str:
    """The text as the index stores it: one stem per word, in order."""
    # One call into the C stemmer per passage (PyStemmer keeps its own cache of recent words).
    return " ".join(_stemmer(_snowball_language(lang)).stemWords(words(text)))


@lru_cache(maxsize=256)  # one search asks for them three times: query, pruning, snippets
def question_terms(question: str) -> tuple[str, ...]:
    """Each meaningful word of a question under its French and its English stem, without repeats."""
    all_words = [w for w in words(question) if len(w) > 1 or w.isdigit()]
    meaningful = [w for w in all_words if w not in STOP_WORDS] or all_words
    terms: list[str] = []
    for word in meaningful:
        for language in ("french", "english"):
            term = stem(word, language)
            if term not in terms:
                terms.append(term)
    return tuple(terms)


def fold(term: str) -> str:
    """Diacritics removed, as the FTS5 tokenizer does: "été" and "ete" are one term."""
    decomposed = unicodedata.normalize("NFKD", term)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def matched_words(text: str, lang: Language | str, terms: Sequence[str]) -> list[tuple[int, int]]:
    """Spans of the words in `text` whose stem is one of `terms` (for snippets and highlights)."""
    language = _snowball_language(lang)
    wanted = {fold(t) for t in terms}
    return [
        m.span() for m in _WORD.finditer(text) if fold(stem(m.group().lower(), language)) in wanted
    ]
