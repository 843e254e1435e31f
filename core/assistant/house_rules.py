"""Rules set by the organisation (settings house.*, usually locked by the IT policy), applied to
every answer whatever the model does: an instruction added to the model's, topics declined
before any model is asked, words masked in the answer as it streams, a notice under it.

Declining and masking are mechanical on purpose: a small local model may ignore an
instruction, and a rule the organisation relies on must hold anyway.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from lanterne.foundation.settings import Settings
from lanterne.foundation.stemming import STOP_WORDS, fold, stem, words

MASK = "■■■"
_DECLINED = {
    "en": "Your organisation has asked Lanterne not to answer questions about {topic}.",
    "fr": "Votre organisation a demandé à Lanterne de ne pas répondre aux questions sur {topic}.",
}


def _items(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(";") if item.strip())


@dataclass(frozen=True)
class HouseRules:
    instructions: str = ""
    decline_topics: tuple[str, ...] = ()
    masked_words: tuple[str, ...] = ()
    disclaimer: str = ""

    @classmethod
    def from_settings(cls, settings: Settings) -> HouseRules:
        return cls(
            instructions=settings.get_str("house.instructions").strip(),
            decline_topics=_items(settings.get_str("house.decline_topics")),
            masked_words=_items(settings.get_str("house.masked_words")),
            disclaimer=settings.get_str("house.disclaimer").strip(),
        )

    def __bool__(self) -> bool:
        return bool(
            self.instructions or self.decline_topics or self.masked_words or self.disclaimer
        )

    def declined_topic(self, question: str) -> str | None:
        """The first topic to decline that the question is about: every meaningful word of the
        topic appears in the question, in French or English form ("salaire" finds "salaires")."""
        asked = {fold(stem(w, lang)) for w in words(question) for lang in ("french", "english")}
        for topic in self.decline_topics:
            needed = [w for w in words(topic) if w not in STOP_WORDS] or words(topic)
            if needed and all(
                fold(stem(w, "french")) in asked or fold(stem(w, "english")) in asked
                for w in needed
            ):
                return topic
        return None

    def decline_message(self, topic: str, language: str) -> str:
        return _DECLINED.get(language, _DECLINED["en"]).format(topic=topic)

    def mask(self, text: str) -> str:
        return Masker(self.masked_words).finish(text)

    def with_disclaimer(self, text: str) -> str:
        return f"{text}\n\n{self.disclaimer}" if self.disclaimer else text


class TrailingSpace:
    """Holds back the whitespace a stream ends with until more text follows: the answer's text is
    stripped, so a notice after it must not follow a blank line the reader saw and it lacks."""

    def __init__(self) -> None:
        self._held = ""

    def feed(self, part: str) -> str:
        """What may be shown of `part` now (the rest is held)."""
        body = part.rstrip()
        if not body:
            self._held += part
            return ""
        shown, self._held = self._held + body, part[len(body) :]
        return shown


class Masker:
    """Masks words in a stream of pieces: a word may arrive split over several, so the end of
    what came is held back until it can no longer start a masked word."""

    def __init__(self, masked: Iterable[str]) -> None:
        self._masked = sorted({m for m in masked if m}, key=len, reverse=True)
        self._keys = [_folded(word) for word in self._masked]
        self._hold = max((len(m) for m in self._masked), default=1) - 1
        self._pending = ""

    def _replace(self, text: str) -> str:
        if not self._masked:
            return text
        folded = _folded(text)
        out: list[str] = []
        i = 0
        while i < len(text):
            for key in self._keys:
                end = i + len(key)
                if folded[i:end] == key and _boundary(text, i - 1) and _boundary(text, end):
                    out.append(MASK)
                    i = end
                    break
            else:
                out.append(text[i])
                i += 1
        return "".join(out)

    def feed(self, piece: str) -> Iterator[str]:
        """What can be shown now of the stream so far."""
        self._pending += piece
        if not self._masked:
            out, self._pending = self._pending, ""
            if out:
                yield out
            return
        masked = self._replace(self._pending)
        # Keep back a tail that might still become a masked word (or its boundary).
        cut = _safe_cut(self._pending, self._hold + 1)
        if cut <= 0:
            return
        shown = self._replace(self._pending[:cut])
        if shown and masked.startswith(shown):
            self._pending = self._pending[cut:]
            yield shown

    def finish(self, rest: str = "") -> str:
        """All that is left, masked (the whole text when used on its own)."""
        text, self._pending = self._pending + rest, ""
        return self._replace(text)


def _folded(text: str) -> str:
    """Lower case without accents, one character for one, so positions stay those of `text`."""
    return "".join(fold(c.casefold())[:1] or c for c in text)


def _boundary(text: str, index: int) -> bool:
    return index < 0 or index >= len(text) or not text[index].isalnum()


def _safe_cut(text: str, hold: int) -> int:
    """Where to cut `text` so that nothing after it is shown yet: `hold` characters from the
    end, moved back to a word boundary so a word is never split across the cut."""
    cut = len(text) - hold
    while cut > 0 and text[cut - 1].isalnum():
        cut -= 1
    return cut
