"""`gpt-oss` (gpt-oss-20b/120b): attention sinks, sliding-window layers, expert biases.

llama.cpp ships no o200k_harmony tokenizer, so a stand-in: llama-bpe's byte-level BPE (both
are tiktoken vocabularies) without its Llama 3 special tokens, split by gpt-oss's own
pre-tokenizer ("gpt-4o", o200k's regex), plus the harmony control tokens
with the texts the real template writes. llama.cpp picks gpt-oss's ends of generation from
those texts: `<|return|>` and `<|call|>` end a turn, `<|end|>` (which closes the analysis
channel) then does not.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import gguf

from support import real_vocab
from support.tiny_archs.common import F32, Tensor, TinySpec, Weights, name, write_file

ARCH = gguf.MODEL_ARCH.GPT_OSS
_T = gguf.MODEL_TENSOR
WIDTH, HEADS, KV_HEADS, HEAD_DIM, EXPERT_FF, EXPERTS, USED = 64, 4, 2, 16, 32, 4, 2
LAYERS = 2  # sliding-window then full attention, as the real models alternate
SLIDING_WINDOW = 128
# The o200k_harmony specials the template and llama.cpp name, in the real tokenizer's order.
HARMONY = (
    "<|startoftext|>",
    "<|endoftext|>",
    "<|return|>",
    "<|constrain|>",
    "<|channel|>",
    "<|start|>",
    "<|end|>",
    "<|message|>",
    "<|call|>",
)


def vocab() -> real_vocab.Vocab:
    base = real_vocab.read_vocab("llama-bpe")
    plain = base.tokens.index("<|begin_of_text|>")  # Llama 3's specials start here: dropped
    bpe = replace(
        base, pre="gpt-4o", tokens=base.tokens[:plain], types=base.types[:plain], ids={}, flags={}
    )
    return real_vocab.with_controls(
        bpe, HARMONY, bos="<|startoftext|>", eos="<|return|>", pad="<|endoftext|>"
    )


def _bias(w: Weights, *shape: int, into_residual: bool = False) -> F32:
    bias = w.normal(*shape, std=0.02)
    if into_residual:
        bias[..., 0] = 0.0  # a bias added to the residual stream must leave dim 0 alone
    return bias


def _write(spec: TinySpec, path: Path, seed: int) -> Path:
    w = Weights(seed, WIDTH)
    v = spec.vocab()
    tensors: list[tuple[str, Tensor]] = [
        (name(ARCH, _T.TOKEN_EMBD), w.embeddings(v)),
        (name(ARCH, _T.OUTPUT_NORM), w.output_norm()),
        (name(ARCH, _T.OUTPUT), w.output(v)),
    ]
    q, kv = HEADS * HEAD_DIM, KV_HEADS * HEAD_DIM
    for il in range(LAYERS):
        tensors += [
            (name(ARCH, _T.ATTN_NORM, il), w.norm(WIDTH)),
            (name(ARCH, _T.ATTN_Q, il), w.half(q, WIDTH)),
            (name(ARCH, _T.ATTN_Q, il, ".bias"), _bias(w, q)),
            (name(ARCH, _T.ATTN_K, il), w.half(kv, WIDTH)),
            (name(ARCH, _T.ATTN_K, il, ".bias"), _bias(w, kv)),
            (name(ARCH, _T.ATTN_V, il), w.half(kv, WIDTH)),
            (name(ARCH, _T.ATTN_V, il, ".bias"), _bias(w, kv)),
            (name(ARCH, _T.ATTN_OUT, il), w.into_residual(WIDTH, q)),
            (name(ARCH, _T.ATTN_OUT, il, ".bias"), _bias(w, WIDTH, into_residual=True)),
            (name(ARCH, _T.ATTN_SINKS, il), w.normal(HEADS, std=0.5)),
            (name(ARCH, _T.ATTN_POST_NORM, il), w.norm(WIDTH)),
            (name(ARCH, _T.FFN_GATE_INP, il), w.router(EXPERTS)),
            (name(ARCH, _T.FFN_GATE_INP, il, ".bias"), _bias(w, EXPERTS)),
            (name(ARCH, _T.FFN_GATE_EXP, il), w.half(EXPERTS, EXPERT_FF, WIDTH)),
            (name(ARCH, _T.FFN_GATE_EXP, il, ".bias"), _bias(w, EXPERTS, EXPERT_FF)),
            (name(ARCH, _T.FFN_UP_EXP, il), w.half(EXPERTS, EXPERT_FF, WIDTH)),
            (name(ARCH, _T.FFN_UP_EXP, il, ".bias"), _bias(w, EXPERTS, EXPERT_FF)),
            (name(ARCH, _T.FFN_DOWN_EXP, il), w.into_residual(EXPERTS, WIDTH, EXPERT_FF)),
            (
                name(ARCH, _T.FFN_DOWN_EXP, il, ".bias"),
                _bias(w, EXPERTS, WIDTH, into_residual=True),
            ),
        ]

    def describe(writer: gguf.GGUFWriter) -> None:
        writer.add_context_length(4096)
        writer.add_embedding_length(WIDTH)
        writer.add_block_count(LAYERS)
        writer.add_feed_forward_length(EXPERT_FF)
        writer.add_expert_feed_forward_length(EXPERT_FF)
        writer.add_expert_count(EXPERTS)
        writer.add_expert_used_count(USED)
        writer.add_head_count(HEADS)
        writer.add_head_count_kv(KV_HEADS)
        writer.add_key_length(HEAD_DIM)
        writer.add_value_length(HEAD_DIM)
        writer.add_layer_norm_rms_eps(1e-5)
        writer.add_rope_freq_base(150_000.0)
        writer.add_rope_scaling_type(gguf.RopeScalingType.YARN)
        writer.add_rope_scaling_factor(32.0)
        writer.add_rope_scaling_orig_ctx_len(4096)
        writer.add_sliding_window(SLIDING_WINDOW)

    return write_file(path, spec, describe, tensors)


SPEC: TinySpec = TinySpec(
    key="gpt-oss",
    arch=ARCH,
    template="openai-gpt-oss-120b",
    vocab=vocab,
    end_of_turn="<|return|>",
    real_tokenizer=False,
    write=lambda path, seed: _write(SPEC, path, seed),
)
