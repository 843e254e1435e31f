"""The realistic-shape MoE GGUF writer (`support.moe_shapes`), at a small size: loads and runs."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator

import gguf
import llama_cpp
import numpy as np
import pytest

from support import tiny_moe
from support.moe_shapes import QWEN3_30B_A3B_MINI, SMALL, MoeShape, cached_moe_gguf, vocabulary


def _field(reader: gguf.GGUFReader, key: str) -> object:
    field = reader.get_field(key)
    assert field is not None, key
    return field.contents()


@pytest.fixture(scope="module")
def small_path(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    return cached_moe_gguf(tmp_path_factory.mktemp("moe_shapes"), SMALL)


@pytest.fixture
def llm(small_path: pathlib.Path) -> Iterator[llama_cpp.Llama]:
    model = llama_cpp.Llama(model_path=str(small_path), n_ctx=256, n_threads=2, verbose=False)
    try:
        yield model
    finally:
        model.close()


def test_metadata_and_tensor_types(small_path: pathlib.Path) -> None:
    reader = gguf.GGUFReader(small_path)
    assert _field(reader, "general.architecture") == "qwen3moe"
    assert _field(reader, "qwen3moe.block_count") == SMALL.layers
    assert _field(reader, "qwen3moe.embedding_length") == SMALL.hidden
    assert _field(reader, "qwen3moe.expert_count") == SMALL.experts
    assert _field(reader, "qwen3moe.expert_used_count") == SMALL.experts_used
    assert _field(reader, "qwen3moe.expert_feed_forward_length") == SMALL.expert_ffn
    assert _field(reader, "qwen3moe.attention.head_count_kv") == SMALL.kv_heads
    assert _field(reader, "qwen3moe.attention.key_length") == SMALL.head_dim
    assert _field(reader, "general.file_type") == gguf.LlamaFileType.MOSTLY_Q4_0
    types = {t.name: t.tensor_type for t in reader.tensors}
    assert types["blk.0.ffn_gate_exps.weight"] == gguf.GGMLQuantizationType.Q4_0
    assert types["blk.1.attn_q.weight"] == gguf.GGMLQuantizationType.Q4_0
    assert types["blk.0.ffn_gate_inp.weight"] == gguf.GGMLQuantizationType.F32
    assert types["output_norm.weight"] == gguf.GGMLQuantizationType.F32
    down = next(t for t in reader.tensors if t.name == "blk.0.ffn_down_exps.weight")
    assert [int(n) for n in down.shape] == [SMALL.expert_ffn, SMALL.hidden, SMALL.experts]
    weights = gguf.quants.dequantize(down.data, down.tensor_type)
    assert np.isfinite(weights).all()
    assert 0.2 < float(weights.std()) * np.sqrt(SMALL.expert_ffn) < 0.8


def test_is_cached_and_deterministic(small_path: pathlib.Path) -> None:
    assert cached_moe_gguf(small_path.parent, SMALL) == small_path
    other = cached_moe_gguf(small_path.parent, SMALL, seed=1)
    assert other != small_path
    assert other.read_bytes() != small_path.read_bytes()


def test_vocabulary_keeps_tiny_moe_ids() -> None:
    tokens = vocabulary(SMALL.vocab)
    assert len(tokens) == SMALL.vocab
    assert tokens[: len(tiny_moe.TOKENS)] == tiny_moe.TOKENS
    assert tokens[tiny_moe.EOS_TOKEN_ID] == tiny_moe.IM_END


def test_shapes_are_checked() -> None:
    with pytest.raises(ValueError, match="experts_used"):
        MoeShape(128, 2, 4, 2, 32, experts=4, experts_used=5, expert_ffn=64, vocab=1024)
    with pytest.raises(ValueError, match="multiple of 32"):
        MoeShape(100, 2, 4, 2, 32, experts=4, experts_used=2, expert_ffn=64, vocab=1024)
    assert 500e6 < QWEN3_30B_A3B_MINI.parameters < 1e9
    assert QWEN3_30B_A3B_MINI.active_parameters < QWEN3_30B_A3B_MINI.parameters / 2


@pytest.mark.model
def test_llama_cpp_loads_and_runs_to_max_tokens(llm: llama_cpp.Llama) -> None:
    assert llm.metadata["general.architecture"] == "qwen3moe"
    assert llm.metadata["qwen3moe.expert_count"] == str(SMALL.experts)
    assert llm.n_vocab() == SMALL.vocab
    assert llm.detokenize([llm.token_eos()], special=True) == b"<|im_end|>"
    out = llm.create_completion("<|im_start|>user\nBonjour<|im_end|>\n", max_tokens=8, seed=1)
    assert not isinstance(out, Iterator)
    assert out["usage"]["completion_tokens"] == 8
    assert out["choices"][0]["finish_reason"] == "length"
