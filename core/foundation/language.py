"""French / English / other, for documents, passages and questions.

py3langid (BSD, a few MB) restricted to the languages a French/English user is likely to meet,
so a short French question is not mistaken for, say, Catalan; anything but fr/en reads "other".

py3langid costs about a millisecond per passage in pure Python, which made it the largest single
cost of indexing; most passages of French or English prose are settled far more cheaply by
counting a few dozen function words of each, and only the rest (code, tables, short or mixed
text, other languages) go to py3langid, on their first few hundred characters. Passages are
identified one by one because documents mix languages (a French manual quoting an English
licence, a half-translated page).
"""

from __future__ import annotations

import re
import threading
from typing import Any, Literal

Language = Literal["fr", "en", "other"]

_CANDIDATES = ["fr", "en", "de", "es", "it", "nl", "pt"]
_lock = threading.Lock()
_identifier: Any = None
_SAMPLE_CHARS = 2000
_FALLBACK_CHARS = 400  # enough for py3langid on a passage the function words left undecided


def _words(spaced: str) -> frozenset[str]:
    return frozenset(spaced.split())


# Frequent words of one language that are not words of the other: "on", "in", "a", "as" are
# left out, and so are French words that abound in Spanish or Italian ("la", "de", "que", "il").
_FRENCH_MARKERS = _words(
    "le les des du une et est dans pour sur pas avec ce ces cette qui ne se sont ont au aux ils "
    "elle nous vous leur leurs où être été fait très peut aussi comme"
)
_ENGLISH_MARKERS = _words(
    "the and of to is that for with are this be by not it from have has which you can will "
    "at their there been would should these"
)
# Frequent words of German, Spanish, Italian and Portuguese: several of them in a passage send
# it to py3langid, since some French markers above are words of these languages too.
_OTHER_MARKERS = _words(
    "der das und ist nicht ein eine von zu mit auf für sich auch wird werden kann "
    "el los las por con una es del para como pero más puede están "
    "di che della delle sono gli alla questo "
    "não uma com das dos são"
)
# A question is often a few words: its interrogatives, pronouns and polite words tell more than
# the function words of prose.
_FRENCH_QUESTION = _FRENCH_MARKERS | _words(
    "comment pourquoi quand combien quel quelle quels quelles qu quoi est-ce je j mon ma mes moi "
    "donne explique résume liste merci bonjour svp cherche trouve ou en bref"
)
_ENGLISH_QUESTION = _ENGLISH_MARKERS | _words(
    "how what why when where who whom whose does do did i my me give explain summarize "
    "summarise list thanks thank hello please find show tell install"
)
_FRENCH_LETTERS = frozenset("àâçéèêëîïôûùüÿœ")
_QUESTION_CONFIDENCE = 0.7  # py3langid's probability between French and English alone
_MARKER_WORD = re.compile(r"[a-zàâçéèêëîïôûùüÿœãõáíóúñäöß]+")
_UNANIMOUS = 2  # this many marker words of one language and none of the other settle it
_MIN_VOTES = 6  # in a mixed passage, the majority language needs this many
_MAJORITY = 2  # and twice the other's


def _get_identifier() -> Any:
    global _identifier
    with _lock:
        if _identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
            identifier.set_languages(_CANDIDATES)
            _identifier = identifier
        return _identifier


def load() -> None:
    """Load py3langid's model now, on this thread."""
    _get_identifier()


def preload() -> None:
    """Load py3langid's model (about a second, mostly decompression, which releases the GIL) on a
    background thread, so the first passage that needs it does not wait the whole second."""
    if _identifier is None:
        threading.Thread(target=_get_identifier, name="langid-preload", daemon=True).start()


def detect_language(text: str) -> Language:
    sample = text.strip()[:_SAMPLE_CHARS]
    if not any(ch.isalpha() for ch in sample):
        return "other"
    code, _prob = _get_identifier().classify(sample)
    if code == "fr":
        return "fr"
    return "en" if code == "en" else "other"


def question_language(text: str, fallback: Literal["fr", "en"]) -> Literal["fr", "en"]:
    """French or English for a question however short ("Sauvegardes ?", "Why?"); `fallback`
    (the interface's language) when nothing in it can tell, as in "Installer Samba"."""
    lowered = text.lower()
    words = _MARKER_WORD.findall(lowered)
    french = sum(w in _FRENCH_QUESTION for w in words)
    english = sum(w in _ENGLISH_QUESTION for w in words)
    if french != english:
        return "fr" if french > english else "en"
    if any(ch in _FRENCH_LETTERS for ch in lowered):
        return "fr"
    if any(ch.isalpha() for ch in lowered):
        # A question's answer is in French or English, so only their relative likelihood
        # matters: normalized probabilities renormalized over the two are exactly what an
        # identifier limited to them would give, without loading the model a second time.
        scores = dict(_get_identifier().rank(text.strip()[:_SAMPLE_CHARS]))
        french_share = scores["fr"] / (scores["fr"] + scores["en"])
        if french_share >= _QUESTION_CONFIDENCE:
            return "fr"
        if 1 - french_share >= _QUESTION_CONFIDENCE:
            return "en"
    return fallback


def _settles(votes: int, against: int) -> bool:
    return (votes >= _UNANIMOUS and against == 0) or (
        votes >= _MIN_VOTES and votes >= _MAJORITY * against
    )


def passage_language(text: str) -> Language:
    """French or English by their function words when these clearly agree, else py3langid."""
    french = english = other = 0
    for word in _MARKER_WORD.findall(text.lower()):
        if word in _FRENCH_MARKERS:
            french += 1
        elif word in _ENGLISH_MARKERS:
            english += 1
        elif word in _OTHER_MARKERS:
            other += 1
    if not (other >= _UNANIMOUS and 2 * other >= french + english):
        if _settles(french, english):
            return "fr"
        if _settles(english, french):
            return "en"
    return detect_language(text[:_FALLBACK_CHARS])
