"""`granitehybrid` as Granite 4.0 H Tiny has it: Mamba-2 and attention layers, no positional
encoding, a mixture of experts with a shared expert in every layer, and Granite's scales.

llama.cpp ships no Granite 4 tokenizer (a 100k BPE from the cl100k family): Llama 3's BPE
stands in, with Granite's control tokens as its template writes them.
"""

from __future__ import annotations

from pathlib import Path

import gguf

from support import real_vocab
from support.tiny_archs.common import Tensor, TinySpec, Weights, name, write_file
from support.tiny_archs.mamba2 import Mixer
from support.tiny_archs.stand_in import stand_in

ARCH = gguf.MODEL_ARCH.GRANITE_HYBRID
_T = gguf.MODEL_TENSOR
WIDTH, HEADS, KV_HEADS, HEAD_DIM, LAYERS = 64, 4, 2, 16, 4
EXPERT_FF, SHARED_FF, EXPERTS, USED = 32, 64, 4, 2
ATTENTION_LAYERS = (2,)  # the rest are Mamba-2 mixers, as in the real model
MIXER = Mixer(inner=2 * WIDTH, state=16, groups=1, heads=8, conv=4)  # llama.cpp: expand 2 only
CONTROLS = (
    "<|end_of_text|>",
    "<|start_of_role|>",
    "<|end_of_role|>",
    "<|tool_call|>",
    "<|pad|>",
)


def vocab() -> real_vocab.Vocab:
    return stand_in(
        "llama-bpe",
        CONTROLS,
        add_bos=False,
        bos="<|end_of_text|>",
        eos="<|end_of_text|>",
        pad="<|pad|>",
    )


def _write(spec: TinySpec, path: Path, seed: int) -> Path:
    w = Weights(seed, WIDTH)
    v = spec.vocab()
    tensors: list[tuple[str, Tensor]] = [
        (name(ARCH, _T.TOKEN_EMBD), w.embeddings(v)),
        (name(ARCH, _T.OUTPUT_NORM), w.output_norm()),
        (name(ARCH, _T.OUTPUT), w.output(v)),
    ]
    for il in range(LAYERS):
        tensors.append((name(ARCH, _T.ATTN_NORM, il), w.norm(WIDTH)))
        if il in ATTENTION_LAYERS:
            tensors += [
                (name(ARCH, _T.ATTN_Q, il), w.half(HEADS * HEAD_DIM, WIDTH)),
                (name(ARCH, _T.ATTN_K, il), w.half(KV_HEADS * HEAD_DIM, WIDTH)),
                (name(ARCH, _T.ATTN_V, il), w.half(KV_HEADS * HEAD_DIM, WIDTH)),
                (name(ARCH, _T.ATTN_OUT, il), w.into_residual(WIDTH, HEADS * HEAD_DIM)),
            ]
        else:
            tensors += MIXER.tensors(ARCH, w, il)
        tensors += [
            (name(ARCH, _T.FFN_NORM, il), w.norm(WIDTH)),
            (name(ARCH, _T.FFN_GATE_INP, il), w.router(EXPERTS)),
            (name(ARCH, _T.FFN_GATE_EXP, il), w.half(EXPERTS, EXPERT_FF, WIDTH)),
            (name(ARCH, _T.FFN_UP_EXP, il), w.half(EXPERTS, EXPERT_FF, WIDTH)),
            (name(ARCH, _T.FFN_DOWN_EXP, il), w.into_residual(EXPERTS, WIDTH, EXPERT_FF)),
            (name(ARCH, _T.FFN_GATE_SHEXP, il), w.half(SHARED_FF, WIDTH)),
            (name(ARCH, _T.FFN_UP_SHEXP, il), w.half(SHARED_FF, WIDTH)),
            (name(ARCH, _T.FFN_DOWN_SHEXP, il), w.into_residual(WIDTH, SHARED_FF)),
        ]

    def describe(writer: gguf.GGUFWriter) -> None:
        writer.add_context_length(2**20)  # no positional encoding: the converter writes 2^20
        writer.add_embedding_length(WIDTH)
        writer.add_block_count(LAYERS)
        writer.add_feed_forward_length(EXPERT_FF)  # Granite MoE: the expert FFN size
        writer.add_expert_shared_feed_forward_length(SHARED_FF)
        writer.add_expert_count(EXPERTS)
        writer.add_expert_used_count(USED)
        writer.add_head_count(HEADS)
        writer.add_head_count_kv(
            [KV_HEADS if il in ATTENTION_LAYERS else 0 for il in range(LAYERS)]
        )
        writer.add_layer_norm_rms_eps(1e-5)
        writer.add_rope_freq_base(10_000.0)
        writer.add_rope_scaling_finetuned(False)  # hybrid Granite: no RoPE
        # Granite 4.0 H Tiny's multipliers (config.json)
        writer.add_embedding_scale(12.0)
        writer.add_residual_scale(0.22)
        writer.add_attention_scale(0.0078125)
        writer.add_logit_scale(6.0)
        MIXER.describe(writer)

    return write_file(path, spec, describe, tensors)


SPEC: TinySpec = TinySpec(
    key="granitehybrid",
    arch=ARCH,
    template="ibm-granite-granite-4.0",
    vocab=vocab,
    end_of_turn="<|end_of_text|>",
    real_tokenizer=False,
    write=lambda path, seed: _write(SPEC, path, seed),
)
