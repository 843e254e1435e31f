"""Follow-ups on hybrid models (Mamba-2 layers beside attention) reuse the previous turn (#23).

A recurrent state cannot drop its last tokens as a KV cache does, so `PromptCache` keeps copies
of it (`engine/state_checkpoints.py`) and goes back to the nearest one before the point where a
new prompt differs from the cache. The tiny random-weight `granitehybrid` model loads through
the same llama.cpp code as Granite 4.0 H; every reuse is checked against a fresh evaluation.
"""

from __future__ import annotations

import ctypes
import itertools
from collections.abc import Iterator
from pathlib import Path

import llama_cpp
import numpy as np
import numpy.typing as npt
import pytest

from lanterne.engine.prompt_cache import COPY_INTERVAL, PROMPT_TAIL, PromptCache
from lanterne.engine.runtime import LocalModel, Message, SamplingParams, Timings
from support.tiny_hybrid import write_tiny_hybrid_gguf

pytestmark = pytest.mark.model

GREEDY = SamplingParams(max_tokens=24, temperature=0.0, seed=1)
LONG = SamplingParams(max_tokens=4 * COPY_INTERVAL, temperature=0.0, seed=1)
ONE = SamplingParams(max_tokens=1, temperature=0.0)  # the prompt's logits, nothing decoded after
SOURCES = (
    "Réponds à partir des sources. [1] Le système de paquets de Debian repose sur dpkg et APT : "
    "dpkg installe les fichiers .deb, APT résout les dépendances et télécharge les paquets. "
) * 4
QUESTION = "Où est la gare ?"
FOLLOW_UP = "Et le bus, il part d'où ?"


@pytest.fixture(scope="module")
def hybrid_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_hybrid_gguf(tmp_path_factory.mktemp("hybrid") / "tiny-hybrid.gguf")


@pytest.fixture(scope="module")
def hybrid(hybrid_path: Path) -> Iterator[LocalModel]:
    model = LocalModel.load(hybrid_path, n_ctx=2048, n_threads=2)
    yield model
    model.close()


def first_turn(system: str = SOURCES) -> list[Message]:
    return [{"role": "system", "content": system}, {"role": "user", "content": QUESTION}]


def follow_up(answer: str) -> list[Message]:
    return [
        *first_turn(),
        {"role": "assistant", "content": answer},
        {"role": "user", "content": FOLLOW_UP},
    ]


def run(model: LocalModel, prompt: str, params: SamplingParams) -> tuple[str, Timings]:
    text = "".join(model.stream(prompt, params))
    assert model.last_timings is not None
    return text, model.last_timings


def evaluated(model: LocalModel, prompt: str) -> list[int]:
    """The tokens `stream` evaluates for `prompt`, BOS included where the model wants one."""
    tokens = model.tokenize(prompt)
    bos = [model._llm.token_bos()] if model.count_tokens(prompt) > len(tokens) else []
    return bos + tokens


def common_prefix(a: list[int], b: list[int]) -> int:
    return next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )


def logits(model: LocalModel) -> npt.NDArray[np.float32]:
    """The last evaluated token's logits, copied out of llama.cpp's buffer."""
    pointer = llama_cpp.llama_get_logits_ith(model._llm.ctx, -1)
    array = np.ctypeslib.as_array(
        ctypes.cast(pointer, ctypes.POINTER(ctypes.c_float)), (model._n_vocab,)
    )
    return np.array(array, dtype=np.float32)


def fresh(model: LocalModel, prompt: str, params: SamplingParams) -> tuple[str, list[int]]:
    """The answer and the cache's tokens when nothing of `prompt` was evaluated before."""
    model.forget_prompt()
    text, timings = run(model, prompt, params)
    assert timings.reused_tokens == 0
    return text, model.cached_tokens


def test_a_follow_up_reuses_the_first_turn_and_answers_as_from_scratch(hybrid: LocalModel) -> None:
    hybrid.forget_prompt()
    first = hybrid.render_chat(first_turn())
    answer, one = run(hybrid, first, GREEDY)
    second = hybrid.render_chat(follow_up(answer))
    text, two = run(hybrid, second, GREEDY)
    tokens = hybrid.cached_tokens
    # Only the answer's end and the new question are evaluated, not the sources again.
    assert two.reused_tokens >= one.prompt_tokens - PROMPT_TAIL and one.prompt_tokens > 300
    assert two.prompt_tokens - two.reused_tokens < 80
    assert (text, tokens) == fresh(hybrid, second, GREEDY)


