"""Lanterne's own decode loop on the real Gemma model: same tokens as llama.cpp's, KV reuse."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lanterne.engine.runtime import LocalModel, SamplingParams

pytestmark = pytest.mark.model

GREEDY = SamplingParams(max_tokens=24, temperature=0.0, repeat_penalty=1.0)
PROMPT = "La capitale de la France est"


@pytest.fixture(scope="module")
def gemma(gemma_model: Path) -> Iterator[LocalModel]:
    model = LocalModel.load(gemma_model, n_ctx=1024, n_threads=2)
    yield model
    model.close()


def test_greedy_text_equals_llama_cpp_python(gemma: LocalModel) -> None:
    """llama-cpp-python's create_completion is the reference for tokens and their text."""
    ours = "".join(gemma.stream(PROMPT, GREEDY))
    llm = gemma._llm
    tokens = [llm.token_bos(), *gemma.tokenize(PROMPT)]
    llm.reset()  # type: ignore[no-untyped-call]
    reference = llm.create_completion(tokens, max_tokens=24, temperature=0.0, repeat_penalty=1.0)
    gemma.forget_prompt()
    assert ours == reference["choices"][0]["text"]  # type: ignore[index]
    assert len(ours) > 20


def test_same_seed_same_answer(gemma: LocalModel) -> None:
    params = SamplingParams(max_tokens=16, temperature=0.9, seed=42)
    first = "".join(gemma.stream(PROMPT, params))
    gemma.forget_prompt()
    assert "".join(gemma.stream(PROMPT, params)) == first


def test_a_follow_up_only_evaluates_what_is_new(gemma: LocalModel) -> None:
    gemma.forget_prompt()
    answer = "".join(gemma.stream(PROMPT, GREEDY))
    first = gemma.last_timings
    assert first is not None and first.reused_tokens == 0
    follow_up = PROMPT + answer + "\n\nEt celle de l'Italie est"
    list(gemma.stream(follow_up, GREEDY))
    second = gemma.last_timings
    assert second is not None
    assert second.reused_tokens >= first.prompt_tokens
    assert second.reused_tokens + 20 > second.prompt_tokens - 12  # only the new words are evaluated
    assert gemma.cached_tokens[: first.prompt_tokens] == [
        gemma._llm.token_bos(),
        *gemma.tokenize(PROMPT),
    ]


def test_the_same_prompt_twice_reuses_all_but_its_last_token(gemma: LocalModel) -> None:
    gemma.forget_prompt()
    one = "".join(gemma.stream(PROMPT, GREEDY))
    two = "".join(gemma.stream(PROMPT, GREEDY))
    timings = gemma.last_timings
    assert timings is not None
    assert timings.reused_tokens == timings.prompt_tokens - 1
    assert one == two


def test_max_tokens_and_stop_strings_end_the_answer(gemma: LocalModel) -> None:
    full = "".join(gemma.stream(PROMPT, GREEDY))
    cut_at = full.strip().split()[2]
    stopped = "".join(gemma.stream(PROMPT, GREEDY, stop=[cut_at]))
    assert stopped == full[: full.index(cut_at)]
    short = SamplingParams(max_tokens=3, temperature=0.0, repeat_penalty=1.0)
    list(gemma.stream(PROMPT, short))
    timings = gemma.last_timings
    assert timings is not None and timings.predicted_tokens == 2  # the 3rd is sampled, not decoded
