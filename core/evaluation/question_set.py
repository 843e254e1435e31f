"""A question set, as an organisation writes it: JSON Lines or CSV, French or English.

Each question may name the files (and pages) that hold its answer, the facts the answer must
state, and whether the documents answer it at all (when not, the right answer is a refusal).

JSON Lines, one object a line:
    {"question": "...", "sources": ["vpn.md", "guide.pdf#12"], "facts": ["WireGuard"],
     "answerable": true}
CSV, with a header row: question, sources, facts, answerable, declined (lists separated by
';'). `declined` says whether the organisation's rules (house.decline_topics) must decline it.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from lanterne.foundation.translation import _


class QuestionSetError(ValueError):
    """The question set cannot be read; the message says where and why."""


@dataclass(frozen=True)
class ExpectedSource:
    name: str  # a file name, or the end of a path ("policies/vpn.md")
    page: int | None = None

    def matches(self, path: str, page: int | None) -> bool:
        wanted = PurePath(self.name).parts
        parts = PurePath(path).parts
        if tuple(parts[-len(wanted) :]) != wanted:
            return False
        return self.page is None or self.page == page

    def __str__(self) -> str:
        return self.name if self.page is None else f"{self.name}#{self.page}"


@dataclass(frozen=True)
class EvalQuestion:
    question: str
    sources: tuple[ExpectedSource, ...] = ()
    facts: tuple[str, ...] = ()
    answerable: bool = True
    declined: bool | None = None  # whether the organisation's rules must decline it
    line: int = 0  # where it was written, for messages

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "sources": [str(s) for s in self.sources],
            "facts": list(self.facts),
            "answerable": self.answerable,
            "declined": self.declined,
        }


@dataclass
class QuestionSet:
    path: Path
    questions: list[EvalQuestion] = field(default_factory=list)


def _source(text: str, where: str) -> ExpectedSource:
    name, _sep, page = text.strip().partition("#")
    if not name:
        raise QuestionSetError(_("{where}: an empty source name").format(where=where))
    if not page:
        return ExpectedSource(name)
    if not page.isdigit():
        raise QuestionSetError(
            _("{where}: the page of {source} must be a number").format(where=where, source=text)
        )
    return ExpectedSource(name, int(page))


def _flag(value: Any, name: str, where: str) -> bool | None:
    """yes/no in either language; None when not given."""
    if isinstance(value, bool) or value is None:
        return value
    text = str(value).strip().lower()
    if text == "":
        return None
    if text in ("yes", "oui", "true", "vrai", "1"):
        return True
    if text in ("no", "non", "false", "faux", "0"):
        return False
    raise QuestionSetError(
        _("{where}: {name} must be yes or no, not {value!r}").format(
            where=where, name=name, value=value
        )
    )


def _question(record: dict[str, Any], where: str, line: int) -> EvalQuestion:
    question = str(record.get("question") or "").strip()
    if not question:
        raise QuestionSetError(_("{where}: no question").format(where=where))
    sources = record.get("sources") or []
    facts = record.get("facts") or []
    if isinstance(sources, str):
        sources = [s for s in sources.split(";") if s.strip()]
    if isinstance(facts, str):
        facts = [f for f in facts.split(";") if f.strip()]
    if not isinstance(sources, list) or not isinstance(facts, list):
        raise QuestionSetError(_("{where}: sources and facts must be lists").format(where=where))
    return EvalQuestion(
        question=question,
        sources=tuple(_source(str(s), where) for s in sources),
        facts=tuple(str(f).strip() for f in facts if str(f).strip()),
        answerable=_flag(record.get("answerable"), "answerable", where) is not False,
        declined=_flag(record.get("declined"), "declined", where),
        line=line,
    )


def load_question_set(path: Path) -> QuestionSet:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionSetError(
            _("Cannot read the question set {path}: {error}").format(path=path, error=exc)
        ) from exc
    found = QuestionSet(path)
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(text.splitlines())
        if not reader.fieldnames or "question" not in reader.fieldnames:
            raise QuestionSetError(
                _("{path}: the CSV needs a header row with a 'question' column").format(path=path)
            )
        for row in reader:
            where = f"{path.name}:{reader.line_num}"
            found.questions.append(_question(dict(row), where, reader.line_num))
    else:
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{path.name}:{number}"
            try:
                record = json.loads(line)
            except ValueError as exc:
                raise QuestionSetError(
                    _("{where}: not JSON: {error}").format(where=where, error=exc)
                ) from exc
            if not isinstance(record, dict):
                raise QuestionSetError(_("{where}: a line must hold an object").format(where=where))
            found.questions.append(_question(record, where, number))
    if not found.questions:
        raise QuestionSetError(_("{path} holds no question").format(path=path))
    return found