def test_an_edited_history_goes_back_to_the_copy_near_the_first_prompts_end(
    hybrid: LocalModel,
) -> None:
    """The answer as stored differs from the tokens generated (a stop string cut, whitespace
    trimmed): the cache is cut within the answer, where only a copy of the state can go."""
    hybrid.forget_prompt()
    first = hybrid.render_chat(first_turn())
    answer, one = run(hybrid, first, GREEDY)
    assert len(answer) > 8
    second = hybrid.render_chat(follow_up(answer[:-5]))
    _, two = run(hybrid, second, ONE)
    restored = logits(hybrid)
    start = one.prompt_tokens - PROMPT_TAIL
    assert two.reused_tokens == start  # the copy near the first prompt's end
    # Past it, only the new prompt's own copy, if it is long enough to be worth one.
    later = [p for p in hybrid._cache.checkpoints.positions if p > start]
    assert later in ([], [two.prompt_tokens - PROMPT_TAIL])
    fresh(hybrid, second, ONE)
    reference = logits(hybrid)
    # Equal up to the order of float sums (the batches split elsewhere); another history moves
    # them a hundred times more.
    assert np.abs(restored - reference).max() < 1e-2
    run(hybrid, hybrid.render_chat([{"role": "user", "content": FOLLOW_UP}]), ONE)
    assert np.abs(logits(hybrid) - reference).max() > 0.1
    assert run(hybrid, second, GREEDY)[0] == fresh(hybrid, second, GREEDY)[0]


@pytest.mark.parametrize("kept", [0.98, 0.5], ids=["near-its-end", "in-its-middle"])
def test_a_long_answer_cut_short_reuses_what_precedes_the_cut(
    hybrid: LocalModel, kept: float
) -> None:
    hybrid.forget_prompt()
    first = hybrid.render_chat(first_turn())
    answer, one = run(hybrid, first, LONG)
    cached = hybrid.cached_tokens
    assert len(cached) - one.prompt_tokens > 2 * COPY_INTERVAL  # copies were taken
    second = hybrid.render_chat(follow_up(answer[: int(len(answer) * kept)]))
    shared = common_prefix(cached, evaluated(hybrid, second))
    positions = hybrid._cache.checkpoints.positions
    assert all(b - a >= COPY_INTERVAL for a, b in itertools.pairwise(positions))
    _, two = run(hybrid, second, ONE)
    assert shared - COPY_INTERVAL < two.reused_tokens <= shared
    assert two.reused_tokens > one.prompt_tokens + COPY_INTERVAL
    # The copies past the point gone back to went with the tokens they followed.
    later = [p for p in hybrid._cache.checkpoints.positions if p > two.reused_tokens]
    assert later in ([], [two.prompt_tokens - PROMPT_TAIL])
    text, _ = run(hybrid, second, GREEDY)
    assert (text, hybrid.cached_tokens) == fresh(hybrid, second, GREEDY)


def test_every_copy_gives_back_the_state_it_was_taken_after(hybrid: LocalModel) -> None:
    """One token decoded after each copy, from the newest back, gives the logits a fresh
    evaluation of the same tokens gives: the copy's state, not a neighbour's (those are
    several logits away here, since a single token follows the state)."""
    hybrid.forget_prompt()
    run(hybrid, hybrid.render_chat(first_turn()), LONG)
    cached = hybrid.cached_tokens
    positions = [p for p in hybrid._cache.checkpoints.positions if p < len(cached)]
    assert len(positions) >= 3
    restored = {}
    for position in reversed(positions):
        assert hybrid._cache.evaluate(cached[: position + 1]) == position
        restored[position] = logits(hybrid)
    for position in positions:
        hybrid.forget_prompt()
        hybrid._cache.evaluate(cached[: position + 1])
        assert np.abs(logits(hybrid) - restored[position]).max() < 0.05


def test_the_same_prompt_again_only_decodes_its_tail(hybrid: LocalModel) -> None:
    hybrid.forget_prompt()
    prompt = hybrid.render_chat(first_turn())
    answer, _ = run(hybrid, prompt, GREEDY)
    tokens = hybrid.cached_tokens
    again, timings = run(hybrid, prompt, GREEDY)
    assert timings.reused_tokens == timings.prompt_tokens - PROMPT_TAIL
    assert (again, hybrid.cached_tokens) == (answer, tokens)


