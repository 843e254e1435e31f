"""Reasoning apart from the answer: what a model writes before its final answer.

Models of several families think aloud before they answer (gpt-oss's harmony "analysis" channel,
`<think>` blocks, Mistral's `[THINK]`, Gemma 4's thought channel). That text is never the answer:
the answer shown, stored, cited and exported is the final one, and the reasoning travels beside it.

The splitters read text in which the format's marker tokens are written out (the runtime renders
them); markers can arrive cut over several pieces, so a tail that may still become one is held
back until the next piece decides it. Whitespace around the markers is never part of either side.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal, Protocol

from lanterne.engine.text_stream import undecided_tail

ReasoningEffort = Literal["off", "low", "medium", "high"]
REASONING_EFFORTS: Final[tuple[ReasoningEffort, ...]] = ("off", "low", "medium", "high")
REASONING_FORMATS: Final = ("harmony", "think", "mistral", "gemma4", "none")


@dataclass(frozen=True)
class Thought:
    """A piece of the model's reasoning, streamed beside the answer's text pieces."""

    text: str


Piece = str | Thought


@dataclass(frozen=True)
class Tags:
    """A reasoning block between two markers; `header` is a channel name written after `open`."""

    open: str
    close: str
    header: str = ""


TAGS: Final[dict[str, Tags]] = {
    "think": Tags("<think>", "</think>"),
    "mistral": Tags("[THINK]", "[/THINK]"),
    "gemma4": Tags("<|channel>", "<channel|>", header="thought"),
}
START, CHANNEL, MESSAGE, END, RETURN, CALL, CONSTRAIN = (
    "<|start|>",
    "<|channel|>",
    "<|message|>",
    "<|end|>",
    "<|return|>",
    "<|call|>",
    "<|constrain|>",
)
HARMONY_MARKERS: Final = (START, CHANNEL, MESSAGE, END, RETURN, CALL, CONSTRAIN)
_REASONING_CHANNELS: Final = ("analysis", "commentary")
_BODY_ENDS: Final = (END, RETURN, CALL, START, CHANNEL)
_MAX_HEADER: Final = 256  # a "header" longer than this is a model not writing harmony at all


def detect_format(chat_template: str | None) -> str:
    """Which reasoning format the model writes, from the markers its chat template uses."""
    template = chat_template or ""
    if CHANNEL in template:
        return "harmony"
    for fmt in ("gemma4", "mistral", "think"):
        tags = TAGS[fmt]
        if tags.open in template or tags.close in template:
            return fmt
    return "none"


def markers(fmt: str) -> tuple[str, ...]:
    """The format's marker texts: the runtime writes these tokens out for the splitter."""
    if fmt == "harmony":
        return HARMONY_MARKERS
    tags = TAGS.get(fmt)
    return (tags.open, tags.close) if tags else ()


def reasoning_fields(fmt: str) -> tuple[str, ...]:
    """The message fields a family's template reads a past turn's reasoning from."""
    return ("thinking",) if fmt == "harmony" else ("reasoning_content", "reasoning")


def template_kwargs(fmt: str, effort: ReasoningEffort) -> dict[str, object]:
    """The template's own reasoning switch for `effort` (a template without it ignores it)."""
    if fmt == "harmony":
        return {"reasoning_effort": "low" if effort == "off" else effort}  # cannot be turned off
    thinking = effort in ("medium", "high")  # on/off families: "low" favours the first word
    if fmt == "mistral":  # Mistral Small 4's template takes reasoning_effort "none" or "high"
        return {"reasoning_effort": "high" if thinking else "none", "enable_thinking": thinking}
    if fmt in TAGS:
        return {"enable_thinking": thinking}
    return {}


class Splitter(Protocol):
    done: bool  # the model's turn is over (harmony's final message ended): stop generating

    def feed(self, text: str) -> list[Piece]: ...

    def flush(self) -> list[Piece]: ...


class PlainSplitter:
    """A model without reasoning markers: everything is the answer."""

    def __init__(self) -> None:
        self.done = False

    def feed(self, text: str) -> list[Piece]:
        return [text] if text else []

    def flush(self) -> list[Piece]:
        return []


