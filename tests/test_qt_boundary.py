"""Qt belongs to `desktop/` alone (qutebrowser enforces its own boundary the same way)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
QT_MODULES = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "PySide2")
NON_GUI = ["engine", "indexer", "core"]


def qt_imports(path: Path, root: Path = ROOT) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        found += [
            f"{path.relative_to(root).as_posix()}:{getattr(node, 'lineno', 0)} imports {n}"
            for n in names
            if n.split(".")[0] in QT_MODULES
        ]
    return found


def offenders(root: Path) -> list[str]:
    return [
        hit
        for folder in NON_GUI
        for path in sorted((root / folder).rglob("*.py"))
        for hit in qt_imports(path, root)
    ]


def test_no_qt_import_outside_desktop() -> None:
    assert offenders(ROOT) == []


def test_the_scan_would_catch_an_offender(tmp_path: Path) -> None:
    """The same scan over a copy-shaped tree in tmp_path: the source tree is never written."""
    bad = tmp_path / "engine" / "sub" / "_qt_boundary_probe.py"
    bad.parent.mkdir(parents=True)
    bad.write_text("import os\nfrom PySide6.QtCore import QObject\n", encoding="utf-8")
    (tmp_path / "desktop").mkdir()
    (tmp_path / "desktop" / "window.py").write_text("import PySide6\n", encoding="utf-8")
    assert offenders(tmp_path) == ["engine/sub/_qt_boundary_probe.py:2 imports PySide6.QtCore"]


@pytest.mark.slow  # imports every module in a fresh interpreter
def test_cli_paths_never_load_qt(tmp_path: Path) -> None:
    """Import every non-GUI module and run a CLI command: Qt must not be in sys.modules."""
    code = (
        "import pkgutil, sys, importlib, lanterne\n"
        "for m in pkgutil.walk_packages(lanterne.__path__, 'lanterne.'):\n"
        "    if not m.name.startswith('lanterne.desktop'):\n"
        "        importlib.import_module(m.name)\n"
        "from lanterne.cli.main import main\n"
        "main(['index', 'status', '--json'])\n"
        "assert not [n for n in sys.modules if n.split('.')[0] in "
        f"{QT_MODULES!r}], 'Qt was imported'\n"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
