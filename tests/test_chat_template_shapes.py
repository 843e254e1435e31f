"""Every chat template gets a conversation it accepts, found by rendering probes at load.

Real templates (llama.cpp's copies) refuse a system message (Gemma 2) or two user turns in a
row (Mistral's, Gemma 2): the conversation is reshaped instead of failing. A template that fails
for any other reason is reported in words, naming the model, and the plain layout answers.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lanterne.engine.chat_template import (
    PLAIN_STOPS,
    ChatTemplate,
    Shape,
    plain_layout,
    with_reasoning_fields,
)
from lanterne.engine.runtime import LocalModel, SamplingParams
from support import llama_sources
from support.tiny_moe import write_tiny_moe_gguf

SYSTEM = {"role": "system", "content": "Answer from the sources."}
FIRST = {"role": "user", "content": "Where is Paris?"}
REPLY = {"role": "assistant", "content": "In France."}
SECOND = {"role": "user", "content": "And Lyon?"}
THIRD = {"role": "user", "content": "And Nice?"}


def template(name: str, fmt: str = "none") -> ChatTemplate:
    text = llama_sources.chat_template(name)
    return ChatTemplate(text, bos="<s>", eos="</s>", model=name, fmt=fmt)


@pytest.mark.parametrize(
    ("name", "shape"),
    [
        ("google-gemma-2-2b-it", Shape(system=False, consecutive=False)),
        ("Mistral-Small-3.2-24B-Instruct-2506", Shape(system=True, consecutive=False)),
        ("mistralai-Mistral-Nemo-Instruct-2407", Shape(system=True, consecutive=False)),
        ("mistralai-Ministral-3-14B-Reasoning-2512", Shape(system=True, consecutive=False)),
        ("Qwen-Qwen3-0.6B", Shape(system=True, consecutive=True)),
        ("openai-gpt-oss-120b", Shape(system=True, consecutive=True)),
        ("google-gemma-4-31B-it", Shape(system=True, consecutive=True)),
    ],
)
def test_probes_find_what_each_real_template_accepts(name: str, shape: Shape) -> None:
    chat = template(name)
    assert (chat.shape, chat.problem, chat.used) == (shape, None, True)


def test_gemma2_gets_the_instructions_in_the_first_user_turn() -> None:
    prompt = template("google-gemma-2-2b-it").render([SYSTEM, FIRST, REPLY, SECOND, THIRD], "low")
    assert prompt.startswith(
        "<s><start_of_turn>user\nAnswer from the sources.\n\nWhere is Paris?<end_of_turn>\n"
    )
    assert "<start_of_turn>user\nAnd Lyon?\n\nAnd Nice?<end_of_turn>\n" in prompt
    assert prompt.endswith("<start_of_turn>model\n")


@pytest.mark.parametrize(
    "name", ["Mistral-Small-3.2-24B-Instruct-2506", "mistralai-Mistral-Nemo-Instruct-2407"]
)
def test_mistral_keeps_its_system_prompt_and_merges_user_turns(name: str) -> None:
    prompt = template(name).render([SYSTEM, FIRST, REPLY, SECOND, THIRD], "low")
    assert "Answer from the sources." in prompt
    assert "And Lyon?\n\nAnd Nice?[/INST]" in prompt
    assert prompt.count("[INST]") == 2


def test_a_template_that_accepts_everything_is_given_the_conversation_unchanged() -> None:
    prompt = template("Qwen-Qwen3-0.6B").render([SYSTEM, FIRST, SECOND], "low")
    assert prompt.count("<|im_start|>user") == 2
    assert "<|im_start|>system\nAnswer from the sources.<|im_end|>" in prompt


@pytest.mark.parametrize(
    ("source", "why"),
    [
        ("{% for m in messages %}{{ m.content }", "unexpected"),  # does not compile
        ("{{ raise_exception('This template needs tools.') }}", "This template needs tools."),
        ("{{ messages[0].content.nonexistent_method() }}", "nonexistent_method"),
    ],
    ids=["syntax", "raises", "breaks"],
)
def test_a_broken_template_is_reported_and_the_plain_layout_answers(source: str, why: str) -> None:
    chat = ChatTemplate(source, bos="", eos="", model="Broken Model 7B", fmt="none")
    assert not chat.used
    assert chat.problem is not None
    assert "Broken Model 7B" in chat.problem and why in chat.problem
    assert chat.render([SYSTEM, FIRST], "low") == plain_layout([SYSTEM, FIRST])
    assert chat.stop_markers() == list(PLAIN_STOPS)


def test_a_rule_the_probes_miss_falls_back_when_met() -> None:
    source = (
        "{% for m in messages %}{% if 'forbidden' in m.content %}"
        "{{ raise_exception('No such word.') }}{% endif %}"
        "<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}<|im_start|>assistant\n"
    )
    chat = ChatTemplate(source, bos="", eos="", model="Picky", fmt="none")
    assert chat.problem is None and chat.stop_markers() == ["<|im_start|>"]
    message = {"role": "user", "content": "A forbidden word."}
    assert chat.render([message], "low") == plain_layout([message])
    assert chat.problem is not None and "No such word." in chat.problem
    assert chat.stop_markers() == list(PLAIN_STOPS)


def test_past_reasoning_goes_where_each_template_reads_it() -> None:
    reply = {**REPLY, "reasoning_content": "Paris is the capital."}
    assert with_reasoning_fields([FIRST, reply], "harmony")[1] == {
        **REPLY,
        "thinking": "Paris is the capital.",
    }
    think = with_reasoning_fields([FIRST, reply], "think")[1]
    assert think["reasoning_content"] == think["reasoning"] == "Paris is the capital."
    # Qwen3 shows the reasoning of an answer given after the last question.
    prompt = template("Qwen-Qwen3-0.6B", "think").render([FIRST, reply], "high")
    assert "<think>\nParis is the capital.\n</think>\n\nIn France.<|im_end|>" in prompt


def test_reasoning_switches_reach_the_templates_that_have_them() -> None:
    oss = template("openai-gpt-oss-120b", "harmony")
    assert "Reasoning: high" in oss.render([FIRST], "high")
    assert "Reasoning: low" in oss.render([FIRST], "off")
    qwen = template("Qwen3.5-4B", "think")
    assert qwen.render([FIRST], "high").endswith("<think>\n")
    assert qwen.render([FIRST], "low").endswith("<think>\n\n</think>\n\n")
    assert template("mistralai-Ministral-3-14B-Reasoning-2512", "mistral").kwargs("high") == {}


@pytest.mark.model
def test_a_model_with_a_broken_template_still_answers(tmp_path: Path) -> None:
    path = write_tiny_moe_gguf(tmp_path / "broken.gguf", chat_template="{% if %}")
    model = LocalModel.load(path, n_ctx=256)
    try:
        assert model.template_problem is not None
        assert "Tiny MoE (random weights)" in model.template_problem
        prompt = model.render_chat([SYSTEM, FIRST])
        assert prompt == plain_layout([SYSTEM, FIRST])
        answer = "".join(model.stream(prompt, SamplingParams(max_tokens=8, seed=1)))
        assert answer.strip()
    finally:
        model.close()


@pytest.mark.model
def test_a_model_whose_template_refuses_a_system_turn_gets_it_folded(tmp_path: Path) -> None:
    gemma2 = llama_sources.chat_template("google-gemma-2-2b-it")
    path = write_tiny_moe_gguf(tmp_path / "gemma2-template.gguf", chat_template=gemma2)
    model = LocalModel.load(path, n_ctx=256)
    try:
        assert model.template_problem is None
        prompt = model.render_chat([SYSTEM, FIRST, SECOND])
        assert "user\nAnswer from the sources.\n\nWhere is Paris?\n\nAnd Lyon?" in prompt
    finally:
        model.close()
