"""The tiny random-weight MoE GGUF written by `support.tiny_moe` loads and generates."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator
from typing import Any

import gguf
import llama_cpp
import pytest
from llama_cpp.llama_types import (
    CreateCompletionResponse,
    CreateCompletionStreamResponse,
)

from support.tiny_moe import EOS_TOKEN_ID, IM_START_TOKEN_ID, write_tiny_moe_gguf

FRENCH = "Où est l'été ? Ça va. « Déjà vu », cœur, naïve… 42 €"
ENGLISH = "The quick brown fox jumps over the lazy dog.\n\tDone!"


def _field(reader: gguf.GGUFReader, key: str) -> object:
    field = reader.get_field(key)
    assert field is not None, key
    return field.contents()


def _complete(llm: llama_cpp.Llama, prompt: str, **options: Any) -> CreateCompletionResponse:
    out = llm.create_completion(prompt, **options)
    assert not isinstance(out, Iterator)
    return out


def _stream(
    llm: llama_cpp.Llama, prompt: str, **options: Any
) -> list[CreateCompletionStreamResponse]:
    out = llm.create_completion(prompt, stream=True, **options)
    assert isinstance(out, Iterator)
    return list(out)


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    return write_tiny_moe_gguf(tmp_path_factory.mktemp("tiny_moe") / "tiny-moe.gguf")


@pytest.fixture
def llm(model_path: pathlib.Path) -> Iterator[llama_cpp.Llama]:
    model = llama_cpp.Llama(model_path=str(model_path), n_ctx=256, n_threads=2, verbose=False)
    try:
        yield model
    finally:
        model.close()  # not left to __del__, which can print tracebacks at interpreter exit


def test_file_is_small_and_declares_a_moe(model_path: pathlib.Path) -> None:
    assert 100_000 < model_path.stat().st_size < 1_000_000
    reader = gguf.GGUFReader(model_path)
    assert _field(reader, "general.architecture") == "qwen3moe"
    assert _field(reader, "general.name") == "Tiny MoE (random weights)"
    assert _field(reader, "qwen3moe.expert_count") == 4
    assert _field(reader, "qwen3moe.expert_used_count") == 2
    assert _field(reader, "qwen3moe.context_length") == 2048
    template = _field(reader, "tokenizer.chat_template")
    assert isinstance(template, str)
    assert "<|im_start|>" in template
    assert "add_generation_prompt" in template
    names = {tensor.name for tensor in reader.tensors}
    assert {"blk.0.ffn_gate_exps.weight", "blk.1.ffn_down_exps.weight"} <= names


def test_is_deterministic_per_seed(tmp_path: pathlib.Path) -> None:
    first = write_tiny_moe_gguf(tmp_path / "a.gguf", seed=7).read_bytes()
    again = write_tiny_moe_gguf(tmp_path / "b.gguf", seed=7).read_bytes()
    other = write_tiny_moe_gguf(tmp_path / "c.gguf", seed=8).read_bytes()
    assert first == again
    assert first != other


@pytest.mark.model
def test_options_change_the_shape(tmp_path: pathlib.Path) -> None:
    path = write_tiny_moe_gguf(
        tmp_path / "wide.gguf", n_layers=3, n_expert=8, n_expert_used=3, context_length=512
    )
    reader = gguf.GGUFReader(path)
    assert _field(reader, "qwen3moe.block_count") == 3
    assert _field(reader, "qwen3moe.expert_count") == 8
    assert _field(reader, "qwen3moe.expert_used_count") == 3
    assert _field(reader, "qwen3moe.context_length") == 512
    model = llama_cpp.Llama(model_path=str(path), n_ctx=128, n_threads=2, verbose=False)
    try:
        out = _complete(model, "Bonjour", max_tokens=4, temperature=0.8, seed=3)
        assert out["usage"]["completion_tokens"] == 4
    finally:
        model.close()


@pytest.mark.model
def test_llama_cpp_loads_it(llm: llama_cpp.Llama) -> None:
    assert llm.metadata["general.architecture"] == "qwen3moe"
    assert llm.metadata["qwen3moe.expert_count"] == "4"
    assert llm.metadata["qwen3moe.expert_used_count"] == "2"
    assert llm.metadata["general.name"] == "Tiny MoE (random weights)"
    assert llm.n_ctx() == 256
    eos = llm.token_eos()
    assert llm.detokenize([eos], special=True) == b"<|im_end|>"


@pytest.mark.model
@pytest.mark.parametrize("text", [FRENCH, ENGLISH])
def test_tokenizer_round_trips(llm: llama_cpp.Llama, text: str) -> None:
    tokens = llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)
    assert 0 < len(tokens) <= len(text.encode("utf-8"))
    assert llm.detokenize(tokens).decode("utf-8") == text


@pytest.mark.model
def test_special_tokens_are_parsed_when_asked(llm: llama_cpp.Llama) -> None:
    tokens = llm.tokenize(b"<|im_start|>user\nSalut<|im_end|>", add_bos=False, special=True)
    assert tokens[0] == IM_START_TOKEN_ID
    assert tokens[-1] == EOS_TOKEN_ID == llm.token_eos()
    plain = llm.tokenize(b"<|im_end|>", add_bos=False, special=False)
    assert llm.token_eos() not in plain


@pytest.mark.model
def test_completion_generates_tokens(llm: llama_cpp.Llama) -> None:
    out = _complete(llm, "Bonjour, je suis", max_tokens=16, temperature=0.8, seed=1)
    choice = out["choices"][0]
    assert isinstance(choice["text"], str)
    assert out["usage"]["completion_tokens"] >= 1
    # The weights make control tokens (end of turn) practically unreachable: runs hit the limit.
    assert out["usage"]["completion_tokens"] == 16
    assert choice["finish_reason"] == "length"


@pytest.mark.model
def test_completion_is_reproducible_with_a_seed(llm: llama_cpp.Llama) -> None:
    first = _complete(llm, "Le", max_tokens=8, temperature=0.8, seed=1)
    again = _complete(llm, "Le", max_tokens=8, temperature=0.8, seed=1)
    assert first["choices"][0]["text"] == again["choices"][0]["text"]


@pytest.mark.model
def test_streaming_yields_chunks(llm: llama_cpp.Llama) -> None:
    chunks = _stream(llm, "Où est l'été ?", max_tokens=16, temperature=0.8, seed=1)
    assert len(chunks) >= 1
    texts = [chunk["choices"][0]["text"] for chunk in chunks]
    assert all(isinstance(text, str) for text in texts)
    assert "".join(texts)
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"


@pytest.mark.model
def test_eos_can_be_forced(llm: llama_cpp.Llama) -> None:
    out = _complete(
        llm, "Bonjour", max_tokens=8, temperature=0.8, seed=1, logit_bias={llm.token_eos(): 100.0}
    )
    assert out["choices"][0]["finish_reason"] == "stop"
    assert out["usage"]["completion_tokens"] == 0


@pytest.mark.model
def test_chat_template_is_used(llm: llama_cpp.Llama) -> None:
    reply = llm.create_chat_completion(
        messages=[
            {"role": "system", "content": "Tu es Lanterne."},
            {"role": "user", "content": "Où est l'été ?"},
        ],
        max_tokens=8,
        temperature=0.8,
        seed=1,
    )
    assert not isinstance(reply, Iterator)
    message = reply["choices"][0]["message"]
    assert message["role"] == "assistant"
    assert isinstance(message["content"], str)
    assert reply["usage"]["completion_tokens"] >= 1
