"""Token bytes -> text a reader may see: whole characters only, and nothing past a stop string.

A token can end in the middle of a UTF-8 character, and a stop string ("<|im_start|>",
"\\nUser:") can arrive split over several tokens. Text that might still turn out to be the start
of a stop string is held back until the next token decides it.
"""

from __future__ import annotations

import codecs
from collections.abc import Sequence


class TextAssembler:
    def __init__(self, stops: Sequence[str] = ()) -> None:
        self._stops = [s for s in stops if s]
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._held = ""
        self.stopped = False

    def feed(self, data: bytes) -> str:
        """Text that is final once `data` is added; empty while undecided or after a stop."""
        if self.stopped:
            return ""
        text = self._held + self._decoder.decode(data)
        cut = min((i for i in (text.find(s) for s in self._stops) if i >= 0), default=-1)
        if cut >= 0:
            self.stopped = True
            self._held = ""
            return text[:cut]
        keep = self._undecided_tail(text)
        self._held = text[len(text) - keep :] if keep else ""
        return text[: len(text) - keep]

    def flush(self) -> str:
        """The text still held back, at the end of a generation that did not stop on a string."""
        if self.stopped:
            return ""
        text = self._held + self._decoder.decode(b"", final=True)
        self._held = ""
        return text

    def _undecided_tail(self, text: str) -> int:
        return undecided_tail(text, self._stops)


def undecided_tail(text: str, markers: Sequence[str]) -> int:
    """Length of the longest end of `text` that begins some marker (and is not all of it)."""
    longest = 0
    for marker in markers:
        for n in range(min(len(marker) - 1, len(text)), longest, -1):
            if text.endswith(marker[:n]):
                longest = n
                break
    return longest
