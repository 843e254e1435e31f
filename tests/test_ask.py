"""retrieve -> prompt -> engine: citations are the retrieved passages, numbered as in the prompt."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lanterne.assistant.answer import Answer, cited_numbers
from lanterne.assistant.pipeline import (
    AskEvent,
    Assistant,
    Finished,
    LoadingModel,
    ModelReady,
    Retrieved,
    Token,
    answer_language,
)
from lanterne.assistant.prompt import build_messages
from lanterne.context import AppContext
from lanterne.engine.chat_template import fold_system
from lanterne.engine.errors import NoModelConfiguredError
from lanterne.engine.hardware import probe
from lanterne.foundation.language import question_language
from lanterne.foundation.settings import Settings
from lanterne.indexer.retriever import Retriever

FIXTURES = Path(__file__).parent / "fixtures"

pytestmark = pytest.mark.model


@pytest.fixture
def ctx(docs_folder: Path, tiny_moe_model: Path) -> Iterator[AppContext]:
    settings = Settings()
    settings.set("model.path", str(tiny_moe_model))
    settings.set("model.context_size", 1024)
    settings.set("model.max_answer_tokens", 24)
    context = AppContext(settings)
    indexer = context.indexer()
    indexer.add_folder(docs_folder)
    indexer.store.close()
    yield context
    context.close()


def run(assistant: Assistant, question: str, **kw: Any) -> list[AskEvent]:
    return list(assistant.ask(question, **kw))


def final_answer(events: list[AskEvent]) -> Answer:
    last = events[-1]
    assert isinstance(last, Finished)
    return last.answer


def test_events_and_citations_come_from_retrieval(ctx: AppContext) -> None:
    question = "Combien de temps cuit la tarte aux pommes ?"
    events = run(ctx.assistant, question)
    kinds = [type(e) for e in events if not isinstance(e, LoadingModel)]
    assert kinds[:2] == [ModelReady, Retrieved] and kinds[-1] is Finished
    assert Token in kinds
    # Loading is announced first, and only when the model is not loaded yet.
    assert isinstance(run(ctx.assistant, question)[0], ModelReady)
    answer = final_answer(events)
    store = ctx.open_store()
    expected = Retriever(store).search(question, 5)
    store.close()
    # Citation n is the n-th retrieved passage, whatever the (random-weight) model wrote.
    assert [(c.n, c.path, c.heading, c.text) for c in answer.citations] == [
        (i, r.path, r.heading, r.text) for i, r in enumerate(expected, start=1)
    ]
    assert answer.citations[0].path.endswith("tarte.txt")
    assert answer.language == "fr"
    assert answer.text == "".join(e.text for e in events if isinstance(e, Token)).strip()
    data: dict[str, Any] = json.loads(json.dumps(answer.to_json()))  # as scripts will see it
    assert set(data) >= {"answer", "language", "citations", "timings", "model"}
    assert data["model"]["architecture"] == "qwen3moe" and data["model"]["n_expert"] == 4
    gpus = probe().gpus  # a GPU build answers on its GPU
    assert data["model"]["offload"]["backend"] == (gpus[0].backend if gpus else "cpu")
    assert data["timings"]["predicted_tokens"] >= 1


def test_no_docs_means_no_sources(ctx: AppContext) -> None:
    answer = final_answer(run(ctx.assistant, "How long does the pie bake?", use_docs=False))
    assert answer.citations == [] and answer.language == "en"


def test_sources_are_dropped_to_fit_a_small_context(ctx: AppContext, tmp_path: Path) -> None:
    big = tmp_path / "big"
    big.mkdir()
    for i in range(6):
        (big / f"long{i}.txt").write_text(("Les pommes et la tarte. " * 45 + "\n\n") * 3)
    indexer = ctx.indexer()
    indexer.add_folder(big)
    indexer.store.close()
    ctx.settings.set("model.context_size", 1024)
    ctx.settings.set("model.max_answer_tokens", 64)
    small = AppContext(ctx.settings)
    try:
        events = run(small.assistant, "pommes tarte")
    finally:
        small.close()
    answer = final_answer(events)
    assert answer.timings.prompt_tokens <= 1024 - 64
    assert 1 <= len(answer.citations) < 5


def test_stop_keeps_the_partial_answer(ctx: AppContext) -> None:
    ctx.settings.set("model.max_answer_tokens", 400)
    cancel = threading.Event()
    events = []
    for event in ctx.assistant.ask("tarte", cancel=cancel):
        events.append(event)
        if isinstance(event, Token):
            cancel.set()
    answer = final_answer(events)
    assert answer.stopped and answer.timings.predicted_tokens < 400


def test_without_a_model_the_error_says_what_to_do() -> None:
    ctx = AppContext(Settings())
    with pytest.raises(NoModelConfiguredError, match="LANTERNE_MODEL"):
        run(ctx.assistant, "question")


def test_prompt_numbers_sources_in_the_answer_language() -> None:
    from lanterne.assistant.prompt import Source

    sources = [
        Source(1, "/d/tarte.txt", "Cuisine", 3, "La tarte cuit 40 minutes."),
        Source(2, "/d/b.md", "", None, "Other text."),
    ]
    fr = build_messages("Combien de temps ?", sources, "fr")
    assert "Réponds en français" in fr[0]["content"]
    assert (
        "<source>\n[1] tarte.txt — Cuisine — page 3\nLa tarte cuit 40 minutes.\n</source>"
        in fr[1]["content"]
    )
    assert "<source>\n[2] b.md\nOther text.\n</source>" in fr[1]["content"]
    assert fr[1]["content"].endswith("Question\u202f: Combien de temps ?")
    en = build_messages("How long?", sources, "en")
    assert "Answer in English" in en[0]["content"] and en[1]["content"].endswith(
        "Question: How long?"
    )
    folded = fold_system(en)
    assert len(folded) == 1 and folded[0]["content"].startswith("You are Lanterne")


def test_cited_numbers_ignore_unknown_markers() -> None:
    assert cited_numbers("Voir [2] et [1], puis [2] et [9].", 3) == [2, 1]


def test_answer_language_follows_the_question() -> None:
    assert answer_language("Où se trouvent les sauvegardes ?") == "fr"
    assert answer_language("Where are the backups kept?") == "en"
    assert answer_language("Where are the backups kept?", policy="fr") == "fr"  # forced
    assert answer_language("Où se trouvent les sauvegardes ?", policy="en") == "en"


def test_short_questions_are_told_apart_without_the_interfaces_help() -> None:
    """100 short questions as typed (no accents, two words, product names); the fallback is the
    other language, so only detection counts."""
    rows = [
        line.split("\t")
        for line in (FIXTURES / "short_questions.tsv").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    assert len(rows) == 100 and {lang for lang, _q in rows} == {"fr", "en"}
    wrong = [q for lang, q in rows if question_language(q, "en" if lang == "fr" else "fr") != lang]
    assert len(wrong) <= 2, wrong


def test_offload_overrides_from_settings_reach_the_plan(ctx: AppContext) -> None:
    ctx.settings.set("offload.gpu_layers", 0)
    ctx.settings.set("offload.kv_cache_type", "f16")
    ctx.settings.set("model.threads", 1)
    answer = final_answer(run(ctx.assistant, "tarte"))
    plan = answer.engine.plan
    assert plan is not None
    offload = plan.to_json()
    assert offload["kv_type"] == "f16" and offload["n_threads"] == 1
    assert set(plan.overridden) == {"n_gpu_layers", "kv_type", "n_threads"}
    # This machine has no GPU, so that (not the setting) is the reason given.
    assert plan.description.startswith("All layers on the CPU (1 thread): ")
    assert plan.description.endswith(" MB of RAM.")