def test_a_generation_prompt_the_history_leaves_out_is_gone_back_over(hybrid: LocalModel) -> None:
    """Qwen3.5's template ends the prompt with an empty <think></think> that the rendered
    history leaves out: the follow-up differs from the cache a few tokens before the first
    prompt's end, and the copy is taken early enough to cover it."""
    hybrid.forget_prompt()
    first = hybrid.render_chat(first_turn()) + "<think></think>"
    answer, one = run(hybrid, first, GREEDY)
    second = hybrid.render_chat(follow_up(answer))
    shared = common_prefix(evaluated(hybrid, first), evaluated(hybrid, second))
    assert one.prompt_tokens - PROMPT_TAIL < shared < one.prompt_tokens - 1
    text, two = run(hybrid, second, GREEDY)
    assert two.reused_tokens == one.prompt_tokens - PROMPT_TAIL
    assert (text, hybrid.cached_tokens) == fresh(hybrid, second, GREEDY)


def test_a_prompt_that_differs_early_is_evaluated_in_full(hybrid: LocalModel) -> None:
    hybrid.forget_prompt()
    run(hybrid, hybrid.render_chat(first_turn()), GREEDY)
    other = hybrid.render_chat(first_turn("Autre consigne. " + SOURCES))
    shared = common_prefix(hybrid.cached_tokens, evaluated(hybrid, other))
    assert 0 < shared < 10  # the template's opening is all they share
    text, timings = run(hybrid, other, GREEDY)
    assert timings.reused_tokens == 0
    # The copies of the first conversation are gone with it.
    assert hybrid._cache.checkpoints.positions == [timings.prompt_tokens - PROMPT_TAIL]
    assert (text, hybrid.cached_tokens) == fresh(hybrid, other, GREEDY)


def test_the_copies_stay_within_their_count_and_bytes(hybrid_path: Path) -> None:
    model = LocalModel.load(hybrid_path, n_ctx=2048, n_threads=2)
    try:
        first = model.render_chat(first_turn())
        _, one = run(model, first, LONG)
        copies = model._cache.checkpoints
        size = copies.total_bytes // len(copies.positions)
        assert size > 0 and copies.total_bytes == size * len(copies.positions)
        ctx, n_ctx, n_batch = model._llm.ctx, model.n_ctx, model.plan.n_batch

        model.forget_prompt()
        model._cache = PromptCache(
            ctx, n_ctx, n_batch, max_checkpoints=3, checkpoint_bytes=size * 5 // 2
        )
        answer, one = run(model, first, LONG)
        copies = model._cache.checkpoints
        assert len(copies.positions) == 2 and copies.total_bytes <= size * 5 // 2
        # The prompt's copy is spared, and the newest is kept.
        assert copies.positions[0] == one.prompt_tokens - PROMPT_TAIL
        assert copies.positions[-1] > len(model.cached_tokens) - COPY_INTERVAL

        model.forget_prompt()
        model._cache = PromptCache(ctx, n_ctx, n_batch, max_checkpoints=1)
        answer, one = run(model, first, LONG)
        assert model._cache.checkpoints.positions[-1] > len(model.cached_tokens) - COPY_INTERVAL
        assert len(model._cache.checkpoints.positions) == 1

        model.forget_prompt()
        model._cache = PromptCache(ctx, n_ctx, n_batch, checkpoint_bytes=size - 1)
        answer, _ = run(model, first, GREEDY)
        assert model._cache.checkpoints.positions == []
        second = model.render_chat(follow_up(answer[:-5]))
        text, two = run(model, second, GREEDY)
        assert two.reused_tokens == 0  # no copy to go back to: the whole prompt again
        assert text == fresh(model, second, GREEDY)[0]
    finally:
        model.close()


def test_an_attention_model_cuts_its_cache_and_takes_no_copies(tiny_moe_model: Path) -> None:
    model = LocalModel.load(tiny_moe_model, n_ctx=2048, n_threads=2)
    try:
        first = model.render_chat(first_turn())
        answer, _ = run(model, first, LONG)
        cached = model.cached_tokens
        second = model.render_chat(follow_up(answer[:-5]))
        shared = common_prefix(cached, evaluated(model, second))
        assert shared < len(cached)
        text, two = run(model, second, GREEDY)
        assert two.reused_tokens == shared  # cut exactly where the prompts differ
        again, three = run(model, second, GREEDY)
        assert three.reused_tokens == three.prompt_tokens - 1 and again == text
        assert model._cache.checkpoints.positions == []
        assert text == fresh(model, second, GREEDY)[0]
    finally:
        model.close()
