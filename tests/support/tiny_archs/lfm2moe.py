"""`lfm2moe` (LFM2 8B A1B): gated short-convolution layers and a few attention layers, the
first layers with a dense FFN, the rest a mixture of experts routed by a sigmoid with a bias.

llama.cpp ships no LFM2 tokenizer (a 65k byte-level BPE): Llama 3's BPE stands in, with
LFM2's ChatML control tokens as its template writes them.
"""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np

from support import real_vocab
from support.tiny_archs.common import F16, Tensor, TinySpec, Weights, name, write_file
from support.tiny_archs.stand_in import stand_in

ARCH = gguf.MODEL_ARCH.LFM2MOE
_T = gguf.MODEL_TENSOR
WIDTH, HEADS, KV_HEADS, HEAD_DIM, LAYERS = 64, 4, 2, 16, 4
DENSE_FF, EXPERT_FF, EXPERTS, USED = 128, 32, 4, 2
DENSE_LAYERS = 1  # LFM2 8B A1B: the first 2 of 24 layers are dense
ATTENTION_LAYERS = (2,)  # the rest are short convolutions
CONV_CACHE = 3  # conv_L_cache
CONTROLS = (
    "<|startoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|pad|>",
    "<|tool_list_start|>",
    "<|tool_list_end|>",
    "<|tool_call_start|>",
    "<|tool_call_end|>",
    "<|tool_response_start|>",
    "<|tool_response_end|>",
)


def vocab() -> real_vocab.Vocab:
    return stand_in(
        "llama-bpe",
        CONTROLS,
        add_bos=True,
        bos="<|startoftext|>",
        eos="<|im_end|>",
        pad="<|pad|>",
    )


def _tied_embeddings(w: Weights, v: real_vocab.Vocab) -> F16:
    """LFM2 ties its output to its embeddings, so column 0 does both jobs: 1 for the tokens
    sampling may pick, -6 for the rest. Dimension 0 of the residual stream is then the input
    token's column 0 (no layer writes it), positive after any plain token: a prompt's last
    token and every sampled one are plain, so the rest stay out of reach."""
    table = w.normal(v.size, WIDTH, std=0.1)
    table[:, 0] = np.where(real_vocab.favoured(v), 1.0, -6.0)
    return table.astype(np.float16)


def _write(spec: TinySpec, path: Path, seed: int) -> Path:
    w = Weights(seed, WIDTH)
    v = spec.vocab()
    tensors: list[tuple[str, Tensor]] = [
        (name(ARCH, _T.TOKEN_EMBD), _tied_embeddings(w, v)),
        (name(ARCH, _T.TOKEN_EMBD_NORM), w.output_norm()),  # LFM2's final norm has this name
    ]
    for il in range(LAYERS):
        tensors.append((name(ARCH, _T.ATTN_NORM, il), w.norm(WIDTH)))
        if il in ATTENTION_LAYERS:
            tensors += [
                (name(ARCH, _T.ATTN_Q, il), w.half(HEADS * HEAD_DIM, WIDTH)),
                (name(ARCH, _T.ATTN_K, il), w.half(KV_HEADS * HEAD_DIM, WIDTH)),
                (name(ARCH, _T.ATTN_V, il), w.half(KV_HEADS * HEAD_DIM, WIDTH)),
                (name(ARCH, _T.ATTN_Q_NORM, il), w.norm(HEAD_DIM)),
                (name(ARCH, _T.ATTN_K_NORM, il), w.norm(HEAD_DIM)),
                (name(ARCH, _T.ATTN_OUT, il), w.into_residual(WIDTH, HEADS * HEAD_DIM)),
            ]
        else:
            tensors += [
                (name(ARCH, _T.SHORTCONV_CONV, il), w.normal(WIDTH, CONV_CACHE, std=0.3)),
                (name(ARCH, _T.SHORTCONV_INPROJ, il), w.half(3 * WIDTH, WIDTH)),
                (name(ARCH, _T.SHORTCONV_OUTPROJ, il), w.into_residual(WIDTH, WIDTH)),
            ]
        tensors.append((name(ARCH, _T.FFN_NORM, il), w.norm(WIDTH)))
        if il < DENSE_LAYERS:
            tensors += [
                (name(ARCH, _T.FFN_GATE, il), w.half(DENSE_FF, WIDTH)),
                (name(ARCH, _T.FFN_UP, il), w.half(DENSE_FF, WIDTH)),
                (name(ARCH, _T.FFN_DOWN, il), w.into_residual(WIDTH, DENSE_FF)),
            ]
        else:
            tensors += [
                (name(ARCH, _T.FFN_GATE_INP, il), w.router(EXPERTS)),
                (name(ARCH, _T.FFN_EXP_PROBS_B, il, ".bias"), w.normal(EXPERTS, std=0.1)),
                (name(ARCH, _T.FFN_GATE_EXP, il), w.half(EXPERTS, EXPERT_FF, WIDTH)),
                (name(ARCH, _T.FFN_UP_EXP, il), w.half(EXPERTS, EXPERT_FF, WIDTH)),
                (name(ARCH, _T.FFN_DOWN_EXP, il), w.into_residual(EXPERTS, WIDTH, EXPERT_FF)),
            ]

    def describe(writer: gguf.GGUFWriter) -> None:
        writer.add_vocab_size(v.size)
        writer.add_context_length(128_000)
        writer.add_embedding_length(WIDTH)
        writer.add_block_count(LAYERS)
        writer.add_feed_forward_length(DENSE_FF)
        writer.add_expert_feed_forward_length(EXPERT_FF)
        writer.add_leading_dense_block_count(DENSE_LAYERS)
        writer.add_expert_count(EXPERTS)
        writer.add_expert_used_count(USED)
        writer.add_expert_gating_func(gguf.ExpertGatingFuncType.SIGMOID)
        writer.add_head_count(HEADS)
        writer.add_head_count_kv(
            [KV_HEADS if il in ATTENTION_LAYERS else 0 for il in range(LAYERS)]
        )
        writer.add_layer_norm_rms_eps(1e-5)
        writer.add_rope_freq_base(1_000_000.0)
        writer.add_shortconv_l_cache(CONV_CACHE)

    return write_file(path, spec, describe, tensors)


SPEC: TinySpec = TinySpec(
    key="lfm2moe",
    arch=ARCH,
    template="LFM2-8B-A1B",
    vocab=vocab,
    end_of_turn="<|im_end|>",
    real_tokenizer=False,
    write=lambda path, seed: _write(SPEC, path, seed),
)
