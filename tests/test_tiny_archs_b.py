"""Tiny models of granitehybrid, lfm2moe, nemotron_h_moe and mistral4 run through Lanterne's
engine as the real ones would: the planner keeps the first MoE layer's experts in RAM and
llama.cpp honours it, the family's template renders the chat, the answer streams, ends at the
family's end-of-turn token (and splits off the reasoning where the family has it), and a
follow-up reuses the cached conversation.

The files have random weights (see `support.tiny_archs`); a grammar stands in for a trained
model's choice of when to stop. Where this machine has no GPU, the plan is made for one (a
synthetic 24 GB card): a CPU-only llama.cpp ignores the GPU layers but applies the expert
overrides, which is what is checked.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import gguf
import llama_cpp
import pytest

from lanterne.engine import ggml_api, llama_log
from lanterne.engine.gguf_header import read_summary
from lanterne.engine.hardware import probe
from lanterne.engine.offload import PlanOverrides
from lanterne.engine.reasoning import ReasoningEffort
from lanterne.engine.runtime import LocalModel, SamplingParams
from support import llama_sources
from support.machines import machine
from support.tiny_archs import SPECS
from support.tiny_archs.common import OVERRIDDEN, TinySpec

pytestmark = pytest.mark.model

KEYS = ("granitehybrid", "lfm2moe", "nemotron_h_moe", "mistral4")
# The tokens llama.cpp ends a turn at, for each family (Nemotron's tekken has `</s>` too).
END_TOKENS = {
    "granitehybrid": {"<|end_of_text|>"},
    "lfm2moe": {"<|im_end|>"},
    "nemotron_h_moe": {"<|im_end|>", "</s>"},
    "mistral4": {"</s>"},
}
# Reasoning markers, and whether the prompt opens the block (Nemotron's generation prompt ends
# in `<think>\n` when thinking is on) or the model does (Mistral writes `[THINK]` itself).
REASONING = {
    "nemotron_h_moe": ("<think>", "</think>", True),
    "mistral4": ("[THINK]", "[/THINK]", False),
}
# As long as a real system prompt: a hybrid model keeps a copy of its recurrent state only for
# prompts of more than a few dozen tokens (a shorter one is read again: engine/prompt_cache.py).
SYSTEM = {
    "role": "system",
    "content": "You are a careful assistant for an office team. You answer in one short "
    "sentence, in the language of the question, from the documents you are given, and you say "
    "so plainly when they do not hold the answer. You never invent a source, a figure, a date "
    "or a name, and you keep the words of the documents where they matter.",
}
QUESTION = {"role": "user", "content": "Where does the summer go?"}
FOLLOW_UP = {"role": "user", "content": "And the winter?"}
WORDS = "[a-z ]{3,12}"  # plain words; llama.cpp allows only end-of-turn tokens after them


@dataclass
class Loaded:
    spec: TinySpec
    path: Path
    model: LocalModel
    cpu_layers: int  # the override asked for: up to and including the first MoE layer
    overridden: list[str]  # tensors llama.cpp said it placed in the CPU buffer


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def _tensor_names(path: Path) -> list[str]:
    api = ggml_api.gguf_api()
    ctx = api["init"](str(path).encode(), ggml_api.GGUFInitParams(no_alloc=True, ctx=None))
    try:
        return [api["tensor_name"](ctx, i).decode() for i in range(api["n_tensors"](ctx))]
    finally:
        api["free"](ctx)


def _first_moe_layer(path: Path) -> int:
    return min(i for i, layer in enumerate(read_summary(path).layers) if layer.expert_ffn)


@pytest.fixture(scope="module", params=KEYS)
def tiny(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    key: str = request.param
    return SPECS[key].write(tmp_path_factory.mktemp(key) / f"tiny-{key}.gguf", 0)


@pytest.fixture(scope="module")
def loaded(tiny: Path) -> Iterator[Loaded]:
    spec = SPECS[tiny.stem.removeprefix("tiny-")]
    hardware = probe()
    if not hardware.gpus:
        hardware = replace(hardware, gpus=machine(16, 24).gpus)
    cpu_layers = _first_moe_layer(tiny) + 1
    llama_log.install()
    lines = _Lines()
    log = logging.getLogger("lanterne.engine.llama_cpp")
    level = log.level
    log.setLevel(logging.DEBUG)
    log.addHandler(lines)
    try:
        model = LocalModel.load(
            tiny,
            n_ctx=2048,
            n_threads=2,
            overrides=PlanOverrides(cpu_expert_layers=cpu_layers),
            hardware=hardware,
        )
    finally:
        log.removeHandler(lines)
        log.setLevel(level)
    overridden = [line.split()[1] for line in lines.lines if OVERRIDDEN.search(line)]
    try:
        yield Loaded(spec, tiny, model, cpu_layers, overridden)
    finally:
        model.close()


def _grammar(loaded: Loaded, answer: str = WORDS) -> str:
    """Plain words, then the turn's end; the reasoning block first for reasoning families."""
    if loaded.spec.key not in REASONING:
        return f"root ::= {answer}"
    opener, closer, opened_by_prompt = REASONING[loaded.spec.key]
    ids = {text: loaded.spec.vocab().id_of(text) for text in (opener, closer)}
    block = f"{WORDS} <[{ids[closer]}]>"
    if not opened_by_prompt:
        block = f"<[{ids[opener]}]> {block}"
    return f"root ::= {block} {answer}"


