"""The few lines of a passage shown under a search result, around the words the question matched.

Built in Python rather than by FTS5's snippet(): the index holds stems, and the user must see
their document's own words, with the matched ones marked (the CLI underlines them, the GUI bolds
them).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lanterne.foundation.stemming import matched_words

BEFORE = 60  # characters of context kept before the first matched word
WIDTH = 240  # characters in a snippet, roughly
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Snippet:
    text: str
    highlights: tuple[tuple[int, int], ...]


def make_snippet(text: str, lang: str, terms: Sequence[str]) -> Snippet:
    flat = _SPACE.sub(" ", text).strip()
    spans = matched_words(flat, lang, terms)
    start = _best_start(spans)
    lo = max(0, start - BEFORE)
    hi = min(len(flat), lo + WIDTH)
    # Whole words only at the edges.
    if lo > 0:
        cut = flat.find(" ", lo)
        lo = cut + 1 if 0 <= cut < start else lo
    if hi < len(flat):
        cut = flat.rfind(" ", lo, hi)
        hi = cut if cut > lo else hi
    prefix = "…" if lo > 0 else ""
    suffix = "…" if hi < len(flat) else ""
    shift = len(prefix) - lo
    highlights = tuple((a + shift, b + shift) for a, b in spans if a >= lo and b <= hi)
    return Snippet(prefix + flat[lo:hi] + suffix, highlights)


def _best_start(spans: list[tuple[int, int]]) -> int:
    """Start of the matched word whose window holds the most matched words."""
    best, best_count = 0, 0
    for i, (start, _end) in enumerate(spans):
        count = sum(1 for a, b in spans[i:] if b <= start - BEFORE + WIDTH)
        if count > best_count:
            best, best_count = start, count
    return best


def marked(
    text: str,
    spans: Sequence[tuple[int, int]],
    before: str,
    after: str,
    escape: Callable[[str], str] = str,
) -> str:
    """`text` with each span between `before` and `after` (bold on a terminal, <b> in HTML), the
    text itself passed through `escape`."""
    out, last = [], 0
    for start, end in spans:
        out += [escape(text[last:start]), before, escape(text[start:end]), after]
        last = end
    out.append(escape(text[last:]))
    return "".join(out)
