"""An answer with its citations and timings, in the JSON shape scripts rely on."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from lanterne.assistant.engine_info import EngineInfo
from lanterne.assistant.prompt import PastTurn, Source
from lanterne.engine.runtime import Timings
from lanterne.indexer.retriever import SearchResult

_MARKER = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True)
class Citation:
    """Source n of an answer: the n-th retrieved passage, exactly as the prompt numbered it."""

    n: int
    source: SearchResult

    @property
    def path(self) -> str:
        return self.source.path

    @property
    def page(self) -> int | None:
        return self.source.page

    @property
    def line(self) -> int | None:
        return self.source.line

    @property
    def heading(self) -> str:
        return self.source.heading

    @property
    def snippet(self) -> str:
        return self.source.snippet

    @property
    def text(self) -> str:
        return self.source.text

    def as_source(self) -> Source:
        """The passage as the prompt shows it to the model."""
        return Source(self.n, self.path, self.heading, self.page, self.text)

    def to_record(self) -> dict[str, Any]:
        """All of the source, to show it and give it to the model again from saved history."""
        s = self.source
        return {
            "n": self.n,
            "chunk_id": s.chunk_id,
            "path": s.path,
            "page": s.page,
            "line": s.line,
            "heading": s.heading,
            "snippet": s.snippet,
            "highlights": [list(span) for span in s.highlights],
            "text": s.text,
            "score": s.score,
            "lang": s.lang,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Citation:
        source = SearchResult(
            chunk_id=int(record["chunk_id"]),
            path=str(record["path"]),
            page=record.get("page"),
            line=record.get("line"),
            heading=str(record.get("heading") or ""),
            snippet=str(record.get("snippet") or ""),
            highlights=tuple((int(a), int(b)) for a, b in record.get("highlights") or ()),
            text=str(record.get("text") or ""),
            score=float(record.get("score") or 0.0),
            lang=str(record.get("lang") or "other"),
        )
        return cls(int(record["n"]), source)

    def to_json(self, cited: bool) -> dict[str, object]:
        return {
            "n": self.n,
            "path": self.path,
            "page": self.page,
            "line": self.line,
            "heading": self.heading,
            "snippet": self.snippet,
            "cited": cited,
            "offline": self.source.offline,  # its folder is not connected: cannot be opened now
        }


def cited_numbers(answer: str, available: int) -> list[int]:
    """The source numbers the answer refers to, in order of first mention, valid ones only."""
    seen: list[int] = []
    for match in _MARKER.finditer(answer):
        n = int(match.group(1))
        if 1 <= n <= available and n not in seen:
            seen.append(n)
    return seen


@dataclass
class Answer:
    question: str
    text: str
    language: str
    citations: list[Citation]
    timings: Timings
    engine: EngineInfo
    stopped: bool = False
    cited: list[int] = field(default_factory=list)
    turns_kept: int = 0  # earlier turns of the conversation the model could still see
    declined: str = ""  # the organisation's topic this question was declined for, if any
    notice: str = ""  # the organisation's notice, when it could not end the text (JSON output)
    reasoning: str = ""  # what the model wrote before its final answer (never part of `text`)

    def as_past_turn(self) -> PastTurn:
        """This answer as history for the next question of the same conversation."""
        sources = tuple(c.as_source() for c in self.citations)
        return PastTurn(self.question, self.text, sources, self.reasoning)

    def to_json(self) -> dict[str, object]:
        return {
            "answer": self.text,
            "language": self.language,
            "citations": [c.to_json(c.n in self.cited) for c in self.citations],
            "timings": self.timings.to_json(),
            "model": self.engine.to_json(),
            "stopped": self.stopped,
            "turns_kept": self.turns_kept,
            "declined": self.declined or None,
            "reasoning": self.reasoning,  # apart from "answer", which never holds any of it
            **({"notice": self.notice} if self.notice else {}),
        }
