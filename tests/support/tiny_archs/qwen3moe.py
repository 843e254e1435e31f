"""`qwen3moe` (Qwen3-30B-A3B, Qwen3-Coder-30B-A3B) with Qwen's real tokenizer.

Two templates: Qwen3's hybrid thinking template (`<think>` blocks, `enable_thinking`) and the
instruct-only Qwen3-Coder template that never thinks.
"""

from __future__ import annotations

from pathlib import Path

import gguf

from support import real_vocab
from support.tiny_archs.common import Tensor, TinySpec, Weights, name, write_file

ARCH = gguf.MODEL_ARCH.QWEN3MOE
_T = gguf.MODEL_TENSOR
SHOWN = ("<think>", "</think>", "<tool_call>", "</tool_call>")
WIDTH, HEADS, KV_HEADS, HEAD_DIM, EXPERT_FF, EXPERTS, USED, LAYERS = 64, 4, 2, 16, 32, 4, 2, 2


def vocab() -> real_vocab.Vocab:
    base = real_vocab.read_vocab("qwen2")  # Qwen3's tokenizer: the same BPE and controls...
    chat = real_vocab.with_controls(base, ["<|im_start|>", "<|im_end|>"], eos="<|im_end|>")
    return real_vocab.with_shown(chat, SHOWN)  # ...plus the think and tool tags it added


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
            (name(ARCH, _T.ATTN_Q, il), w.half(HEADS * HEAD_DIM, WIDTH)),
            (name(ARCH, _T.ATTN_K, il), w.half(KV_HEADS * HEAD_DIM, WIDTH)),
            (name(ARCH, _T.ATTN_V, il), w.half(KV_HEADS * HEAD_DIM, WIDTH)),
            (name(ARCH, _T.ATTN_Q_NORM, il), w.norm(HEAD_DIM)),
            (name(ARCH, _T.ATTN_K_NORM, il), w.norm(HEAD_DIM)),
            (name(ARCH, _T.ATTN_OUT, il), w.into_residual(WIDTH, HEADS * HEAD_DIM)),
            (name(ARCH, _T.FFN_NORM, il), w.norm(WIDTH)),
            (name(ARCH, _T.FFN_GATE_INP, il), w.router(EXPERTS)),
            (name(ARCH, _T.FFN_GATE_EXP, il), w.half(EXPERTS, EXPERT_FF, WIDTH)),
            (name(ARCH, _T.FFN_UP_EXP, il), w.half(EXPERTS, EXPERT_FF, WIDTH)),
            (name(ARCH, _T.FFN_DOWN_EXP, il), w.into_residual(EXPERTS, WIDTH, EXPERT_FF)),
        ]

    def describe(writer: gguf.GGUFWriter) -> None:
        writer.add_context_length(4096)
        writer.add_embedding_length(WIDTH)
        writer.add_block_count(LAYERS)
        writer.add_feed_forward_length(EXPERT_FF * USED)
        writer.add_expert_feed_forward_length(EXPERT_FF)
        writer.add_expert_count(EXPERTS)
        writer.add_expert_used_count(USED)
        writer.add_head_count(HEADS)
        writer.add_head_count_kv(KV_HEADS)
        writer.add_key_length(HEAD_DIM)
        writer.add_value_length(HEAD_DIM)
        writer.add_layer_norm_rms_eps(1e-6)
        writer.add_rope_freq_base(1_000_000.0)

    return write_file(path, spec, describe, tensors)


THINKING: TinySpec = TinySpec(
    key="qwen3moe-thinking",
    arch=ARCH,
    template="Qwen-Qwen3-0.6B",
    vocab=vocab,
    end_of_turn="<|im_end|>",
    real_tokenizer=True,
    write=lambda path, seed: _write(THINKING, path, seed),
)
INSTRUCT: TinySpec = TinySpec(
    key="qwen3moe-instruct",
    arch=ARCH,
    template="Qwen3-Coder",
    vocab=vocab,
    end_of_turn="<|im_end|>",
    real_tokenizer=True,
    write=lambda path, seed: _write(INSTRUCT, path, seed),
)
