"""Reasoning apart from the answer, for each family's real output format, whatever the cuts.

The texts are what the models write (markers as the runtime renders them), cut at random
places as tokens and hand-overs cut them; the prompt each splitter starts from is the one the
family's real chat template renders (llama.cpp's copy of it).
"""

from __future__ import annotations

import random

import pytest
from llama_cpp.llama_chat_format import Jinja2ChatFormatter

from lanterne.engine.reasoning import (
    Piece,
    Thought,
    detect_format,
    make_splitter,
    split_reasoning,
    template_kwargs,
)
from support import llama_sources

HARMONY = (
    "<|channel|>analysis<|message|>The user asks where Paris is. Answer briefly.<|end|>"
    "<|start|>assistant<|channel|>final<|message|>Paris is in France.<|return|>"
)
THINK = "<think>\nThe user asks where Paris is.\n</think>\n\nParis is in France."
MISTRAL = "[THINK]The user asks where Paris is.[/THINK]Paris is in France."
GEMMA4 = "<|channel>thought\nThe user asks where Paris is.<channel|>Paris is in France."
REASONING = "The user asks where Paris is."
ANSWER = "Paris is in France."
USER = [{"role": "user", "content": "Where is Paris?"}]


def cut(text: str, rng: random.Random) -> list[str]:
    """`text` in pieces of 1 to 6 characters: every marker gets cut somewhere, some runs."""
    parts, i = [], 0
    while i < len(text):
        n = rng.randint(1, 6)
        parts.append(text[i : i + n])
        i += n
    return parts


def split_stream(fmt: str, prompt: str, text: str, seed: int) -> tuple[str, str, bool, list[Piece]]:
    splitter = make_splitter(fmt, prompt)
    pieces: list[Piece] = []
    for part in cut(text, random.Random(seed)):
        pieces += splitter.feed(part)
        if splitter.done:
            break
    pieces += splitter.flush()
    answer = "".join(p for p in pieces if isinstance(p, str))
    reasoning = "".join(p.text for p in pieces if isinstance(p, Thought))
    return answer, reasoning, splitter.done, pieces


def render(template_name: str, **kwargs: object) -> str:
    template = llama_sources.chat_template(template_name)
    formatter = Jinja2ChatFormatter(template=template, eos_token="</s>", bos_token="<s>")
    return formatter(messages=USER, **kwargs).prompt  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("openai-gpt-oss-120b", "harmony"),
        ("Qwen-Qwen3-0.6B", "think"),
        ("Qwen3.5-4B", "think"),
        ("NVIDIA-Nemotron-3-Nano-30B-A3B-BF16", "think"),
        ("mistralai-Ministral-3-14B-Reasoning-2512", "mistral"),
        ("google-gemma-4-31B-it", "gemma4"),
        ("Qwen-Qwen2.5-7B-Instruct", "none"),
        ("google-gemma-2-2b-it", "none"),
        ("Mistral-Small-3.2-24B-Instruct-2506", "none"),
    ],
)
def test_the_format_is_read_from_the_real_template(name: str, fmt: str) -> None:
    assert detect_format(llama_sources.chat_template(name)) == fmt


def test_no_template_means_no_reasoning_format() -> None:
    assert detect_format(None) == "none"
    assert detect_format("") == "none"


@pytest.mark.parametrize("seed", range(40))
def test_harmony_analysis_is_reasoning_and_final_is_the_answer(seed: int) -> None:
    prompt = render("openai-gpt-oss-120b", reasoning_effort="low")
    assert prompt.endswith("<|start|>assistant")
    answer, reasoning, done, _ = split_stream("harmony", prompt, HARMONY, seed)
    assert (answer, reasoning) == (ANSWER, "The user asks where Paris is. Answer briefly.")
    assert done


@pytest.mark.parametrize("seed", range(10))
def test_harmony_ends_where_the_final_message_ends(seed: int) -> None:
    # Some gpt-oss runs close the final message with <|end|> and go on with a new turn.
    text = HARMONY.replace("<|return|>", "<|end|><|start|>user<|message|>And Rome?")
    answer, reasoning, done, _ = split_stream("harmony", "<|start|>assistant", text, seed)
    assert answer == ANSWER and "Rome" not in answer + reasoning
    assert done


@pytest.mark.parametrize("seed", range(10))
def test_harmony_commentary_is_reasoning_and_markers_never_show(seed: int) -> None:
    text = (
        "<|channel|>analysis<|message|>Think.<|end|>"
        "<|start|>assistant<|channel|>commentary<|message|>Still thinking.<|end|>"
        "<|start|>assistant<|channel|>final<|message|>Done.<|return|>"
    )
    answer, reasoning, _, pieces = split_stream("harmony", "<|start|>assistant", text, seed)
    assert answer == "Done."
    assert reasoning == "Think.\n\nStill thinking."
    assert all("<|" not in (p if isinstance(p, str) else p.text) for p in pieces)


def test_text_that_never_becomes_harmony_is_the_answer() -> None:
    answer, reasoning, _, _ = split_stream("harmony", "<|start|>assistant", "Just Paris.", 0)
    assert (answer, reasoning) == ("Just Paris.", "")


@pytest.mark.parametrize("seed", range(30))
def test_qwen3_writes_its_own_think_block_when_thinking_is_on(seed: int) -> None:
    prompt = render("Qwen-Qwen3-0.6B", **template_kwargs("think", "high"))
    assert prompt.endswith("<|im_start|>assistant\n")
    answer, reasoning, done, _ = split_stream("think", prompt, THINK, seed)
    assert (answer, reasoning, done) == (ANSWER, REASONING, False)


