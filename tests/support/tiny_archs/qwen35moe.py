"""`qwen35moe` (Qwen3.5-35B-A3B and larger) with the real Qwen3.5 tokenizer.

Three gated-delta-net (linear attention) layers, then one full-attention layer whose query
projection also yields an output gate, as `full_attention_interval` 4 lays them out; every
layer has routed experts and a gated shared expert. The linear-attention tensors are those the
converter writes (`attn_qkv`, `attn_gate`, `ssm_*`), with llama.cpp's shapes.
"""

from __future__ import annotations

from pathlib import Path

import gguf

from support import real_vocab
from support.tiny_archs.common import Tensor, TinySpec, Weights, name, write_file

ARCH = gguf.MODEL_ARCH.QWEN35MOE
_T = gguf.MODEL_TENSOR
WIDTH, HEADS, KV_HEADS, HEAD_DIM, EXPERT_FF, SHARED_FF, EXPERTS, USED = 64, 4, 2, 16, 32, 32, 4, 2
LAYERS, FULL_ATTENTION_INTERVAL = 4, 4
ROPE_DIMS, ROPE_SECTIONS = 8, [2, 1, 1, 0]  # interleaved multimodal RoPE; text uses one position
# Gated delta net: key heads (ssm group count), value heads (time-step rank), their size (state).
CONV_KERNEL, K_HEADS, V_HEADS, STATE = 4, 2, 4, 16
KEY_DIM, VALUE_DIM = K_HEADS * STATE, V_HEADS * STATE
# Added tokens of Qwen3.5 that the test vocabulary lacks; shown as text, like the real GGUF's.
SHOWN = ("<think>", "</think>", "<tool_call>", "</tool_call>")


def vocab() -> real_vocab.Vocab:
    base = real_vocab.with_controls(
        real_vocab.read_vocab("qwen35"), ["<|im_start|>", "<|im_end|>"], eos="<|im_end|>"
    )
    return real_vocab.with_shown(base, SHOWN)


def _recurrent(layer: int) -> bool:
    return (layer + 1) % FULL_ATTENTION_INTERVAL != 0


def _mixer(w: Weights, il: int) -> list[tuple[str, Tensor]]:
    if not _recurrent(il):
        return [
            (name(ARCH, _T.ATTN_Q, il), w.half(2 * HEADS * HEAD_DIM, WIDTH)),  # query + gate
            (name(ARCH, _T.ATTN_K, il), w.half(KV_HEADS * HEAD_DIM, WIDTH)),
            (name(ARCH, _T.ATTN_V, il), w.half(KV_HEADS * HEAD_DIM, WIDTH)),
            (name(ARCH, _T.ATTN_Q_NORM, il), w.norm(HEAD_DIM)),
            (name(ARCH, _T.ATTN_K_NORM, il), w.norm(HEAD_DIM)),
            (name(ARCH, _T.ATTN_OUT, il), w.into_residual(WIDTH, HEADS * HEAD_DIM)),
        ]
    conv_dim = 2 * KEY_DIM + VALUE_DIM
    return [
        (name(ARCH, _T.ATTN_QKV, il), w.half(conv_dim, WIDTH)),
        (name(ARCH, _T.ATTN_GATE, il), w.half(VALUE_DIM, WIDTH)),
        (name(ARCH, _T.SSM_CONV1D, il), w.normal(conv_dim, CONV_KERNEL, std=0.3)),
        (name(ARCH, _T.SSM_DT, il, ".bias"), w.normal(V_HEADS, std=0.5)),
        # -exp(A_log), as the converter stores it: a decay, so negative.
        (name(ARCH, _T.SSM_A, il, ""), -w.rng.uniform(0.5, 2.0, V_HEADS).astype("float32")),
        (name(ARCH, _T.SSM_BETA, il), w.half(V_HEADS, WIDTH)),
        (name(ARCH, _T.SSM_ALPHA, il), w.half(V_HEADS, WIDTH)),
        (name(ARCH, _T.SSM_NORM, il), w.norm(STATE)),
        (name(ARCH, _T.SSM_OUT, il), w.into_residual(WIDTH, VALUE_DIM)),
    ]


def _write(spec: TinySpec, path: Path, seed: int) -> Path:
    w = Weights(seed, WIDTH)
    v = spec.vocab()
    tensors: list[tuple[str, Tensor]] = [
        (name(ARCH, _T.TOKEN_EMBD), w.embeddings(v)),
        (name(ARCH, _T.OUTPUT_NORM), w.output_norm()),
        (name(ARCH, _T.OUTPUT), w.output(v)),
    ]
    for il in range(LAYERS):
        tensors += [
            (name(ARCH, _T.ATTN_NORM, il), w.norm(WIDTH)),
            *_mixer(w, il),
            (name(ARCH, _T.ATTN_POST_NORM, il), w.norm(WIDTH)),
            (name(ARCH, _T.FFN_GATE_INP, il), w.router(EXPERTS)),
            (name(ARCH, _T.FFN_GATE_EXP, il), w.half(EXPERTS, EXPERT_FF, WIDTH)),
            (name(ARCH, _T.FFN_UP_EXP, il), w.half(EXPERTS, EXPERT_FF, WIDTH)),
            (name(ARCH, _T.FFN_DOWN_EXP, il), w.into_residual(EXPERTS, WIDTH, EXPERT_FF)),
            (name(ARCH, _T.FFN_GATE_INP_SHEXP, il), w.normal(WIDTH)),
            (name(ARCH, _T.FFN_GATE_SHEXP, il), w.half(SHARED_FF, WIDTH)),
            (name(ARCH, _T.FFN_UP_SHEXP, il), w.half(SHARED_FF, WIDTH)),
            (name(ARCH, _T.FFN_DOWN_SHEXP, il), w.into_residual(WIDTH, SHARED_FF)),
        ]

    def describe(writer: gguf.GGUFWriter) -> None:
        writer.add_context_length(4096)
        writer.add_embedding_length(WIDTH)
        writer.add_block_count(LAYERS)
        writer.add_feed_forward_length(EXPERT_FF * USED)
        writer.add_expert_feed_forward_length(EXPERT_FF)
        writer.add_expert_shared_feed_forward_length(SHARED_FF)
        writer.add_expert_count(EXPERTS)
        writer.add_expert_used_count(USED)
        writer.add_head_count(HEADS)
        writer.add_head_count_kv(KV_HEADS)
        writer.add_key_length(HEAD_DIM)
        writer.add_value_length(HEAD_DIM)
        writer.add_layer_norm_rms_eps(1e-6)
        writer.add_rope_freq_base(10_000_000.0)
        writer.add_rope_dimension_count(ROPE_DIMS)
        writer.add_rope_dimension_sections(ROPE_SECTIONS)
        writer.add_ssm_conv_kernel(CONV_KERNEL)
        writer.add_ssm_state_size(STATE)
        writer.add_ssm_group_count(K_HEADS)
        writer.add_ssm_time_step_rank(V_HEADS)
        writer.add_ssm_inner_size(VALUE_DIM)
        writer.add_full_attention_interval(FULL_ATTENTION_INTERVAL)

    return write_file(path, spec, describe, tensors)


SPEC: TinySpec = TinySpec(
    key="qwen35moe",
    arch=ARCH,
    template="Qwen3.5-4B",
    vocab=vocab,
    end_of_turn="<|im_end|>",
    real_tokenizer=True,
    write=lambda path, seed: _write(SPEC, path, seed),
)
