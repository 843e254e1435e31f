"""The mechanical checks of one answer: no judge model, so each result can be traced.

- retrieval: which expected sources were among the passages given to the model;
- citations: each [n] must name a passage given, and the sentence carrying it must share its
  meaningful words with that passage (stems in French and English, function words left out);
- facts: each expected fact must appear in the answer (case, accents and spacing aside);
- language: the answer is in the language it was asked in;
- refusal: the answer says the documents do not hold the answer (phrases in both languages).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from lanterne.assistant.answer import Citation
from lanterne.evaluation.question_set import ExpectedSource
from lanterne.foundation.language import detect_language
from lanterne.foundation.stemming import STOP_WORDS, fold, stem, words

_MARKERS = re.compile(r"\[(\d+)\]")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")
# Of a sentence's meaningful words, the share the cited passage must hold (at least two words,
# or all of them in a shorter sentence).
SUPPORT_SHARE = 0.3
_REFUSALS = [
    r"(sources?|documents?|passages?|extraits?)[^.]{0,60}\b(do(es)?n[o']t|do(es)? not|"
    r"never)\b[^.]{0,30}\b(contain|mention|say|include|answer|cover)",
    r"\bno (information|mention|answer)\b",
    r"\b(can ?not|can't|could not|couldn't|unable to) (find|answer)\b",
    r"\bnot (mentioned|covered|found|stated) in\b",
    r"\bne (contien|mentionn|pr[ée]cis|di|parl|trait|couvr)\w*\b[^.]{0,40}\bpas\b",
    r"\baucune? (information|mention|r[ée]ponse|indication)\b",
    r"\b(je )?ne (trouve|peux|sais) pas\b",
    r"\bn'(indiqu|abord|[ée]voqu)\w*\b[^.]{0,40}\bpas\b",
]
_REFUSAL = re.compile("|".join(f"(?:{r})" for r in _REFUSALS), re.IGNORECASE)


def normalized(text: str) -> str:
    """Lower case, no accents, one space between words: how facts are compared."""
    folded = fold(unicodedata.normalize("NFKC", text).casefold())
    return " ".join(re.findall(r"\w+", folded))


def retrieved_sources(
    expected: Sequence[ExpectedSource], citations: Sequence[Citation]
) -> list[bool]:
    """For each expected source, whether a passage given to the model came from it."""
    return [any(e.matches(c.path, c.page) for c in citations) for e in expected]


def facts_present(answer: str, facts: Sequence[str]) -> list[bool]:
    text = f" {normalized(answer)} "
    return [f" {normalized(fact)} " in text for fact in facts]


def refused(answer: str) -> bool:
    return _REFUSAL.search(answer) is not None


def answer_language(answer: str) -> str:
    """fr, en or other, markers and quoted file names aside."""
    return detect_language(_MARKERS.sub(" ", answer))


def _meaningful(text: str) -> list[str]:
    return [w for w in words(text) if w not in STOP_WORDS and (len(w) > 2 or w.isdigit())]


def _stems(text: str) -> set[str]:
    found: set[str] = set()
    for word in _meaningful(text):
        found.add(fold(stem(word, "french")))
        found.add(fold(stem(word, "english")))
    return found


@dataclass(frozen=True)
class CitationCheck:
    n: int
    sentence: str
    valid: bool  # n names a passage the model was given
    supported: bool  # and the sentence shares enough of its words with it

    def to_json(self) -> dict[str, object]:
        return {
            "n": self.n,
            "sentence": self.sentence,
            "valid": self.valid,
            "supported": self.supported,
        }


def check_citations(answer: str, citations: Sequence[Citation]) -> list[CitationCheck]:
    by_number = {c.n: c for c in citations}
    checks: list[CitationCheck] = []
    for sentence in _SENTENCE_END.split(answer):
        numbers = [int(m) for m in _MARKERS.findall(sentence)]
        if not numbers:
            continue
        claim = re.sub(r"\s+(?=[.,])", "", " ".join(_MARKERS.sub(" ", sentence).split()))
        claim_words = _meaningful(claim)
        for n in dict.fromkeys(numbers):
            cited = by_number.get(n)
            if cited is None:
                checks.append(CitationCheck(n, claim, False, False))
                continue
            passage = _stems(f"{cited.heading} {cited.text}")
            shared = sum(
                1
                for w in claim_words
                if fold(stem(w, "french")) in passage or fold(stem(w, "english")) in passage
            )
            needed = min(len(claim_words), max(2, round(SUPPORT_SHARE * len(claim_words))))
            checks.append(CitationCheck(n, claim, True, bool(claim_words) and shared >= needed))
    return checks
