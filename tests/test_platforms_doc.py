"""docs/platforms.md stays true: what it says is verified here names tests that exist, and
every test that simulates Windows or macOS is named there, in both languages."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "platforms.md"
SIMULATING = (
    "test_policy_registry.py",
    "test_autostart_sync.py",
    "test_windowless_start.py",
    "test_windows_console.py",
    "test_windows_keys.py",
    "test_windows_version.py",
    "test_windows_installer.py",
    "test_release_signing.py",
    "test_reader_platforms.py",
    "test_model_removal.py",
)


def _halves() -> tuple[str, str]:
    english, french = DOC.read_text(encoding="utf-8").split("\n## Français\n")
    return english, french


def test_every_test_the_platform_doc_names_exists() -> None:
    for half in _halves():
        named = set(re.findall(r"`(tests/[\w/]+\.py)`", half))
        assert named, "the doc names no test"
        missing = sorted(path for path in named if not (ROOT / path).is_file())
        assert not missing, f"docs/platforms.md names tests that do not exist: {missing}"


def test_the_platform_doc_names_every_simulation_in_both_languages() -> None:
    for half in _halves():
        for name in SIMULATING:
            assert f"`tests/{name}`" in half, f"docs/platforms.md does not name {name}"
            assert (ROOT / "tests" / name).is_file()
        assert "Windows" in half and "macOS" in half
