"""`nemotron_h_moe` (Nemotron 3 Nano 30B A3B): each layer is one of a Mamba-2 mixer, an
attention block without positional encoding, or a mixture of squared-ReLU experts (no gate)
routed by a biased sigmoid, beside a shared expert.

llama.cpp ships no Nemotron tokenizer (Mistral's 131k tekken BPE with NVIDIA's chat tokens):
Llama 3's BPE stands in, with the real one's controls. There, as in every tekken tokenizer,
the first thousand ids are special tokens, `<think>` and `</think>` among them: they are
control tokens here too, so they are parsed in prompts and not printed as text.
"""

from __future__ import annotations

from pathlib import Path

import gguf

from support import real_vocab
from support.tiny_archs.common import Tensor, TinySpec, Weights, name, write_file
from support.tiny_archs.mamba2 import Mixer
from support.tiny_archs.stand_in import stand_in

ARCH = gguf.MODEL_ARCH.NEMOTRON_H_MOE
_T = gguf.MODEL_TENSOR
WIDTH, HEADS, KV_HEADS, HEAD_DIM = 64, 4, 2, 16
EXPERT_FF, SHARED_FF, EXPERTS, USED = 32, 64, 4, 2
PATTERN = "ME*E"  # the converter's hybrid_override_pattern: Mamba, Expert, attention (*)
MIXER = Mixer(inner=128, state=16, groups=2, heads=8, conv=4)  # the real one: 8 groups
CONTROLS = ("<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>", "<think>", "</think>")


def vocab() -> real_vocab.Vocab:
    return stand_in(
        "llama-bpe", CONTROLS, add_bos=False, bos="<s>", eos="<|im_end|>", unknown="<unk>"
    )


def _write(spec: TinySpec, path: Path, seed: int) -> Path:
    w = Weights(seed, WIDTH)
    v = spec.vocab()
    tensors: list[tuple[str, Tensor]] = [
        (name(ARCH, _T.TOKEN_EMBD), w.embeddings(v)),
        (name(ARCH, _T.OUTPUT_NORM), w.output_norm()),
        (name(ARCH, _T.OUTPUT), w.output(v)),
    ]
    for il, kind in enumerate(PATTERN):
        tensors.append((name(ARCH, _T.ATTN_NORM, il), w.norm(WIDTH)))
        if kind == "M":
            tensors += MIXER.tensors(ARCH, w, il)
        elif kind == "*":
            tensors += [
                (name(ARCH, _T.ATTN_Q, il), w.half(HEADS * HEAD_DIM, WIDTH)),
                (name(ARCH, _T.ATTN_K, il), w.half(KV_HEADS * HEAD_DIM, WIDTH)),
                (name(ARCH, _T.ATTN_V, il), w.half(KV_HEADS * HEAD_DIM, WIDTH)),
                (name(ARCH, _T.ATTN_OUT, il), w.into_residual(WIDTH, HEADS * HEAD_DIM)),
            ]
        else:
            tensors += [
                (name(ARCH, _T.FFN_GATE_INP, il), w.router(EXPERTS)),
                (name(ARCH, _T.FFN_EXP_PROBS_B, il, ".bias"), w.normal(EXPERTS, std=0.1)),
                (name(ARCH, _T.FFN_UP_EXP, il), w.half(EXPERTS, EXPERT_FF, WIDTH)),
                (name(ARCH, _T.FFN_DOWN_EXP, il), w.into_residual(EXPERTS, WIDTH, EXPERT_FF)),
                (name(ARCH, _T.FFN_UP_SHEXP, il), w.half(SHARED_FF, WIDTH)),
                (name(ARCH, _T.FFN_DOWN_SHEXP, il), w.into_residual(WIDTH, SHARED_FF)),
            ]

    def describe(writer: gguf.GGUFWriter) -> None:
        writer.add_vocab_size(v.size)
        writer.add_context_length(262_144)
        writer.add_embedding_length(WIDTH)
        writer.add_block_count(len(PATTERN))
        # What each layer is, as llama.cpp reads it: attention has KV heads and no FFN, the
        # experts an FFN size and no KV heads, a mixer neither.
        writer.add_feed_forward_length([EXPERT_FF if k == "E" else 0 for k in PATTERN])
        writer.add_head_count(HEADS)
        writer.add_head_count_kv([KV_HEADS if k == "*" else 0 for k in PATTERN])
        writer.add_key_length(HEAD_DIM)
        writer.add_value_length(HEAD_DIM)
        writer.add_rope_freq_base(10_000.0)
        writer.add_layer_norm_rms_eps(1e-5)
        writer.add_layer_norm_eps(1e-5)
        writer.add_expert_used_count(USED)
        writer.add_expert_feed_forward_length(EXPERT_FF)
        writer.add_expert_shared_feed_forward_length(SHARED_FF)
        writer.add_expert_count(EXPERTS)
        writer.add_expert_shared_count(1)
        writer.add_expert_weights_norm(True)
        writer.add_expert_weights_scale(2.5)  # routed_scaling_factor
        writer.add_expert_group_count(1)
        writer.add_expert_group_used_count(1)
        writer.add_rope_scaling_finetuned(False)
        MIXER.describe(writer)

    return write_file(path, spec, describe, tensors)


SPEC: TinySpec = TinySpec(
    key="nemotron_h_moe",
    arch=ARCH,
    template="NVIDIA-Nemotron-3-Nano-30B-A3B-BF16",
    vocab=vocab,
    end_of_turn="<|im_end|>",
    real_tokenizer=False,
    write=lambda path, seed: _write(SPEC, path, seed),
)
