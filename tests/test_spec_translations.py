"""The frozen app keeps Qt's own catalogs for the languages Lanterne ships, where Qt looks for them.

packaging/lanterne.spec runs as PyInstaller runs it, with PyInstaller's building classes
replaced by recorders, and fed what the hooks for PySide6 (QtCore's: qt_*.qm and qtbase_*.qm,
every language) and Babel (its CLDR data) and the spec's own collect_data_files really collect
on this machine. A frozen
app's PySide6 sets the same Qt prefix relative to its package as an installed one (a probe frozen
with this PyInstaller found TranslationsPath at _internal/PySide6/Qt/translations and loaded
qtbase_fr there), so Qt finds a catalog at the same place relative to the PySide6 package."""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"


def frozen_datas(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[tuple[str, str, str]]:
    """`a.datas` of the spec once it has filtered them: (destination, source, kind)."""
    hooks = pytest.importorskip("PyInstaller.utils.hooks")
    qt_hooks = importlib.import_module("PyInstaller.utils.hooks.qt")
    format_binaries_and_datas = importlib.import_module(
        "PyInstaller.building.utils"
    ).format_binaries_and_datas
    for helper in ("collect_dynamic_libs", "collect_submodules", "copy_metadata"):
        monkeypatch.setattr(hooks, helper, lambda *a, **k: [])
    monkeypatch.setattr(sys, "path", list(sys.path))
    _hidden, _binaries, qt_datas = qt_hooks.pyside6_library_info.collect_module("PySide6.QtCore")
    assert qt_datas, "PyInstaller's PySide6 hook collected no Qt catalogs"
    hooked = [*qt_datas, *hooks.collect_data_files("babel")]  # hook-babel.py's whole work
    made: list[Any] = []

    class Analysis:
        def __init__(self, *args: Any, datas: list[tuple[str, str]], **kwargs: Any) -> None:
            toc = format_binaries_and_datas([*datas, *hooked])
            self.datas = sorted((dest, src, "DATA") for dest, src in toc)
            self.binaries: list[Any] = []
            self.scripts: list[Any] = []
            self.pure: list[Any] = []
            made.append(self)

    namespace = {
        "SPECPATH": str(PACKAGING),
        "workpath": str(tmp_path / "work"),
        "Analysis": Analysis,
        "PYZ": lambda *a, **k: "pyz",
        "EXE": lambda *a, **k: "exe",
        "COLLECT": lambda *a, **k: "collect",
    }
    spec = PACKAGING / "lanterne.spec"
    exec(compile(spec.read_text(encoding="utf-8"), str(spec), "exec"), namespace)
    [analysis] = made
    return list(analysis.datas)


def qt_catalogs(datas: list[tuple[str, str, str]]) -> dict[str, Path]:
    return {
        Path(dest).name: Path(dest)
        for dest, _src, _kind in datas
        if Path(dest).suffix == ".qm" and Path(dest).parts[0] == "PySide6"
    }


def test_the_spec_keeps_qt_catalogs_for_lanternes_languages_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from lanterne.foundation.translation import available_languages

    datas = frozen_datas(monkeypatch, tmp_path)
    shipped = set(available_languages())
    assert shipped >= {"en", "fr"}
    kept = qt_catalogs(datas)
    for language in shipped:
        assert f"qtbase_{language}.qm" in kept, sorted(kept)
    languages = {re.sub(r"^.*?_([a-z]{2,3})(_[A-Z]{2})?$", r"\1", Path(n).stem) for n in kept}
    assert languages == shipped  # not Qt's 30-odd others (7 MB)
    dates = {Path(d).stem.split("_")[0] for d, _s, _k in datas if d.startswith("babel/locale")}
    assert dates == shipped | {"root"}  # Babel's data trimmed the same way, as before


def test_qt_looks_for_its_catalogs_where_the_spec_puts_them(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import PySide6

    from lanterne.desktop.qt_catalogs import translations_folder

    kept = qt_catalogs(frozen_datas(monkeypatch, tmp_path))
    package = Path(PySide6.__file__).resolve().parent
    looked_in = Path(translations_folder()).resolve().relative_to(package)
    assert kept["qtbase_fr.qm"].parent == Path("PySide6") / looked_in
    assert (package / looked_in / "qtbase_fr.qm").is_file()
