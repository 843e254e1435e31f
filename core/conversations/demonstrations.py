"""Conversations as demonstration data for a later fine-tune, written only where the user says.

One example per answer: the conversation up to its question, the question with the passages
the model was given, and the answer the user approved (their correction if they made one), in
the chat format most fine-tuning tools read (`{"messages": [{"role": ..., "content": ...}]}`).
A `metadata` object beside it says where the example comes from (rating, edit, sources, model,
date) and holds the model's reasoning, which the messages never do; `--no-metadata` leaves it
out for tools that reject unknown keys.

Kept as the model saw them: the passages of the answered question. Rebuilt: the instructions,
from today's settings (the settings of the day are not recorded), and the earlier turns, as the
user last saw them and without their passages, as a long conversation trims them anyway.
Answers written by the organisation's rules (declined topics), failed, stopped or cut short
are left out, unless the user corrected them: a correction is a demonstration in itself.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any, TextIO

from lanterne.assistant.answer import Citation
from lanterne.assistant.pipeline import answer_language
from lanterne.assistant.prompt import AnswerStyle, PastTurn, Source, build_messages
from lanterne.conversations.store import ConversationStore, Message
from lanterne.foundation.db_faults import DiskFullError, is_disk_full
from lanterne.foundation.translation import _, ngettext

RATINGS = ("any", "up", "down", "unrated")
_RATING_NAMES = {1: "up", -1: "down", None: None}


@dataclass(frozen=True)
class DemonstrationFilter:
    since: date | None = None  # asked on or after this day (local time)
    until: date | None = None  # asked on or before this day
    folder: Path | None = None  # at least one of the answer's sources lies under it
    rating: str = "any"  # one of RATINGS
    edited_only: bool = False

    def __post_init__(self) -> None:
        if self.rating not in RATINGS:
            message = _("A rating filter is one of {choices}, not {value}.")
            raise ValueError(message.format(choices=", ".join(RATINGS), value=self.rating))
        if self.folder is not None:  # resolved once: sources are stored as the index saw them
            object.__setattr__(self, "folder", self.folder.expanduser().resolve())

    def accepts(self, demo: Demonstration) -> bool:
        day = demo.asked_on
        if (self.since and day < self.since) or (self.until and day > self.until):
            return False
        if self.rating != "any" and (_RATING_NAMES[demo.answer.rating] or "unrated") != self.rating:
            return False
        if self.edited_only and not demo.edited:
            return False
        folder = self.folder
        return folder is None or any(Path(s.path).is_relative_to(folder) for s in demo.sources)


@dataclass(frozen=True)
class Demonstration:
    conversation_id: int
    title: str
    question: Message
    answer: Message
    history: tuple[PastTurn, ...]  # the earlier turns, as the user last saw them

    @property
    def edited(self) -> bool:
        return self.answer.edited_text is not None

    @property
    def asked_on(self) -> date:
        return datetime.fromisoformat(self.question.created_at).astimezone().date()

    @cached_property  # read by the filter, the preview's table and the example
    def sources(self) -> list[Source]:
        return [Citation.from_record(r).as_source() for r in self.answer.sources]

    @property
    def language(self) -> str:
        """The answer's, as recorded when it finished; an answer cut short (then corrected)
        recorded none: the question's, as the assistant would have chosen it."""
        return str(self.answer.details.get("language") or answer_language(self.question.text))

    def example(self, style: AnswerStyle, metadata: bool = True) -> dict[str, Any]:
        """The fine-tuning example: the messages, then (unless left out) where it comes from."""
        messages = build_messages(
            self.question.text, self.sources, self.language, self.history, 0, style
        )
        messages.append({"role": "assistant", "content": self.answer.shown_text.strip()})
        example: dict[str, Any] = {"messages": messages}
        if metadata:
            example["metadata"] = {
                "conversation": self.conversation_id,
                "title": self.title,
                "message": self.answer.id,
                "asked_at": self.question.created_at,
                "language": self.language,
                "model": self.answer.details.get("model"),
                "rating": _RATING_NAMES[self.answer.rating],
                "edited": self.edited,
                "original_answer": self.answer.text if self.edited else None,
                # What the model reasoned before answering: here only, never in the messages.
                "reasoning": self.answer.reasoning or None,
                "sources": [
                    {"n": s.n, "path": s.path, "page": s.page, "heading": s.heading}
                    for s in self.sources
                ],
            }
        return example


def _exportable(answer: Message) -> bool:
    if answer.edited_text is not None:
        return bool(answer.edited_text.strip())
    return (
        answer.status == "complete"
        and bool(answer.text.strip())
        and answer.details.get("backend") != "rules"
    )


def demonstrations(
    store: ConversationStore, where: DemonstrationFilter | None = None
) -> Iterator[Demonstration]:
    """Every exportable answer that `where` accepts, oldest conversation first."""
    where = where or DemonstrationFilter()
    titles = store.titles()
    current: int | None = None
    history: list[PastTurn] = []
    question: Message | None = None
    for message in store.all_messages():
        if message.conversation_id != current:
            current, history, question = message.conversation_id, [], None
        if message.role == "user":
            question = message
            continue
        if question is None:  # an answer with no question before it: nothing to learn from
            continue
        demo = Demonstration(current, titles.get(current, ""), question, message, tuple(history))
        if _exportable(message) and where.accepts(demo):
            yield demo
        if message.shown_text.strip() and message.status != "error":
            history.append(PastTurn(question.text, message.shown_text))
        question = None


def first_matches(
    store: ConversationStore, where: DemonstrationFilter, n: int
) -> tuple[int, list[Demonstration]]:
    """How many answers `where` accepts, and the first `n` of them (a preview)."""
    count, first = 0, []
    for demo in demonstrations(store, where):
        if count < n:
            first.append(demo)
        count += 1
    return count, first


def exported_text(count: int, path: Path) -> str:
    """What the CLI and the window say once an export is written."""
    text = ngettext(
        "Exported {n} answer to {path}. Nothing was sent anywhere.",
        "Exported {n} answers to {path}. Nothing was sent anywhere.",
        count,
    )
    return text.format(n=count, path=path)


def write_jsonl(
    demos: Iterable[Demonstration],
    out: TextIO,
    style: AnswerStyle,
    metadata: bool = True,
    ensure_ascii: bool = False,
) -> int:
    """`ensure_ascii` for a stream that cannot encode every character (cp1252 on Windows)."""
    count = 0
    for demo in demos:
        out.write(json.dumps(demo.example(style, metadata), ensure_ascii=ensure_ascii) + "\n")
        count += 1
    return count


def export_file(
    demos: Iterable[Demonstration], path: Path, style: AnswerStyle, metadata: bool = True
) -> int:
    """Written whole or not at all: an interrupted export leaves no half file behind."""
    path = path.expanduser()
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            count = write_jsonl(demos, out, style, metadata)
        Path(temporary).replace(path)  # readable by its owner only (mkstemp): it holds chats
    except BaseException as exc:
        Path(temporary).unlink(missing_ok=True)
        if is_disk_full(exc):
            what_now = _(
                "The export was not written and no part of it was left there: try again once "
                "there is room, or choose another place."
            )
            raise DiskFullError(path.parent, what_now=what_now) from exc
        raise
    return count
