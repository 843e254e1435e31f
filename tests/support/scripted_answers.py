"""An assistant whose answers are written in advance: the events a reasoning model's answer
gives (`Thinking` pieces, then `Token`s, then `Finished`), for the windows' real ask worker,
answer stream, recorder and store to carry.

None of the small models the tests run reasons, so the reasoning view is driven from here; the
model side (which text is reasoning) is tested against real templates in the engine's tests.
`gate`, when given, holds the answer between its reasoning and its first token, so that a test
can look at the window while the model "still reasons".
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from lanterne.assistant.answer import Answer, Citation, cited_numbers
from lanterne.assistant.engine_info import EngineInfo
from lanterne.assistant.pipeline import AskEvent, Assistant, Finished, Retrieved, Thinking, Token
from lanterne.engine.runtime import Timings
from lanterne.indexer.retriever import SearchResult


def citation(n: int, path: str, snippet: str) -> Citation:
    return Citation(n, SearchResult(n, path, None, 1, "", snippet, (), snippet, 1.0, "en"))


@dataclass
class Script:
    reasoning: Sequence[str]  # the pieces, as the worker receives them
    answer: Sequence[str]
    citations: list[Citation] = field(default_factory=list)
    gate: threading.Event | None = None  # set by the test to let the answer begin
    pace: float = 0.0  # seconds between pieces, as a model writes them (0: all at once)


class ScriptedAssistant(Assistant):
    """`ask` gives the script's events; everything around it (the worker's thread, the model
    gate, the signals, the chat, the store) is the app's own."""

    def __init__(self, base: Assistant, script: Script) -> None:
        super().__init__(base.settings, base.host, base.index_path)
        self.script = script

    def ask(self, question: str, **_options: Any) -> Iterator[AskEvent]:
        """The script's events, whatever the options (history, filters, …) asked."""
        script = self.script
        yield Retrieved(list(script.citations))
        for piece in script.reasoning:
            yield Thinking(piece)
            time.sleep(script.pace)
        if script.gate is not None:
            script.gate.wait(30)
        for piece in script.answer:
            yield Token(piece)
            time.sleep(script.pace)
        text = "".join(script.answer).strip()
        engine = EngineInfo("local", "Scripted", "Scripted", "", reasoning_format="think")
        yield Finished(
            Answer(
                question=question,
                text=text,
                language="en",
                citations=list(script.citations),
                timings=Timings(12, 5.0, len(script.answer), 50.0, 5.0),
                engine=engine,
                cited=cited_numbers(text, len(script.citations)),
                reasoning="".join(script.reasoning).strip(),
            )
        )
