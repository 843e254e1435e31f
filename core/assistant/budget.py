"""Make a conversation fit the model's context window, giving up the least useful text first.

Order of sacrifice: the sources of older turns, then the oldest turns themselves, then the
weakest of this turn's sources, then the end of the last one. The system prompt, this turn's
best source and the question always stay.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from lanterne.assistant.answer import Citation
from lanterne.assistant.prompt import DEFAULT_STYLE, AnswerStyle, PastTurn, build_messages

Messages = list[dict[str, str]]
Measure = Callable[[Messages], tuple[str, int]]  # rendered prompt and its token count
_MIN_SOURCE_CHARS = 200  # a shorter excerpt helps less than the room it takes


@dataclass(frozen=True)
class FittedPrompt:
    messages: Messages  # the conversation as chat messages, for a server that renders them
    prompt: str  # as the model will read it, when rendered here
    tokens: int
    citations: list[Citation]
    turns_kept: int  # the newest past turns still in the prompt
    turns_with_sources: int  # of those, how many still carry their sources


def fit_prompt(
    question: str,
    citations: Sequence[Citation],
    language: str,
    history: Sequence[PastTurn],
    budget: int,
    measure: Measure,
    style: AnswerStyle = DEFAULT_STYLE,
) -> FittedPrompt:
    def attempt(turns: int, sourced: int, kept: Sequence[Citation]) -> FittedPrompt:
        sources = [c.as_source() for c in kept]
        past = history[len(history) - turns :] if turns else ()
        messages = build_messages(question, sources, language, past, sourced, style)
        prompt, used = measure(messages)
        return FittedPrompt(messages, prompt, used, list(kept), turns, sourced)

    @functools.cache
    def with_all_sources(turns: int, sourced: int) -> FittedPrompt:
        return attempt(turns, sourced, citations)

    # Each measure renders and tokenizes the whole conversation, so the most that fits is
    # found by halving (tokens only grow with turns and sources), not one turn at a time:
    # a 500-turn chat would otherwise wait a minute and more before its answer starts.
    turns = len(history)
    fitted = with_all_sources(turns, turns)
    if fitted.tokens > budget:
        sourced = _most(turns, lambda n: with_all_sources(turns, n).tokens <= budget)
        fitted = with_all_sources(turns, sourced)
    if fitted.tokens > budget:
        turns = _most(turns, lambda n: with_all_sources(n, 0).tokens <= budget)
        fitted = with_all_sources(turns, 0)
    kept = list(citations)
    while fitted.tokens > budget and kept:
        if len(kept) > 1:
            kept.pop()
        else:
            last = kept[0]
            keep_chars = int(len(last.text) * budget / fitted.tokens) - 64
            if keep_chars < _MIN_SOURCE_CHARS:
                kept = []
            else:
                shortened = replace(last.source, text=last.text[:keep_chars] + "…")
                kept = [Citation(last.n, shortened)]
        fitted = attempt(0, 0, kept)
    return fitted


def _most(high: int, fits: Callable[[int], bool]) -> int:
    """The largest n in 1..high that fits (0 if none does), `fits` holding up to some n and
    failing beyond it."""
    if fits(high):
        return high
    low = 0  # fits(low) is not asked: 0 is the answer when nothing larger fits
    while high - low > 1:
        middle = (low + high) // 2
        if fits(middle):
            low = middle
        else:
            high = middle
    return low