def _ready(buffer: str, watched: tuple[str, ...]) -> tuple[str, str]:
    """(text that can go out now, text held back: a possible marker's start, trailing space)."""
    keep = undecided_tail(buffer, watched)
    ready = buffer[: len(buffer) - keep]
    out = ready.rstrip()
    return out, buffer[len(out) :]


class _Sides:
    """Emits pieces to one side or the other, dropping the space at the start of each part and
    putting a blank line between two parts of the same side (interleaved reasoning)."""

    def __init__(self, reasoning: bool) -> None:
        self.reasoning = reasoning
        self.fresh = True
        self._said = {True: False, False: False}
        self._gap = ""

    def enter(self, reasoning: bool) -> None:
        self.reasoning = reasoning
        self.fresh = True
        self._gap = "\n\n" if self._said[reasoning] else ""

    def emit(self, out: list[Piece], text: str) -> None:
        if self.fresh:
            text = text.lstrip()
        if not text:
            return
        self.fresh = False
        text, self._gap = self._gap + text, ""
        self._said[self.reasoning] = True
        out.append(Thought(text) if self.reasoning else text)


class TaggedSplitter:
    """`<think>…</think>`-style blocks. `start` is where the prompt leaves the model: inside the
    block (the template opened it), after it (closed, thinking off), or not yet known."""

    def __init__(self, tags: Tags, start: Literal["reasoning", "answer", "undecided"]) -> None:
        self.done = False
        self._tags = tags
        self._undecided = start == "undecided"
        self._sides = _Sides(reasoning=start == "reasoning")
        self._skip_header = False
        self._buffer = ""

    def feed(self, text: str) -> list[Piece]:
        self._buffer += text
        out: list[Piece] = []
        tags = self._tags
        while True:
            if self._undecided:
                rest = self._buffer.lstrip()
                if not rest or (tags.open.startswith(rest) and rest != tags.open):
                    return out
                self._undecided = False
                if rest.startswith(tags.open):
                    self._buffer = rest[len(tags.open) :]
                    self._open()
                else:
                    self._sides.enter(reasoning=False)
            if self._skip_header:
                rest = self._buffer.lstrip()
                if not rest or (tags.header.startswith(rest) and rest != tags.header):
                    return out
                if rest.startswith(tags.header):
                    self._buffer = rest[len(tags.header) :]
                self._skip_header = False
            found = _earliest(self._buffer, (tags.open, tags.close))
            if found is None:
                ready, self._buffer = _ready(self._buffer, (tags.open, tags.close))
                self._sides.emit(out, ready)
                return out
            at, marker = found
            self._sides.emit(out, self._buffer[:at].rstrip())
            self._buffer = self._buffer[at + len(marker) :]
            if marker == tags.open and not self._sides.reasoning:
                self._open()
            elif marker == tags.close and self._sides.reasoning:
                self._sides.enter(reasoning=False)
            # else a marker that changes nothing (a stray close in the answer): dropped

    def _open(self) -> None:
        self._sides.enter(reasoning=True)
        self._skip_header = bool(self._tags.header)

    def flush(self) -> list[Piece]:
        out: list[Piece] = []
        rest, self._buffer = self._buffer, ""
        if self._skip_header and self._tags.header.startswith(rest.strip()):
            rest = ""
        if self._undecided:
            self._sides.enter(reasoning=False)
        self._sides.emit(out, rest.rstrip())
        return out


def _earliest(text: str, wanted: tuple[str, ...]) -> tuple[int, str] | None:
    hits = [(i, m) for m in wanted if (i := text.find(m)) >= 0]
    return min(hits) if hits else None


def _channel(header: str) -> str:
    found = re.search(r"<\|channel\|>\s*([A-Za-z_]+)", header)
    return found.group(1) if found else ""


def _without_markers(text: str) -> str:
    for marker in HARMONY_MARKERS:
        text = text.replace(marker, "")
    return text


