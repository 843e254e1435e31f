"""The installed layout: everything under `lanterne.*`, nothing generic in site-packages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import lanterne


def _python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # -I: isolated mode, so neither the repository nor the cwd is on sys.path; only the install.
    return subprocess.run(
        [sys.executable, "-I", "-c", code], cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_code_folders_install_under_the_lanterne_namespace(tmp_path: Path) -> None:
    result = _python(
        "import lanterne.engine, lanterne.indexer, lanterne.desktop, lanterne.cli.main\n"
        "print('ok')",
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


@pytest.mark.parametrize("name", ["engine", "indexer", "desktop", "core", "assets"])
def test_no_generic_top_level_module(tmp_path: Path, name: str) -> None:
    result = _python(f"import {name}", tmp_path)
    assert result.returncode != 0
    assert "ModuleNotFoundError" in result.stderr


def test_version_command(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-I", "-m", "lanterne", "--version"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"lanterne {lanterne.__version__}"
    assert lanterne.__version__ != "0.0.0+unknown"
