"""An evaluation run's results: per question and in summary, saved as JSON to compare later."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from statistics import fmean
from typing import Any

from lanterne.evaluation.checks import CitationCheck
from lanterne.evaluation.question_set import EvalQuestion
from lanterne.foundation import paths
from lanterne.foundation.atomic_file import write_text_atomic
from lanterne.foundation.translation import N_, _

# The summary's measures, in the order a comparison shows them, with their labels.
MEASURES: tuple[tuple[str, str], ...] = (
    ("retrieval", N_("Expected sources retrieved")),
    ("citations", N_("Citations supported by their source")),
    ("facts", N_("Expected facts in the answer")),
    ("language", N_("Answer in the question's language")),
    ("refusal", N_("Refuses exactly when the documents lack the answer")),
    ("declined", N_("Declined exactly when the organisation's rules say")),
    ("ttft_ms", N_("Time to first token (ms)")),
    ("tokens_per_second", N_("Tokens per second")),
)
PERCENTAGES = {"retrieval", "citations", "facts", "language", "refusal", "declined"}


@dataclass
class QuestionResult:
    question: EvalQuestion
    language: str  # the language the answer had to be in
    answer: str = ""
    citations: list[dict[str, Any]] = field(default_factory=list)
    retrieved: list[bool] = field(default_factory=list)  # per expected source
    citation_checks: list[CitationCheck] = field(default_factory=list)
    facts: list[bool] = field(default_factory=list)  # per expected fact
    answer_language: str = ""
    refused: bool = False
    declined: bool = False  # the organisation's rules declined it
    ttft_ms: float = 0.0
    tokens_per_second: float = 0.0
    error: str = ""

    def scores(self) -> dict[str, float | None]:
        """Each measure for this question, 0..1 (None: it does not apply here)."""
        if self.error:
            return dict.fromkeys((m for m, _label in MEASURES), None)
        checks = self.citation_checks
        expected_decline = self.question.declined
        if self.declined:  # said by the rules, not written by the model: nothing else to judge
            return {
                **dict.fromkeys((m for m, _label in MEASURES), None),
                "declined": None if expected_decline is None else float(expected_decline),
            }
        return {
            "retrieval": fmean(self.retrieved) if self.retrieved else None,
            "citations": fmean(c.supported for c in checks) if checks else None,
            "facts": fmean(self.facts) if self.facts else None,
            "language": float(self.answer_language == self.language),
            "refusal": float(self.refused != self.question.answerable),
            "declined": None if expected_decline is None else float(not expected_decline),
            "ttft_ms": self.ttft_ms,
            "tokens_per_second": self.tokens_per_second,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            **self.question.to_json(),
            "language": self.language,
            "answer": self.answer,
            "citations": self.citations,
            "retrieved": self.retrieved,
            "citation_checks": [c.to_json() for c in self.citation_checks],
            "facts_found": self.facts,
            "answer_language": self.answer_language,
            "refused": self.refused,
            "declined": self.declined,
            "ttft_ms": round(self.ttft_ms, 1),
            "tokens_per_second": round(self.tokens_per_second, 2),
            "error": self.error,
            "scores": self.scores(),
        }


def summarize(results: list[QuestionResult]) -> dict[str, float | None]:
    """The mean of each measure over the questions it applies to."""
    summary: dict[str, float | None] = {}
    for measure, _label in MEASURES:
        values = [v for r in results if (v := r.scores()[measure]) is not None]
        summary[measure] = round(fmean(values), 4) if values else None
    summary["questions"] = len(results)
    summary["errors"] = sum(1 for r in results if r.error)
    return summary


def evaluations_dir() -> Path:
    return paths.data_dir() / "evaluations"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")[:60] or "run"


def save_run(run: dict[str, Any]) -> Path:
    folder = evaluations_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = str(run["created"]).replace(":", "").replace("-", "")[:15]
    path = folder / f"{stamp}-{_slug(str(run['label']))}.json"
    number = 1
    while path.exists():
        number += 1
        path = folder / f"{stamp}-{_slug(str(run['label']))}-{number}.json"
    write_text_atomic(path, json.dumps(run, ensure_ascii=False, indent=2) + "\n")
    return path


def load_run(path: Path) -> dict[str, Any]:
    try:
        run = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(
            _("Cannot read the evaluation {path}: {error}").format(path=path, error=exc)
        ) from exc
    if not isinstance(run, dict) or "summary" not in run or "label" not in run:
        raise ValueError(_("{path} is not an evaluation saved by Lanterne").format(path=path))
    return run


def saved_runs() -> list[Path]:
    folder = evaluations_dir()
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def formatted(measure: str, value: float | None) -> str:
    if value is None:
        return "—"
    if measure in PERCENTAGES:
        return f"{value * 100:.0f} %"
    if measure == "ttft_ms":
        return f"{value:.0f}"
    return f"{value:.1f}"


def comparison_table(runs: list[dict[str, Any]]) -> list[list[str]]:
    """Rows of text: a header with each run's label, then one row per measure."""
    rows = [[_("Measure"), *(str(r["label"]) for r in runs)]]
    for measure, label in MEASURES:
        rows.append([_(label), *(formatted(measure, r["summary"].get(measure)) for r in runs)])
    rows.append([_("Questions that failed"), *(str(r["summary"].get("errors", 0)) for r in runs)])
    return rows
