"""`mistral4` (Mistral Small 4): DeepSeek-V2's layout as llama.cpp loads it (`llama_model_mistral4`
reuses `llama_model_deepseek2`): multi-head latent attention with low-rank queries and a
compressed KV cache split into the absorbed `attn_k_b` and `attn_v_b`, and in every layer a
mixture of experts, stacked gate and up projections in one tensor, beside a shared expert.

No Mistral Small 4 template ships with llama.cpp; Ministral 3's reasoning template, Mistral's
with `[THINK]`, stands in. llama.cpp ships no tekken tokenizer either: Llama 3's BPE stands
in (tekken is a tiktoken-style BPE too), with Mistral's control tokens as the template writes
them.
"""

from __future__ import annotations

from pathlib import Path

import gguf

from support import real_vocab
from support.tiny_archs.common import Tensor, TinySpec, Weights, name, write_file
from support.tiny_archs.stand_in import stand_in

ARCH = gguf.MODEL_ARCH.MISTRAL4
_T = gguf.MODEL_TENSOR
WIDTH, HEADS, LAYERS = 64, 4, 3
Q_LORA, KV_LORA, ROPE_DIM, NOPE_DIM, V_DIM = 32, 32, 16, 16, 16
EXPERT_FF, EXPERTS, USED, SHARED = 32, 4, 2, 1
CONTROLS = (
    "<unk>",
    "<s>",
    "</s>",
    "[INST]",
    "[/INST]",
    "[AVAILABLE_TOOLS]",
    "[/AVAILABLE_TOOLS]",
    "[TOOL_RESULTS]",
    "[/TOOL_RESULTS]",
    "[TOOL_CALLS]",
    "[IMG]",
    "<pad>",
    "[SYSTEM_PROMPT]",
    "[/SYSTEM_PROMPT]",
    "[ARGS]",
    "[THINK]",
    "[/THINK]",
)


def vocab() -> real_vocab.Vocab:
    return stand_in(
        "llama-bpe",
        CONTROLS,
        add_bos=True,
        bos="<s>",
        eos="</s>",
        unknown="<unk>",
        pad="<pad>",
    )


def _write(spec: TinySpec, path: Path, seed: int) -> Path:
    w = Weights(seed, WIDTH)
    v = spec.vocab()
    tensors: list[tuple[str, Tensor]] = [
        (name(ARCH, _T.TOKEN_EMBD), w.embeddings(v)),
        (name(ARCH, _T.OUTPUT_NORM), w.output_norm()),
        (name(ARCH, _T.OUTPUT), w.output(v)),
    ]
    k_dim = NOPE_DIM + ROPE_DIM
    for il in range(LAYERS):
        tensors += [
            (name(ARCH, _T.ATTN_NORM, il), w.norm(WIDTH)),
            (name(ARCH, _T.ATTN_Q_A, il), w.half(Q_LORA, WIDTH)),
            (name(ARCH, _T.ATTN_Q_A_NORM, il), w.norm(Q_LORA)),
            (name(ARCH, _T.ATTN_Q_B, il), w.half(HEADS * k_dim, Q_LORA, std=0.15)),
            (name(ARCH, _T.ATTN_KV_A_MQA, il), w.half(KV_LORA + ROPE_DIM, WIDTH)),
            (name(ARCH, _T.ATTN_KV_A_NORM, il), w.norm(KV_LORA)),
            # kv_b split by the converter: k_b transposed per head, v_b as is
            (name(ARCH, _T.ATTN_K_B, il), w.half(HEADS, KV_LORA, NOPE_DIM, std=0.15)),
            (name(ARCH, _T.ATTN_V_B, il), w.half(HEADS, V_DIM, KV_LORA, std=0.15)),
            (name(ARCH, _T.ATTN_OUT, il), w.into_residual(WIDTH, HEADS * V_DIM)),
            (name(ARCH, _T.FFN_NORM, il), w.norm(WIDTH)),
            (name(ARCH, _T.FFN_GATE_INP, il), w.router(EXPERTS)),
            (name(ARCH, _T.FFN_GATE_UP_EXP, il), w.half(EXPERTS, 2 * EXPERT_FF, WIDTH)),
            (name(ARCH, _T.FFN_DOWN_EXP, il), w.into_residual(EXPERTS, WIDTH, EXPERT_FF)),
            (name(ARCH, _T.FFN_GATE_SHEXP, il), w.half(SHARED * EXPERT_FF, WIDTH)),
            (name(ARCH, _T.FFN_UP_SHEXP, il), w.half(SHARED * EXPERT_FF, WIDTH)),
            (name(ARCH, _T.FFN_DOWN_SHEXP, il), w.into_residual(WIDTH, SHARED * EXPERT_FF)),
        ]

    def describe(writer: gguf.GGUFWriter) -> None:
        writer.add_vocab_size(v.size)
        writer.add_context_length(262_144)
        writer.add_embedding_length(WIDTH)
        writer.add_block_count(LAYERS)
        writer.add_feed_forward_length(4 * EXPERT_FF)  # dense FFN size: no dense layer here
        writer.add_leading_dense_block_count(0)
        writer.add_head_count(HEADS)
        writer.add_head_count_kv(1)  # MLA is stored as one shared latent "head"
        writer.add_q_lora_rank(Q_LORA)
        writer.add_kv_lora_rank(KV_LORA)
        writer.add_key_length(KV_LORA + ROPE_DIM)
        writer.add_value_length(KV_LORA)
        writer.add_key_length_mla(k_dim)
        writer.add_value_length_mla(V_DIM)
        writer.add_rope_dimension_count(ROPE_DIM)
        writer.add_rope_freq_base(10_000.0)
        writer.add_layer_norm_rms_eps(1e-6)
        writer.add_expert_feed_forward_length(EXPERT_FF)
        writer.add_expert_count(EXPERTS)
        writer.add_expert_used_count(USED)
        writer.add_expert_shared_count(SHARED)
        writer.add_expert_weights_scale(1.0)
        writer.add_expert_weights_norm(True)

    return write_file(path, spec, describe, tensors)


SPEC: TinySpec = TinySpec(
    key="mistral4",
    arch=ARCH,
    template="mistralai-Ministral-3-14B-Reasoning-2512",
    vocab=vocab,
    end_of_turn="</s>",
    real_tokenizer=False,
    write=lambda path, seed: _write(SPEC, path, seed),
)
