"""Model introspection from the GGUF header, without loading weights."""

from __future__ import annotations

import time
from pathlib import Path

import gguf
import pytest

from lanterne.engine.errors import ModelLoadError
from lanterne.engine.gguf_header import read_summary, tensor_group
from support.split_gguf import write_split


def test_dense_gemma(gemma_model: Path) -> None:
    start = time.perf_counter()
    s = read_summary(gemma_model)
    assert time.perf_counter() - start < 2.0  # header only, even with a 262k-token vocabulary
    assert (s.architecture, s.name, s.n_layer, s.n_expert) == ("gemma3", "Gemma 3 270m", 18, 0)
    assert not s.is_moe
    assert 260e6 < s.n_params < 280e6
    assert s.n_vocab == 262144 and s.context_length == 32768
    assert (s.n_embd, s.n_head, s.head_dim_k) == (640, 4, 256)
    assert s.n_head_kv == (1,) * 18
    assert s.groups["expert_ffn"] == 0
    assert s.groups["embeddings"] > s.groups["attention"] > 0 and s.groups["dense_ffn"] > 0
    assert s.weight_bytes <= s.file_bytes < s.weight_bytes * 1.05  # the rest is the header
    assert len(s.layers) == 18 and all(layer.expert_ffn == 0 for layer in s.layers)
    # KV cache, f16: 18 layers x 1 KV head x (256 + 256) x 2 bytes per token.
    assert s.kv_bytes(4096) == 18 * 512 * 2 * 4096


def test_moe_groups_per_layer(tiny_moe_model: Path) -> None:
    s = read_summary(tiny_moe_model)
    assert (s.architecture, s.n_expert, s.n_expert_used, s.n_layer) == ("qwen3moe", 4, 2, 2)
    assert s.is_moe and s.chat_template and "<|im_start|>" in s.chat_template
    assert all(layer.expert_ffn > layer.attention > 0 for layer in s.layers)
    assert sum(layer.expert_ffn for layer in s.layers) == s.groups["expert_ffn"]
    reader = gguf.GGUFReader(tiny_moe_model)  # the reference implementation agrees
    assert s.n_params == sum(int(t.n_elements) for t in reader.tensors)
    assert s.weight_bytes == sum(int(t.n_bytes) for t in reader.tensors)


def test_split_models_are_summed_over_their_files(tiny_moe_model: Path, tmp_path: Path) -> None:
    whole = read_summary(tiny_moe_model)
    first, second = write_split(tiny_moe_model, tmp_path)
    split = read_summary(first)
    assert split.files == (first, second)
    assert (split.n_params, split.groups) == (whole.n_params, whole.groups)
    assert split.layers == whole.layers
    second.unlink()
    with pytest.raises(ModelLoadError, match="split into 2 files and some are missing"):
        read_summary(first)


def test_truncated_and_corrupt_files_are_explained(tiny_moe_model: Path, tmp_path: Path) -> None:
    data = tiny_moe_model.read_bytes()
    truncated = tmp_path / "truncated.gguf"
    truncated.write_bytes(data[:3000])
    with pytest.raises(ModelLoadError, match="damaged or not a complete GGUF file"):
        read_summary(truncated)
    corrupt = tmp_path / "corrupt.gguf"
    corrupt.write_bytes(b"GGUF" + b"\xff" * 64)
    # ggml's own reason comes with it, from llama.cpp's log.
    with pytest.raises(ModelLoadError, match=r"damaged or not a complete GGUF file\. \(gguf_"):
        read_summary(corrupt)
    with pytest.raises(ModelLoadError, match="not found"):
        read_summary(tmp_path / "absent.gguf")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("token_embd.weight", (None, "embeddings")),
        ("output.weight", (None, "embeddings")),
        ("output_norm.weight", (None, "other")),
        ("blk.3.attn_q.weight", (3, "attention")),  # llama, qwen, mixtral
        ("blk.3.attn_sinks.weight", (3, "attention")),  # gpt-oss
        ("blk.3.attn_kv_a_mqa.weight", (3, "attention")),  # deepseek MLA
        ("blk.3.post_attention_norm.weight", (3, "attention")),  # gemma
        ("blk.3.ffn_up.weight", (3, "dense_ffn")),  # dense llama / gemma
        ("blk.3.ffn_gate_inp.weight", (3, "dense_ffn")),  # the router stays with attention
        ("blk.3.ffn_up_shexp.weight", (3, "dense_ffn")),  # granite / qwen2moe shared expert
        ("blk.3.ffn_gate_exps.weight", (3, "expert_ffn")),  # qwen3moe, mixtral
        ("blk.3.ffn_gate_up_exps.weight", (3, "expert_ffn")),  # fused experts
        ("blk.3.ffn_down_exps.bias", (3, "expert_ffn")),  # gpt-oss expert biases
        ("blk.3.exp_probs_b.bias", (3, "dense_ffn")),
        ("blk.12.layer_output_norm.weight", (12, "other")),
    ],
)
def test_tensor_groups_follow_llama_cpp_names(name: str, expected: tuple[int | None, str]) -> None:
    assert tensor_group(name) == expected
