"""`lanterne ask --show-reasoning`: the model's reasoning before its answer, set apart from it.

Labelled, and dimmed on a terminal that understands ANSI, so that it is never read as part of
the answer; written as it comes, like the answer.
"""

from __future__ import annotations

from typing import TextIO

from lanterne.cli.progress_line import understands_ansi
from lanterne.foundation.translation import _

DIM, RESET = "\033[2m", "\033[0m"


class ShownReasoning:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.dim = stream.isatty() and understands_ansi(stream)
        self._state = "before"  # "before" any reasoning, "reasoning", or "after" it

    def thought(self, text: str) -> None:
        if self._state == "after":  # reasoning resumed after the answer began: still apart
            self._write("\n\n")
        if self._state != "reasoning":
            self._write(_("Reasoning:") + "\n" + (DIM if self.dim else ""))
            self._state = "reasoning"
        self._write(text)

    def answer_begins(self) -> None:
        """The first piece of the answer comes next: the reasoning's section ends here."""
        if self._state == "reasoning":
            self._write((RESET if self.dim else "") + "\n\n" + _("Answer:") + "\n")
            self._state = "after"

    def close(self) -> None:
        """The stream ended, maybe while the model still reasoned (stopped, or cut short)."""
        if self._state == "reasoning" and self.dim:
            self._write(RESET)

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()