def _effort(loaded: Loaded) -> ReasoningEffort:
    return "high" if loaded.spec.key in REASONING else "off"


def test_file_is_the_family_with_its_template(tiny: Path) -> None:
    spec = SPECS[tiny.stem.removeprefix("tiny-")]
    summary = read_summary(tiny)
    assert summary.architecture == spec.arch_name
    assert summary.chat_template == llama_sources.chat_template(spec.template)
    assert (summary.n_expert, summary.n_expert_used) == (4, 2)
    assert 10_000_000 < tiny.stat().st_size < 60_000_000  # the vocabulary is most of it
    assert not spec.real_tokenizer  # llama.cpp ships none of these four tokenizers


def test_turn_ends_only_at_the_family_end_tokens(tiny: Path) -> None:
    spec = SPECS[tiny.stem.removeprefix("tiny-")]
    llm = llama_cpp.Llama(model_path=str(tiny), vocab_only=True, verbose=False)
    try:
        vocab = llama_cpp.llama_model_get_vocab(llm.model)
        n_vocab = llama_cpp.llama_vocab_n_tokens(vocab)
        ends = {i for i in range(n_vocab) if llama_cpp.llama_vocab_is_eog(vocab, i)}
        texts = {llm.detokenize([i], special=True).decode() for i in ends}
    finally:
        llm.close()
    assert spec.end_of_turn in texts
    assert texts == END_TOKENS[spec.key]


def test_plan_keeps_first_moe_layers_experts_in_ram(loaded: Loaded) -> None:
    plan = loaded.model.plan
    assert plan.cpu_expert_layers == tuple(range(loaded.cpu_layers))
    assert "cpu_expert_layers" in plan.overridden
    experts = [
        n
        for n in _tensor_names(loaded.path)
        if "_exps." in n and int(n.split(".")[1]) < loaded.cpu_layers
    ]
    assert experts  # the last layer asked for is a MoE layer
    assert sorted(loaded.overridden) == sorted(experts)
    assert all(re.match(r"blk\.\d+\.ffn_\w+_exps\.weight$", n) for n in loaded.overridden)


def test_template_renders_and_tokenizes_its_markers(loaded: Loaded) -> None:
    model, vocab = loaded.model, loaded.spec.vocab()
    assert model.template_problem is None
    past = {"role": "assistant", "content": "It goes south with the birds."}
    prompt = model.render_chat([SYSTEM, QUESTION, past, FOLLOW_UP])
    assert all(m["content"] in prompt for m in (SYSTEM, QUESTION, past, FOLLOW_UP))
    tokens = set(model.tokenize(prompt))
    controls = [
        text
        for text, kind in zip(vocab.tokens, vocab.types, strict=True)
        if kind == gguf.TokenType.CONTROL and text in prompt
    ]
    assert loaded.spec.end_of_turn in controls  # it closes the past answer
    for text in controls:
        if text != vocab.tokens[vocab.ids["bos"]]:  # a leading BOS is added, not tokenized
            assert vocab.id_of(text) in tokens, text


def test_answer_streams(loaded: Loaded) -> None:
    model = loaded.model
    model.forget_prompt()
    prompt = model.render_chat([SYSTEM, QUESTION], _effort(loaded))
    pieces: list[str] = []
    params = SamplingParams(max_tokens=16, temperature=0.8, seed=1)
    for piece in model.stream(prompt, params, on_reasoning=pieces.append):
        pieces.append(piece)
    assert "".join(pieces).strip()  # Nemotron's first 16 tokens are all reasoning
    assert model.last_timings is not None and model.last_timings.sampled_tokens == 16


def test_answer_ends_at_end_of_turn_and_follow_up_reuses_the_cache(loaded: Loaded) -> None:
    model = loaded.model
    model.forget_prompt()
    effort = _effort(loaded)
    params = SamplingParams(max_tokens=48, temperature=0.8, seed=3, grammar=_grammar(loaded))
    prompt = model.render_chat([SYSTEM, QUESTION], effort)
    reasoning: list[str] = []
    answer = "".join(model.stream(prompt, params, on_reasoning=reasoning.append))
    first = model.last_timings
    assert first is not None and not first.cut_short
    assert first.sampled_tokens < params.max_tokens
    assert re.fullmatch(r"[a-z ]+", answer) and answer.strip(), answer
    if loaded.spec.key in REASONING:
        opener, closer, _ = REASONING[loaded.spec.key]
        assert model.last_reasoning.strip() and "".join(reasoning).strip()
        assert opener not in answer and closer not in answer
    else:
        assert model.last_reasoning == ""

    history = [SYSTEM, QUESTION, {"role": "assistant", "content": answer.strip()}, FOLLOW_UP]
    again = "".join(model.stream(model.render_chat(history, effort), params))
    second = model.last_timings
    assert again.strip() and second is not None and not second.cut_short
    assert second.reused_tokens > 0
