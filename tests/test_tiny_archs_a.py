"""Tiny random-weight models of gpt-oss, Gemma 4 (MoE) and Qwen3.5 MoE answer through Lanterne.

Each is written by `support.tiny_archs` with the family's real chat template (and tokenizer,
except gpt-oss's, which llama.cpp does not ship), then loaded through the planner with the
first layer's experts kept in RAM, as a GPU machine short of VRAM would: it renders a
conversation, streams, stops at the family's end of turn, and answers a follow-up (#23).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import llama_cpp
import pytest

from lanterne.engine import llama_log
from lanterne.engine.hardware import GpuDevice, Hardware, probe
from lanterne.engine.offload import PlanOverrides
from lanterne.engine.runtime import LocalModel, Message, SamplingParams
from support import llama_sources
from support.tiny_archs import SPECS
from support.tiny_archs.common import OVERRIDDEN, TinySpec

pytestmark = pytest.mark.model

KEYS = ("gpt-oss", "gemma4", "qwen35moe")
SYSTEM, QUESTION, FOLLOW_UP = "Be brief.", "Where is the station?", "And the bus?"
# The expert tensors of layer 0, as each architecture names them (Gemma 4 fuses gate and up;
# gpt-oss has a bias beside each weight).
LAYER_0_EXPERTS = {
    "gpt-oss": {
        f"blk.0.ffn_{k}_exps.{t}" for k in ("gate", "up", "down") for t in ("weight", "bias")
    },
    "gemma4": {"blk.0.ffn_gate_up_exps.weight", "blk.0.ffn_down_exps.weight"},
    "qwen35moe": {f"blk.0.ffn_{k}_exps.weight" for k in ("gate", "up", "down")},
}
# How the real template lays out the question and opens the answer.
TURN = {
    "gpt-oss": f"<|start|>user<|message|>{QUESTION}<|end|><|start|>assistant",
    "gemma4": f"<|turn>user\n{QUESTION}<turn|>\n<|turn>model\n",
    "qwen35moe": f"<|im_start|>user\n{QUESTION}<|im_end|>\n<|im_start|>assistant\n",
}
# Marker texts each family's tokenizer must hold as single tokens.
MARKERS = {
    "gpt-oss": ("<|start|>", "<|message|>", "<|channel|>", "<|end|>", "<|return|>", "<|call|>"),
    "gemma4": ("<|turn>", "<turn|>", "<|channel>", "<channel|>"),
    "qwen35moe": ("<|im_start|>", "<|im_end|>", "<think>", "</think>"),
}
# Follow-ups reuse the first turn's KV cache on attention-only models; hybrids (Qwen3.5's
# linear-attention layers) depend on the recurrent-state checkpoints another change works on.
ATTENTION_ONLY = {"gpt-oss", "gemma4"}
ENDING = SamplingParams(max_tokens=32, temperature=0.8, seed=1, grammar="root ::= [a-z ]{3,12}")


@dataclass
class Loaded:
    spec: TinySpec
    path: Path
    model: LocalModel
    overridden: set[str]


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _with_a_gpu(hardware: Hardware) -> Hardware:
    """The planner only keeps experts in RAM beside a GPU: a CPU-only build gets a stated one
    (llama.cpp then places every layer on the CPU, but still applies the overrides)."""
    if hardware.gpus:
        return hardware
    gpu = GpuDevice("GPU0", "Test GPU", "CUDA", 8 << 30, 8 << 30, False)
    return replace(hardware, gpus=(gpu,))


@pytest.fixture(scope="module", params=KEYS)
def loaded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Loaded]:
    spec = SPECS[request.param]
    path = spec.write(tmp_path_factory.mktemp(spec.key) / f"tiny-{spec.key}.gguf", 0)
    llama_log.install()
    log = logging.getLogger("lanterne.engine.llama_cpp")
    collect, level = _Collect(), log.level
    log.addHandler(collect)
    log.setLevel(logging.DEBUG)
    try:
        model = LocalModel.load(
            path,
            n_ctx=2048,
            n_threads=2,
            overrides=PlanOverrides(cpu_expert_layers=1),
            hardware=_with_a_gpu(probe()),
        )
    finally:
        log.removeHandler(collect)
        log.setLevel(level)
    # To the CPU's buffer, or on a GPU build to its pinned host buffer (CUDA_Host): RAM both.
    overridden = {m.split()[1] for m in collect.messages if OVERRIDDEN.search(m)}
    try:
        yield Loaded(spec, path, model, overridden)
    finally:
        model.close()


def first_turn() -> list[Message]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTION}]


def _token_id(model: LocalModel, text: str) -> int:
    tokens = model.tokenize(text)
    assert len(tokens) == 1, f"{text!r} is {len(tokens)} tokens"
    return tokens[0]


def _is_end(model: LocalModel, text: str) -> bool:
    vocab = llama_cpp.llama_model_get_vocab(model._llm.model)
    return bool(llama_cpp.llama_vocab_is_eog(vocab, _token_id(model, text)))


def test_the_file_is_the_architecture_with_the_real_template(loaded: Loaded) -> None:
    assert 20_000_000 < loaded.path.stat().st_size < 100_000_000  # the vocabulary's size
    metadata = loaded.model._llm.metadata
    assert metadata["general.architecture"] == loaded.spec.arch_name
    assert metadata["tokenizer.chat_template"] == llama_sources.chat_template(loaded.spec.template)
    assert loaded.model.info.chat_template == llama_sources.chat_template(loaded.spec.template)


def test_the_planner_keeps_the_first_layers_experts_in_ram(loaded: Loaded) -> None:
    assert loaded.model.plan.cpu_expert_layers == (0,)
    assert loaded.model.plan.overridden == ("cpu_expert_layers", "n_threads")
    assert loaded.overridden == LAYER_0_EXPERTS[loaded.spec.key]


def test_the_real_template_renders_the_conversation(loaded: Loaded) -> None:
    prompt = loaded.model.render_chat(first_turn())
    assert SYSTEM in prompt
    assert TURN[loaded.spec.key] in prompt
    for marker in MARKERS[loaded.spec.key]:
        _token_id(loaded.model, marker)  # one token each, as in the real tokenizer


def test_it_streams_text(loaded: Loaded) -> None:
    model = loaded.model
    prompt = model.render_chat(first_turn())
    text = "".join(model.stream(prompt, SamplingParams(max_tokens=16, temperature=0.8, seed=1)))
    timings = model.last_timings
    assert timings is not None
    assert (text + model.last_reasoning).strip()
    # The weights keep control tokens, end of turn included, out of reach of free sampling.
    assert timings.sampled_tokens == 16 and timings.cut_short


def test_it_stops_at_the_end_of_its_turn(loaded: Loaded) -> None:
    model = loaded.model
    assert _is_end(model, loaded.spec.end_of_turn)
    if loaded.spec.key == "gpt-oss":
        # `<|end|>` closes the analysis channel: the turn goes on to the final answer.
        assert _is_end(model, "<|call|>") and not _is_end(model, "<|end|>")
    # Once the grammar is complete only an end-of-generation token may follow.
    text = "".join(model.stream(model.render_chat(first_turn()), ENDING))
    timings = model.last_timings
    assert timings is not None
    assert re.fullmatch(r"[a-z ]{0,12}", text)
    assert not timings.cut_short and timings.sampled_tokens <= 13


def test_it_answers_a_follow_up(loaded: Loaded) -> None:
    model = loaded.model
    first = model.render_chat(first_turn())
    answer = "".join(model.stream(first, ENDING)).strip() or "here"
    conversation: list[Message] = [
        *first_turn(),
        {"role": "assistant", "content": answer},
        {"role": "user", "content": FOLLOW_UP},
    ]
    prompt = model.render_chat(conversation)
    assert answer in prompt
    assert prompt.endswith(FOLLOW_UP + first.split(QUESTION, 1)[1])  # the same answer header
    text = "".join(model.stream(prompt, SamplingParams(max_tokens=16, temperature=0.8, seed=2)))
    timings = model.last_timings
    assert timings is not None
    assert (text + model.last_reasoning).strip()
    assert timings.prompt_tokens == model.count_tokens(prompt)
    if loaded.spec.key in ATTENTION_ONLY:
        assert timings.reused_tokens > 0