@pytest.mark.parametrize("seed", range(10))
def test_qwen3_with_thinking_off_answers_at_once(seed: int) -> None:
    prompt = render("Qwen-Qwen3-0.6B", **template_kwargs("think", "off"))
    assert prompt.rstrip().endswith("</think>")
    answer, reasoning, _, _ = split_stream("think", prompt, "\n" + ANSWER, seed)
    assert (answer, reasoning) == (ANSWER, "")


@pytest.mark.parametrize(
    "template", ["Qwen3.5-4B", "NVIDIA-Nemotron-3-Nano-30B-A3B-BF16"], ids=["qwen3.5", "nemotron"]
)
@pytest.mark.parametrize("seed", range(15))
def test_a_prompt_that_opens_the_think_block_starts_in_the_reasoning(
    template: str, seed: int
) -> None:
    prompt = render(template, **template_kwargs("think", "medium"))
    assert prompt.endswith("<think>\n")
    text = THINK.removeprefix("<think>")  # the template wrote the opening tag
    answer, reasoning, _, _ = split_stream("think", prompt, text, seed)
    assert (answer, reasoning) == (ANSWER, REASONING)


@pytest.mark.parametrize(
    "template", ["Qwen3.5-4B", "NVIDIA-Nemotron-3-Nano-30B-A3B-BF16"], ids=["qwen3.5", "nemotron"]
)
def test_a_prompt_that_closes_the_think_block_starts_in_the_answer(template: str) -> None:
    prompt = render(template, **template_kwargs("think", "low"))
    assert prompt.rstrip().endswith("</think>")
    for seed in range(10):
        answer, reasoning, _, _ = split_stream("think", prompt, ANSWER, seed)
        assert (answer, reasoning) == (ANSWER, "")


@pytest.mark.parametrize("seed", range(20))
def test_mistral_think_block(seed: int) -> None:
    prompt = render("mistralai-Ministral-3-14B-Reasoning-2512")
    answer, reasoning, _, _ = split_stream("mistral", prompt, MISTRAL, seed)
    assert (answer, reasoning) == (ANSWER, REASONING)


@pytest.mark.parametrize("seed", range(20))
def test_gemma4_thought_channel(seed: int) -> None:
    prompt = render("google-gemma-4-31B-it", **template_kwargs("gemma4", "high"))
    assert "<|think|>" in prompt and prompt.endswith("<|turn>model\n")
    answer, reasoning, _, _ = split_stream("gemma4", prompt, GEMMA4, seed)
    assert (answer, reasoning) == (ANSWER, REASONING)


def test_gemma4_with_thinking_off_answers_at_once() -> None:
    prompt = render("google-gemma-4-31B-it", **template_kwargs("gemma4", "off"))
    assert "<|think|>" not in prompt and prompt.endswith("<|channel>thought\n<channel|>")
    for seed in range(10):
        answer, reasoning, _, _ = split_stream("gemma4", prompt, ANSWER, seed)
        assert (answer, reasoning) == (ANSWER, "")


@pytest.mark.parametrize("seed", range(10))
def test_an_answer_that_only_looks_like_a_marker_is_kept_whole(seed: int) -> None:
    text = "<thing> and <think about it are words. Some [THINK] text."
    answer, reasoning, _, _ = split_stream("think", "<|im_start|>assistant\n", text, seed)
    assert (answer, reasoning) == (text, "")


def test_reasoning_cut_short_by_the_token_limit_stays_reasoning() -> None:
    answer, reasoning, _, _ = split_stream("think", "", "<think>\nStill thinking about", 0)
    assert (answer, reasoning) == ("", "Still thinking about")


def test_spaces_inside_the_answer_survive_the_cuts() -> None:
    text = "<think>a</think>\n\nLine one.\n\n- item  two\n"
    for seed in range(20):
        answer, _, _, _ = split_stream("think", "", text, seed)
        assert answer == "Line one.\n\n- item  two"


@pytest.mark.parametrize(
    ("text", "fmt", "expected"),
    [
        (HARMONY, "harmony", (ANSWER, "The user asks where Paris is. Answer briefly.")),
        # A server that dropped the marker tokens' text.
        ("analysisThe user asks.assistantfinalParis.", "harmony", ("Paris.", "The user asks.")),
        (THINK, "think", (ANSWER, REASONING)),
        # The prompt had opened the block: only its end is in the reply.
        ("The user asks where Paris is.\n</think>\n\n" + ANSWER, "think", (ANSWER, REASONING)),
        (MISTRAL, "mistral", (ANSWER, REASONING)),
        (GEMMA4, "gemma4", (ANSWER, REASONING)),
        (ANSWER, "think", (ANSWER, "")),
        ("  " + ANSWER + "\n", "none", (ANSWER, "")),
    ],
)
def test_whole_replies_are_split(text: str, fmt: str, expected: tuple[str, str]) -> None:
    assert split_reasoning(text, fmt) == expected


def test_template_switches_for_each_effort() -> None:
    assert template_kwargs("harmony", "off") == {"reasoning_effort": "low"}
    assert template_kwargs("harmony", "high") == {"reasoning_effort": "high"}
    assert template_kwargs("think", "low") == {"enable_thinking": False}
    assert template_kwargs("gemma4", "medium") == {"enable_thinking": True}
    assert template_kwargs("none", "high") == {}
