"""A conversation longer than the context keeps the system prompt, its sources and newest turns."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lanterne.assistant.answer import Citation
from lanterne.assistant.budget import fit_prompt
from lanterne.assistant.pipeline import Assistant, Finished
from lanterne.assistant.prompt import PastTurn, Source, build_messages
from lanterne.context import AppContext
from lanterne.foundation.settings import Settings
from lanterne.indexer.retriever import SearchResult


def words(messages: list[dict[str, str]]) -> tuple[str, int]:
    """A stand-in tokenizer (one token a word) so the order of sacrifice is plain to read."""
    text = "\n".join(m["content"] for m in messages)
    return text, len(text.split())


def citation(n: int, text: str) -> Citation:
    result = SearchResult(
        chunk_id=n,
        path=f"/docs/s{n}.txt",
        page=None,
        line=None,
        heading="",
        snippet="",
        highlights=(),
        text=text,
        score=0.0,
        lang="en",
    )
    return Citation(n, result)


def past(i: int, n_source_words: int = 50) -> PastTurn:
    source = Source(1, f"/docs/old{i}.txt", "", None, f"old{i} " * n_source_words)
    return PastTurn(f"question{i} ?", f"answer{i}", (source,))


SOURCES = [citation(n, f"src{n} " * 40) for n in (1, 2, 3)]


def fit(budget: int, history: list[PastTurn]) -> tuple[str, int, int, int]:
    fitted = fit_prompt("now ?", SOURCES, "en", history, budget, words)
    assert fitted.tokens <= budget or not fitted.citations
    return fitted.prompt, fitted.turns_kept, fitted.turns_with_sources, len(fitted.citations)


def test_everything_stays_when_it_fits() -> None:
    prompt, turns, sourced, cited = fit(10_000, [past(1), past(2)])
    assert (turns, sourced, cited) == (2, 2, 3)
    assert "old1" in prompt and "answer2" in prompt


def test_old_turns_lose_their_sources_first_oldest_first() -> None:
    full = fit(10_000, [past(1), past(2)])[0]
    prompt, turns, sourced, cited = fit(len(full.split()) - 10, [past(1), past(2)])
    assert (turns, sourced, cited) == (2, 1, 3)
    assert "old1" not in prompt and "old2" in prompt and "question1" in prompt


def test_then_the_oldest_turns_go_then_the_weakest_sources() -> None:
    history = [past(1), past(2), past(3)]
    no_history = build_messages("now ?", [c.as_source() for c in SOURCES], "en")
    base = words(no_history)[1]
    prompt, turns, sourced, cited = fit(base + 4, history)
    assert (turns, sourced, cited) == (1, 0, 3)
    assert "question3" in prompt and "question2" not in prompt and "You are Lanterne" in prompt
    prompt, turns, sourced, cited = fit(base - 30, history)
    assert (turns, cited) == (0, 2) and "src3" not in prompt and "src1" in prompt


def test_the_last_source_is_shortened_before_it_is_dropped() -> None:
    long = [citation(1, "mot " * 2000)]
    fitted = fit_prompt("now ?", long, "en", [], 700, words)
    assert fitted.tokens <= 700 and len(fitted.citations) == 1
    assert fitted.citations[0].text.endswith("…")


@pytest.mark.model
class TestOnARealModel:
    @pytest.fixture
    def assistant(self, tiny_moe_model: Path, docs_folder: Path) -> Iterator[Assistant]:
        settings = Settings()
        settings.set("model.path", str(tiny_moe_model))
        settings.set("model.context_size", 1024)
        settings.set("model.max_answer_tokens", 16)
        context = AppContext(settings)
        indexer = context.indexer()
        indexer.add_folder(docs_folder)
        indexer.store.close()
        yield context.assistant
        context.close()

    def ask(self, assistant: Assistant, question: str, history: list[PastTurn]) -> Finished:
        last = list(assistant.ask(question, history=history))[-1]
        assert isinstance(last, Finished)
        return last

    def test_a_follow_up_reuses_the_evaluated_conversation(self, assistant: Assistant) -> None:
        first = self.ask(assistant, "Combien de temps cuit la tarte ?", []).answer
        second = self.ask(assistant, "Et à quelle température ?", [first.as_past_turn()]).answer
        assert second.turns_kept == 1
        # Everything up to the first answer was already in the KV cache.
        assert second.timings.reused_tokens >= first.timings.prompt_tokens
        assert second.timings.prompt_tokens > first.timings.prompt_tokens

    def test_a_long_conversation_still_fits(self, assistant: Assistant) -> None:
        history = [past(i, n_source_words=120) for i in range(24)]
        answer = self.ask(assistant, "Combien de temps cuit la tarte ?", history).answer
        assert answer.timings.prompt_tokens <= 1024 - 16
        assert 0 < answer.turns_kept < 24
        assert answer.citations and answer.citations[0].path.endswith("tarte.txt")


def test_a_500_turn_conversation_is_fitted_in_a_few_measures() -> None:
    """The most that fits is found by halving: as many turns (and sources) as the one-at-a-time
    search would keep, in a handful of measures instead of a thousand."""
    history = [past(i, n_source_words=20 + i % 7) for i in range(500)]
    calls: list[int] = []

    def counted(messages: list[dict[str, str]]) -> tuple[str, int]:
        calls.append(1)
        return words(messages)

    for budget in (700, 2_000, 9_000, 30_000):
        calls.clear()
        fitted = fit_prompt("now ?", SOURCES, "en", history, budget, counted)
        assert len(calls) <= 25
        assert fitted.tokens <= budget
        # One more turn (or one more sourced turn) would not have fitted.
        more = build_messages(
            "now ?",
            [c.as_source() for c in fitted.citations],
            "en",
            history[len(history) - fitted.turns_kept - 1 :],
            fitted.turns_with_sources + (fitted.turns_with_sources > 0),
        )
        assert fitted.turns_kept == 500 or words(more)[1] > budget
