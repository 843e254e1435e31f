"""The fast tier (`python3 dev.py test --fast`): every test but those that load a model, need a
real X server, build a release, run the load scenarios, or are slow for another reason.

A test that asks for the real models (or a llama.cpp server) loads one, whether or not its module
says `pytest.mark.model`: the mark is added here, so that a new test cannot slip one into the fast
tier by forgetting it. `tiny_moe_model` is not among them: it is a 230 KB file written in
milliseconds, that download and header tests only read; a test that loads it says so itself.
"""

from __future__ import annotations

import pytest

MODEL_FIXTURES = frozenset({"gemma_model", "e5_model", "server"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        uses = set(getattr(item, "fixturenames", ()))
        if uses & MODEL_FIXTURES and item.get_closest_marker("model") is None:
            item.add_marker(pytest.mark.model)
