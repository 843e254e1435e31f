"""A server's reasoning, apart from its answer.

OpenAI-compatible servers that parse reasoning send it in a field of its own beside `content`:
`reasoning_content` (vLLM with a reasoning parser, llama.cpp's server) or `reasoning` (newer
vLLM, OpenRouter). Servers that do not (vLLM without a parser, llama.cpp's server with
`--reasoning-format none`) leave the model's `<think>…</think>` blocks in the text: the same
splitter as for local models takes them out as the text streams. (A block whose opening tag the
chat template wrote into the prompt, DeepSeek-R1's, shows only its closing tag: that cannot be
told from an answer while it streams, so such text stays as the server sent it.)
"""

from __future__ import annotations

from typing import Any

from lanterne.engine.reasoning import TAGS, Piece, TaggedSplitter, Thought


def delta_reasoning(delta: dict[str, Any]) -> str:
    """The reasoning in one delta (or message). Servers that send both names send the same
    text twice: the first one found is the one taken."""
    for key in ("reasoning_content", "reasoning"):
        value = delta.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


class ReplySplitter:
    """One streamed reply's deltas as answer text (str) and reasoning (`Thought`)."""

    def __init__(self) -> None:
        self.format = "server"  # "think" once the text turned out to carry a <think> block
        self._text = TaggedSplitter(TAGS["think"], "undecided")
        self._reasoning: list[str] = []

    @property
    def reasoning(self) -> str:
        return "".join(self._reasoning).strip()

    def feed(self, delta: dict[str, Any]) -> list[Piece]:
        parts: list[Piece] = []
        if thought := delta_reasoning(delta):
            parts.append(Thought(thought))
        content = delta.get("content")
        if isinstance(content, str) and content:
            parts += self._from_text(self._text.feed(content))
        return self._kept(parts)

    def flush(self) -> list[Piece]:
        """What the text splitter held back (a tag that may have been cut in two), at the end."""
        return self._kept(self._from_text(self._text.flush()))

    def _from_text(self, parts: list[Piece]) -> list[Piece]:
        if any(isinstance(p, Thought) for p in parts):
            self.format = "think"
        return parts

    def _kept(self, parts: list[Piece]) -> list[Piece]:
        self._reasoning += [p.text for p in parts if isinstance(p, Thought)]
        return parts