class HarmonySplitter:
    """gpt-oss's harmony messages: `<|channel|>analysis<|message|>…<|end|>` then
    `<|start|>assistant<|channel|>final<|message|>…<|return|>`. The analysis and commentary
    channels are reasoning; the turn is over once a final message ends."""

    def __init__(self, header: str = "") -> None:
        self.done = False
        self._in_header = True
        self._buffer = header
        self._given = len(header)  # the header's start that the prompt wrote, not the model
        self._sides = _Sides(reasoning=False)
        self._bodies = 0

    def feed(self, text: str) -> list[Piece]:
        out: list[Piece] = []
        if self.done:
            return out
        self._buffer += text
        while True:
            if self._in_header:
                at = self._buffer.find(MESSAGE)
                if at < 0:
                    if len(self._buffer) <= _MAX_HEADER:
                        return out
                    # Not harmony after all: what came is the answer, markers left out.
                    self._open_body(_channel(self._buffer))
                    self._buffer = _without_markers(self._buffer[self._given :])
                    self._given = 0
                    continue
                self._open_body(_channel(self._buffer[:at]))
                self._buffer = self._buffer[at + len(MESSAGE) :]
                self._given = 0
            found = _earliest(self._buffer, _BODY_ENDS)
            if found is None:
                ready, self._buffer = _ready(self._buffer, _BODY_ENDS)
                self._sides.emit(out, ready)
                return out
            at, marker = found
            self._sides.emit(out, self._buffer[:at].rstrip())
            final = not self._sides.reasoning
            if marker in (RETURN, CALL) or (marker == END and final):
                self.done = True
                self._buffer = ""
                return out
            # A new message's header follows (`<|channel|>` is kept: it names the channel).
            self._buffer = self._buffer[at if marker == CHANNEL else at + len(marker) :]
            self._in_header = True

    def _open_body(self, channel: str) -> None:
        self._in_header = False
        self._bodies += 1
        self._sides.enter(reasoning=channel in _REASONING_CHANNELS)

    def flush(self) -> list[Piece]:
        out: list[Piece] = []
        rest, self._buffer = self._buffer, ""
        if self.done:
            return out
        if self._in_header:
            # Text that never became a harmony message is the answer; a cut header is dropped.
            if self._bodies or CHANNEL in rest:
                return out
            self._sides.enter(reasoning=False)
            rest = _without_markers(rest[self._given :])
        self._sides.emit(out, rest.rstrip())
        return out


def make_splitter(fmt: str, prompt: str = "") -> Splitter:
    """The splitter for `fmt`, in the state the rendered `prompt` leaves the model in."""
    if fmt == "harmony":
        start = prompt.rfind(START)
        tail = prompt[start:] if start >= 0 else ""
        if any(m in tail for m in (END, RETURN, CALL)):
            tail = ""  # the prompt ends on a finished message: the model writes a new header
        return HarmonySplitter(tail)
    tags = TAGS.get(fmt)
    if tags is None:
        return PlainSplitter()
    end = prompt.rstrip()
    if end.endswith(tags.close):
        return TaggedSplitter(tags, "answer")
    if end.endswith(tags.open) or (tags.header and end.endswith(tags.open + tags.header)):
        return TaggedSplitter(tags, "reasoning")
    return TaggedSplitter(tags, "undecided")


_BARE_HARMONY = re.compile(r"^\s*analysis(?P<reasoning>.*?)assistantfinal(?P<answer>.*)$", re.S)


def split_reasoning(text: str, fmt: str) -> tuple[str, str]:
    """(answer, reasoning) of a whole reply, for servers that return both as one text."""
    splitter: Splitter
    if fmt == "harmony":
        bare = _BARE_HARMONY.match(text)
        if bare and "<|" not in text:  # a server that dropped the marker tokens' text
            return bare["answer"].strip(), bare["reasoning"].strip()
        splitter = HarmonySplitter()
    elif fmt in TAGS:
        tags = TAGS[fmt]
        close, open_ = text.find(tags.close), text.find(tags.open)
        # A close without an open before it: the prompt had opened the block.
        opened = close >= 0 and not 0 <= open_ < close
        splitter = TaggedSplitter(tags, "reasoning" if opened else "undecided")
    else:
        return text.strip(), ""
    pieces = [*splitter.feed(text), *splitter.flush()]
    answer = "".join(p for p in pieces if isinstance(p, str))
    reasoning = "".join(p.text for p in pieces if isinstance(p, Thought))
    return answer, reasoning
