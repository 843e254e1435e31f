"""GGUF header summaries of real models' shapes, for planner tests (no 20 GB file needed).

Byte sizes follow from each architecture's tensor shapes at the file's average bits per weight
(the engine's `ModelShape` estimate, the one the catalog uses); figures come from the models'
published configs (config.json) and GGUF file sizes.
"""

from __future__ import annotations

from pathlib import Path

from lanterne.engine.gguf_header import GGUFSummary
from lanterne.engine.shape_estimate import ModelShape


def summary(name: str, arch: str, *, bits: float, tied: bool = False, **shape: int) -> GGUFSummary:
    """The engine's own estimate (`ModelShape`) at `bits` per weight on average."""
    model = ModelShape(
        architecture=arch,
        n_layer=shape["n_layer"],
        n_embd=shape["n_embd"],
        n_head=shape["n_head"],
        n_head_kv=shape["n_head_kv"],
        head_dim=shape["head_dim"],
        n_vocab=shape["n_vocab"],
        context_length=32768,
        dense_ff=shape.get("dense_ff", 0),
        n_expert=shape.get("n_expert", 0),
        n_expert_used=shape.get("n_expert_used", 0),
        expert_ff=shape.get("expert_ff", 0),
        tied_embeddings=tied,
    )
    return model.summary(name, int(model.n_params * bits / 8), Path(f"/models/{name}.gguf"))


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
