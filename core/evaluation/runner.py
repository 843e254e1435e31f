"""Run a question set through the assistant with one model and one set of settings.

Each question is asked on its own (no conversation), at temperature 0 unless the run sets one,
so that a rerun gives the same answers and two runs differ only by what was changed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lanterne import __version__
from lanterne.assistant.pipeline import Assistant, Finished, answer_language
from lanterne.engine.errors import EngineError
from lanterne.engine.host import ModelHost
from lanterne.evaluation.checks import (
    answer_language as detected_language,
)
from lanterne.evaluation.checks import (
    check_citations,
    facts_present,
    refused,
    retrieved_sources,
)
from lanterne.evaluation.question_set import EvalQuestion, QuestionSet
from lanterne.evaluation.results import QuestionResult, summarize
from lanterne.foundation.settings import Settings, SettingsError, Value

# The settings a run records: what shapes its answers.
RECORDED = (
    "model.path",
    "model.context_size",
    "model.max_answer_tokens",
    "model.temperature",
    "model.answer_language",
    "answer.grounding",
    "answer.length",
    "answer.tone",
    "answer.reasoning",
    "retrieval.top_k",
    "retrieval.mode",
    "retrieval.embedding_model",
    "engine.backend",
    "house.instructions",
    "house.decline_topics",
    "house.masked_words",
    "house.disclaimer",
)
Progress = Callable[[int, int, EvalQuestion], None]


def variant_settings(base: Settings, overrides: Mapping[str, Value]) -> Settings:
    """`base` (the user's settings, under the organisation's policy) with `overrides`, on a
    copy that is never saved."""
    settings = base.copy()
    if "model.temperature" not in overrides:
        settings.set("model.temperature", 0.0)
    for key, value in overrides.items():
        settings.set(key, value)
    return settings


def ask_one(assistant: Assistant, item: EvalQuestion, model_path: Path | None) -> QuestionResult:
    language = answer_language(item.question, assistant.settings.get_str("model.answer_language"))
    result = QuestionResult(item, language)
    try:
        answer = None
        for event in assistant.ask(item.question, model_path=model_path, cancel=threading.Event()):
            if isinstance(event, Finished):
                answer = event.answer
    except (EngineError, SettingsError, OSError) as exc:
        result.error = str(exc)
        return result
    assert answer is not None
    result.answer = answer.text
    result.citations = [{"n": c.n, "path": c.path, "page": c.page} for c in answer.citations]
    result.retrieved = retrieved_sources(item.sources, answer.citations)
    result.citation_checks = check_citations(answer.text, answer.citations)
    result.facts = facts_present(answer.text, item.facts)
    result.answer_language = detected_language(answer.text)
    result.refused = refused(answer.text)
    result.declined = bool(answer.declined)
    result.ttft_ms = answer.timings.ttft_ms
    result.tokens_per_second = answer.timings.tokens_per_second
    return result


def run_evaluation(
    questions: QuestionSet,
    settings: Settings,
    host: ModelHost,
    index_path: Path,
    *,
    label: str,
    model_path: Path | None = None,
    overrides: Mapping[str, Value] | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> dict[str, Any]:
    """Every question answered and checked (those before `cancel`, when it is set); the run
    as saved (see results.save_run)."""
    settings = variant_settings(settings, overrides or {})
    assistant = Assistant(settings, host, index_path)
    results: list[QuestionResult] = []
    for number, item in enumerate(questions.questions, start=1):
        if cancel is not None and cancel.is_set():
            break
        if progress is not None:
            progress(number, len(questions.questions), item)
        results.append(ask_one(assistant, item, model_path))
    recorded: dict[str, Value] = {key: settings.get(key) for key in RECORDED}
    if model_path is not None:
        recorded["model.path"] = str(model_path)
    return {
        "label": label,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "lanterne": __version__,
        "question_set": str(questions.path),
        "model": Path(str(recorded["model.path"])).name,
        "overrides": dict(overrides or {}),
        "settings": recorded,
        "summary": summarize(results),
        "first_error": next((r.error for r in results if r.error), ""),
        "questions": [r.to_json() for r in results],
    }
