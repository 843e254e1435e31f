"""`gemma4`, the mixture-of-experts variant (Gemma 4 26B-A4B), with Gemma 4's real tokenizer.

Every layer has a dense MLP beside its routed experts (fused gate+up, as the converter writes
them), sliding-window layers alternate with full-attention ones of a different head size, and
the full-attention layers rotate only part of each head ("proportional" RoPE, a `rope_freqs`
tensor). No per-layer embeddings (those are the E2B/E4B models).
"""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np

from support import real_vocab
from support.tiny_archs.common import F32, Tensor, TinySpec, Weights, name, write_file

ARCH = gguf.MODEL_ARCH.GEMMA4
_T = gguf.MODEL_TENSOR
WIDTH, HEADS, KV_HEADS, FF, EXPERT_FF, EXPERTS, USED = 64, 4, 2, 64, 32, 4, 2
HEAD_DIM_SWA, HEAD_DIM_FULL = 16, 32  # the real models' full-attention heads are twice as wide
SWA_LAYERS = (True, False)  # one sliding-window layer, then a full-attention one
SLIDING_WINDOW = 512
ROTATED_FULL = 0.25  # partial_rotary_factor of the full-attention layers


def vocab() -> real_vocab.Vocab:
    # Used as is: `<turn|>` ends a turn (llama.cpp knows it by its text), `<|channel>` and
    # `<channel|>` are user-defined tokens, shown, so the reasoning block can be read.
    return real_vocab.read_vocab("gemma-4")


def _rope_freqs() -> F32:
    """Frequency factors that leave all but the first quarter of a full head unrotated."""
    rotated = int(HEAD_DIM_FULL * ROTATED_FULL / 2)
    half = HEAD_DIM_FULL // 2
    return np.array([1.0] * rotated + [1e30] * (half - rotated), dtype=np.float32)


def _layer(w: Weights, il: int, swa: bool) -> list[tuple[str, Tensor]]:
    hd = HEAD_DIM_SWA if swa else HEAD_DIM_FULL
    return [
        (name(ARCH, _T.ATTN_NORM, il), w.norm(WIDTH)),
        (name(ARCH, _T.ATTN_Q, il), w.half(HEADS * hd, WIDTH)),
        (name(ARCH, _T.ATTN_K, il), w.half(KV_HEADS * hd, WIDTH)),
        (name(ARCH, _T.ATTN_V, il), w.half(KV_HEADS * hd, WIDTH)),
        (name(ARCH, _T.ATTN_Q_NORM, il), w.norm(hd)),
        (name(ARCH, _T.ATTN_K_NORM, il), w.norm(hd)),
        (name(ARCH, _T.ATTN_OUT, il), w.into_residual(WIDTH, HEADS * hd)),
        (name(ARCH, _T.ATTN_POST_NORM, il), w.norm(WIDTH)),
        # The dense MLP, which the MoE layers keep as a shared expert.
        (name(ARCH, _T.FFN_PRE_NORM, il), w.norm(WIDTH)),
        (name(ARCH, _T.FFN_GATE, il), w.half(FF, WIDTH)),
        (name(ARCH, _T.FFN_UP, il), w.half(FF, WIDTH)),
        (name(ARCH, _T.FFN_DOWN, il), w.into_residual(WIDTH, FF)),
        (name(ARCH, _T.FFN_POST_NORM_1, il), w.norm(WIDTH)),
        # The routed experts: the router reads a scaled RMS norm of the attention output.
        (name(ARCH, _T.FFN_GATE_INP, il), w.router(EXPERTS)),
        (name(ARCH, _T.FFN_GATE_INP, il, ".scale"), w.norm(WIDTH)),
        (name(ARCH, _T.FFN_PRE_NORM_2, il), w.norm(WIDTH)),
        (name(ARCH, _T.FFN_GATE_UP_EXP, il), w.half(EXPERTS, 2 * EXPERT_FF, WIDTH)),
        (name(ARCH, _T.FFN_DOWN_EXP, il), w.into_residual(EXPERTS, WIDTH, EXPERT_FF)),
        (name(ARCH, _T.FFN_POST_NORM_2, il), w.norm(WIDTH)),
        (name(ARCH, _T.FFN_POST_NORM, il), w.norm(WIDTH)),
    ]


def _write(spec: TinySpec, path: Path, seed: int) -> Path:
    w = Weights(seed, WIDTH)
    v = spec.vocab()
    tensors: list[tuple[str, Tensor]] = [
        (name(ARCH, _T.TOKEN_EMBD), w.embeddings(v)),
        # Gemma ties the output to the embeddings; a separate one keeps residual dim 0's trick.
        (name(ARCH, _T.OUTPUT), w.output(v)),
        (name(ARCH, _T.OUTPUT_NORM), w.output_norm()),
        (name(ARCH, _T.ROPE_FREQS), _rope_freqs()),
    ]
    for il, swa in enumerate(SWA_LAYERS):
        tensors += _layer(w, il, swa)

    def describe(writer: gguf.GGUFWriter) -> None:
        writer.add_context_length(4096)
        writer.add_embedding_length(WIDTH)
        writer.add_block_count(len(SWA_LAYERS))
        writer.add_feed_forward_length(FF)
        writer.add_expert_feed_forward_length(EXPERT_FF)
        writer.add_expert_count(EXPERTS)
        writer.add_expert_used_count(USED)
        writer.add_head_count(HEADS)
        writer.add_head_count_kv(KV_HEADS)
        writer.add_key_length(HEAD_DIM_FULL)
        writer.add_value_length(HEAD_DIM_FULL)
        writer.add_key_length_swa(HEAD_DIM_SWA)
        writer.add_value_length_swa(HEAD_DIM_SWA)
        writer.add_rope_dimension_count(HEAD_DIM_FULL)
        writer.add_rope_dimension_count_swa(HEAD_DIM_SWA)
        writer.add_rope_freq_base(1_000_000.0)
        writer.add_rope_freq_base_swa(10_000.0)
        writer.add_layer_norm_rms_eps(1e-6)
        writer.add_final_logit_softcapping(30.0)
        writer.add_sliding_window(SLIDING_WINDOW)
        writer.add_sliding_window_pattern(list(SWA_LAYERS))
        writer.add_shared_kv_layers(0)
        writer.add_embedding_length_per_layer_input(0)

    return write_file(path, spec, describe, tensors)


SPEC: TinySpec = TinySpec(
    key="gemma4",
    arch=ARCH,
    template="google-gemma-4-31B-it",
    vocab=vocab,
    end_of_turn="<turn|>",
    real_tokenizer=True,
    write=lambda path, seed: _write(SPEC, path, seed),
)
