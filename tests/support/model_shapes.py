"""GGUF header summaries of real models' shapes, for planner tests (no 20 GB file needed).

Byte sizes follow from each architecture's tensor shapes at the file's average bits per weight;
figures come from the models' published configs (config.json) and GGUF file sizes.
"""

from __future__ import annotations

from pathlib import Path

from lanterne.engine.gguf_header import GGUFSummary, LayerBytes


def summary(
    name: str,
    arch: str,
    *,
    n_layer: int,
    n_embd: int,
    n_head: int,
    n_head_kv: int,
    head_dim: int,
    n_vocab: int,
    bits: float,
    dense_ff: int = 0,
    n_expert: int = 0,
    n_expert_used: int = 0,
    expert_ff: int = 0,
    shared_ff: int = 0,
    tied: bool = False,
) -> GGUFSummary:
    b = bits / 8
    attention = int((n_embd * n_head * head_dim * 2 + n_embd * n_head_kv * head_dim * 2) * b)
    dense = int(3 * n_embd * (dense_ff + shared_ff) * b + n_embd * n_expert * 4)  # + router
    experts = int(3 * n_embd * expert_ff * n_expert * b)
    layer = LayerBytes(attention=attention, dense_ffn=dense, expert_ffn=experts, other=0)
    embedding = int(n_vocab * n_embd * b)
    output = embedding
    groups = {
        "embeddings": embedding + (0 if tied else output),
        "attention": attention * n_layer,
        "dense_ffn": dense * n_layer,
        "expert_ffn": experts * n_layer,
        "other": 0,
    }
    total = sum(groups.values())
    return GGUFSummary(
        path=Path(f"/models/{name}.gguf"),
        files=(Path(f"/models/{name}.gguf"),),
        architecture=arch,
        name=name,
        n_params=int(total / b),
        n_layer=n_layer,
        n_expert=n_expert,
        n_expert_used=n_expert_used,
        context_length=32768,
        n_embd=n_embd,
        n_head=n_head,
        n_head_kv=(n_head_kv,) * n_layer,
        head_dim_k=head_dim,
        head_dim_v=head_dim,
        n_vocab=n_vocab,
        chat_template="{{ messages }}",
        groups=groups,
        layers=(layer,) * n_layer,
        file_bytes=total + 8 * 1024 * 1024,
        embedding_bytes=embedding,
        output_bytes=output,
    )


# Qwen3-30B-A3B-Instruct-2507, Q4_K_M (~18.6 GB)
QWEN3_30B_A3B = summary(
    "Qwen3-30B-A3B",
    "qwen3moe",
    n_layer=48,
    n_embd=2048,
    n_head=32,
    n_head_kv=4,
    head_dim=128,
    n_vocab=151936,
    bits=4.85,
    n_expert=128,
    n_expert_used=8,
    expert_ff=768,
)
# gpt-oss-20b, MXFP4 experts (~12 GB)
GPT_OSS_20B = summary(
    "gpt-oss-20b",
    "gpt-oss",
    n_layer=24,
    n_embd=2880,
    n_head=64,
    n_head_kv=8,
    head_dim=64,
    n_vocab=201088,
    bits=4.25,
    n_expert=32,
    n_expert_used=4,
    expert_ff=2880,
)
# Mixtral-8x7B-Instruct-v0.1, Q4_K_M (~26 GB; llama architecture with experts)
MIXTRAL_8X7B = summary(
    "Mixtral-8x7B-Instruct",
    "llama",
    n_layer=32,
    n_embd=4096,
    n_head=32,
    n_head_kv=8,
    head_dim=128,
    n_vocab=32000,
    bits=4.85,
    n_expert=8,
    n_expert_used=2,
    expert_ff=14336,
)
# Granite 3.1 3B-A800M MoE, Q4_K_M (~2 GB)
GRANITE_MOE_3B = summary(
    "granite-3.1-3b-a800m",
    "granitemoe",
    n_layer=32,
    n_embd=1536,
    n_head=24,
    n_head_kv=8,
    head_dim=64,
    n_vocab=49155,
    bits=4.85,
    n_expert=40,
    n_expert_used=8,
    expert_ff=512,
    tied=True,
)
# Llama 3.1 8B Instruct, Q4_K_M (~4.9 GB), dense
LLAMA_8B = summary(
    "Llama-3.1-8B-Instruct",
    "llama",
    n_layer=32,
    n_embd=4096,
    n_head=32,
    n_head_kv=8,
    head_dim=128,
    n_vocab=128256,
    bits=4.85,
    dense_ff=14336,
)
