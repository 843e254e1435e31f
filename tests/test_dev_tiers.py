"""`python3 dev.py test --fast`: the inner loop's tier, built from the markers pytest knows."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

from support.tiers import MODEL_FIXTURES

ROOT = Path(__file__).resolve().parents[1]


def dev() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dev_script", ROOT / "dev.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fast_is_test_s_own_option_and_the_rest_goes_to_pytest() -> None:
    split = dev().split_args
    assert split("test", ["--fast"]) == (True, [])
    assert split("test", ["--fast", "--", "-x", "-k", "search"]) == (True, ["-x", "-k", "search"])
    assert split("test", ["--fast", "-x"]) == (True, ["-x"])
    assert split("test", ["--", "-k", "search"]) == (False, ["-k", "search"])
    # After `--` everything is pytest's, and no other command has the option.
    assert split("test", ["--", "--fast"]) == (False, ["--fast"])
    assert split("run", ["--fast"]) == (False, ["--fast"])


def test_the_fast_tier_is_a_marker_expression_before_the_caller_s_arguments() -> None:
    module = dev()
    command = [str(c) for c in module.pytest_command(["-m", "gui"], fast=True)]
    assert command[1:] == ["-m", "pytest", "-m", module.FAST_TIER, "-m", "gui"]
    assert [str(c) for c in module.pytest_command(["-x"], fast=False)][1:] == ["-m", "pytest", "-x"]


def test_the_fast_tier_names_only_declared_markers() -> None:
    """pytest takes an unknown name in -m for a marker no test has: a typo would let a whole
    kind of slow test into the fast tier without a word."""
    with (ROOT / "pyproject.toml").open("rb") as f:
        declared = {
            m.split(":")[0] for m in tomllib.load(f)["tool"]["pytest"]["ini_options"]["markers"]
        }
    names = set(re.findall(r"\w+", dev().FAST_TIER)) - {"not", "and", "or"}
    assert names and names <= declared
    assert {"model", "xserver", "release"} <= names


def test_every_test_that_asks_for_a_model_is_marked_so(request: pytest.FixtureRequest) -> None:
    """Read off this session's own collection: with or without --fast, a test that takes a
    model fixture carries the `model` mark (and so --fast has left it out)."""
    items = request.session.items
    assert request.node in items
    unmarked = [
        item.nodeid
        for item in items
        if set(getattr(item, "fixturenames", ())) & MODEL_FIXTURES
        and item.get_closest_marker("model") is None
    ]
    assert unmarked == []
