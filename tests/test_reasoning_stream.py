"""A real model's reasoning is kept apart from its answer, as it streams.

The tiny random-weight MoE is made to write each family's format by a grammar (control tokens
by id, `<[n]>`): reasoning in letters a-m, the answer in letters n-z, so a letter on the wrong
side shows a leak. Each family's real chat template renders the prompt, so the splitter starts
where that template leaves the model (block opened, closed, or not yet).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import llama_cpp
import pytest

from lanterne.engine.host import ModelHost
from lanterne.engine.reasoning import HARMONY_MARKERS, Thought, split_reasoning
from lanterne.engine.runtime import LocalModel, SamplingParams
from support import llama_sources
from support.tiny_moe import CHAT_TEMPLATE, IM_START_TOKEN_ID, VOCAB_SIZE, write_tiny_moe_gguf

pytestmark = pytest.mark.model

QUESTION = [{"role": "user", "content": "Where is Paris?"}]
REASONING = re.compile(r"[a-m ]{5,40}")  # stripped, so possibly shorter than the grammar's
ANSWER = re.compile(r"[n-z][n-z ]*")
HARMONY_IDS = {m: VOCAB_SIZE + i for i, m in enumerate(HARMONY_MARKERS)}


def harmony_id(marker: str) -> str:
    return f"<[{HARMONY_IDS[marker]}]>"


class Loader(Protocol):
    def __call__(self, name: str, *, template: str, extra: tuple[str, ...] = ()) -> LocalModel: ...


@pytest.fixture
def load(tmp_path: Path) -> Iterator[Loader]:
    models: list[LocalModel] = []

    def loader(name: str, *, template: str, extra: tuple[str, ...] = ()) -> LocalModel:
        path = write_tiny_moe_gguf(
            tmp_path / f"{name}.gguf", chat_template=template, extra_special_tokens=extra
        )
        model = LocalModel.load(path, n_ctx=1024, n_threads=2)
        models.append(model)
        return model

    yield loader
    for model in models:
        model.close()


def run(
    model: LocalModel, prompt: str, grammar: str, stop: list[str] | None = None
) -> tuple[str, list[str]]:
    thoughts: list[str] = []
    params = SamplingParams(max_tokens=120, seed=7, grammar=grammar)
    answer = "".join(model.stream(prompt, params, stop=stop, on_reasoning=thoughts.append))
    return answer, thoughts


def written(model: LocalModel, prompt: str) -> str:
    """What the model wrote after the prompt, control tokens included (the cached tokens)."""
    tokens = model.cached_tokens[model.count_tokens(prompt) :]
    return model._llm.detokenize(tokens, special=True).decode("utf-8")


def check_split(model: LocalModel, answer: str, thoughts: list[str]) -> None:
    assert ANSWER.fullmatch(answer), answer
    assert REASONING.fullmatch(model.last_reasoning), model.last_reasoning
    assert "".join(thoughts) == model.last_reasoning
    timings = model.last_timings
    assert timings is not None and not timings.cut_short
    assert timings.first_answer_ms >= timings.ttft_ms > 0
    assert timings.to_json()["first_answer_ms"] == round(timings.first_answer_ms, 2)


def test_qwen3_think_block_written_by_the_model(load: Loader) -> None:
    model = load("qwen3", template=llama_sources.chat_template("Qwen-Qwen3-0.6B"))
    assert model.reasoning_format == "think"
    prompt = model.render_chat(QUESTION, reasoning="high")
    assert prompt.endswith("<|im_start|>assistant\n")
    grammar = 'root ::= "<think>\\n" [a-m ]{5,20} "\\n</think>\\n\\n" [n-z] [n-z ]{2,10}'
    answer, thoughts = run(model, prompt, grammar, stop=model.stop_markers())
    check_split(model, answer, thoughts)
    assert (answer, model.last_reasoning) == split_reasoning(written(model, prompt), "think")


def test_qwen35_prompt_opens_the_think_block(load: Loader) -> None:
    model = load("qwen35", template=llama_sources.chat_template("Qwen3.5-4B"))
    prompt = model.render_chat(QUESTION, reasoning="medium")
    assert prompt.endswith("<think>\n")
    answer, thoughts = run(model, prompt, 'root ::= [a-m ]{5,20} "</think>" [n-z] [n-z ]{2,10}')
    check_split(model, answer, thoughts)
    assert "<" not in answer + model.last_reasoning


def test_nemotron_with_thinking_off_only_answers(load: Loader) -> None:
    template = llama_sources.chat_template("NVIDIA-Nemotron-3-Nano-30B-A3B-BF16")
    model = load("nemotron", template=template)
    prompt = model.render_chat(QUESTION, reasoning="off")
    assert prompt.endswith("<think></think>")
    answer, thoughts = run(model, prompt, "root ::= [n-z] [n-z ]{2,10}")
    assert ANSWER.fullmatch(answer) and thoughts == [] and model.last_reasoning == ""
    timings = model.last_timings
    assert timings is not None and timings.first_answer_ms >= timings.ttft_ms


def harmony_grammar(after_final: str = "") -> str:
    """The analysis then the final channel. The grammar cannot name <|return|>: it allows an
    end-of-generation token only once complete, then any (the tiny model picks one)."""
    c, m, e, s = (harmony_id(x) for x in ("<|channel|>", "<|message|>", "<|end|>", "<|start|>"))
    return (
        f'root ::= {c} "analysis" {m} [a-m ]{{5,20}} {e} {s} "assistant" {c} "final" {m}'
        f" [n-z] [n-z ]{{2,10}} {after_final}"
    )


def test_gpt_oss_analysis_channel_is_reasoning(load: Loader) -> None:
    template = llama_sources.chat_template("openai-gpt-oss-120b")
    model = load("gpt-oss", template=template, extra=HARMONY_MARKERS)
    assert model.reasoning_format == "harmony"
    prompt = model.render_chat(QUESTION, reasoning="low")
    assert "Reasoning: low" in prompt and prompt.endswith("<|start|>assistant")
    answer, thoughts = run(model, prompt, harmony_grammar(), stop=model.stop_markers())
    check_split(model, answer, thoughts)
    assert (answer, model.last_reasoning) == split_reasoning(written(model, prompt), "harmony")


def test_the_analysis_end_never_ends_the_turn(load: Loader) -> None:
    # Without <|call|> in the vocabulary llama.cpp keeps <|end|> an end-of-generation token,
    # though it only closes the analysis channel.
    markers = tuple(m for m in HARMONY_MARKERS if m != "<|call|>")
    template = llama_sources.chat_template("openai-gpt-oss-120b")
    model = load("gpt-oss-no-call", template=template, extra=markers)
    end, done = VOCAB_SIZE + markers.index("<|end|>"), VOCAB_SIZE + markers.index("<|return|>")
    vocab = model._vocab
    assert llama_cpp.llama_vocab_is_eog(vocab, end) and llama_cpp.llama_vocab_is_eog(vocab, done)
    assert not model._ends_turn(end) and model._ends_turn(done)


def test_gpt_oss_turn_ends_with_its_final_message(load: Loader) -> None:
    template = llama_sources.chat_template("openai-gpt-oss-120b")
    model = load("gpt-oss-end", template=template, extra=HARMONY_MARKERS)
    prompt = model.render_chat(QUESTION)
    # The final message closed by <|end|>, then a new turn the model should never get to.
    more = f'{harmony_id("<|end|>")} {harmony_id("<|start|>")} "user" [a-m]{{30}}'
    answer, _ = run(model, prompt, harmony_grammar(after_final=more))
    assert ANSWER.fullmatch(answer), answer
    timings = model.last_timings
    assert timings is not None and not timings.cut_short
    # Nothing was sampled after the <|end|> that closed the final message (the last token
    # sampled is never evaluated, so the cache ends just before it).
    text = written(model, prompt)
    assert "user" not in text and text.rstrip().endswith(answer)
    assert timings.sampled_tokens == len(model.cached_tokens) - model.count_tokens(prompt) + 1


def test_control_tokens_never_show_in_the_answer(load: Loader) -> None:
    model = load("chatml", template=CHAT_TEMPLATE, extra=("<|vision_start|>",))
    prompt = model.render_chat(QUESTION)
    answer, _ = run(model, prompt, f"root ::= [n-z]{{3}} <[{VOCAB_SIZE}]> [n-z]{{3}}")
    assert re.fullmatch(r"[n-z]{6}", answer), answer


def test_a_turn_marker_token_ends_the_answer(load: Loader) -> None:
    model = load("chatml-turn", template=CHAT_TEMPLATE)
    prompt = model.render_chat(QUESTION)
    grammar = f'root ::= [n-z]{{3,6}} <[{IM_START_TOKEN_ID}]> "user" [n-z]{{3}}'
    answer, _ = run(model, prompt, grammar, stop=model.stop_markers())
    assert re.fullmatch(r"[n-z]{3,6}", answer), answer


def test_the_host_streams_thoughts_beside_the_answer(load: Loader) -> None:
    model = load("qwen3-host", template=llama_sources.chat_template("Qwen-Qwen3-0.6B"))
    prompt = model.render_chat(QUESTION, reasoning="high")
    grammar = 'root ::= "<think>" [a-m ]{10,30} "</think>" [n-z] [n-z ]{5,20}'
    params = SamplingParams(max_tokens=120, seed=3, grammar=grammar)
    host = ModelHost()
    try:
        pieces = list(host.stream(model, prompt, params, reasoning=True))
        plain = list(host.stream(model, prompt, params))
    finally:
        host.shutdown()
    thoughts = [p.text for p in pieces if isinstance(p, Thought)]
    answer = "".join(p for p in pieces if isinstance(p, str))
    assert thoughts and answer
    first_answer = next(i for i, p in enumerate(pieces) if isinstance(p, str))
    assert all(isinstance(p, Thought) for p in pieces[:first_answer])
    assert "".join(thoughts) == model.last_reasoning  # the same seed: the same text again
    assert all(isinstance(p, str) for p in plain) and "".join(plain) == answer
