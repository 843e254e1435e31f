"""Qt belongs to `desktop/` alone (qutebrowser enforces its own boundary the same way)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QT_MODULES = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "PySide2")
NON_GUI = ["engine", "indexer", "core"]


def qt_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        found += [
            f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)} imports {n}"
            for n in names
            if n.split(".")[0] in QT_MODULES
        ]
    return found


def test_no_qt_import_outside_desktop() -> None:
    offenders = [
        hit
        for folder in NON_GUI
        for path in sorted((ROOT / folder).rglob("*.py"))
        for hit in qt_imports(path)
    ]
    assert offenders == []


def test_the_scan_would_catch_an_offender(tmp_path: Path) -> None:
    bad = ROOT / "engine" / "_qt_boundary_probe.py"
    bad.write_text("from PySide6.QtCore import QObject\n", encoding="utf-8")
    try:
        assert qt_imports(bad) == ["engine/_qt_boundary_probe.py:1 imports PySide6.QtCore"]
    finally:
        bad.unlink()


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
