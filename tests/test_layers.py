"""The layers, held by a test: no module imports upward, and engine/ and indexer/ not each other.

    foundation   core/foundation/  (lanterne.foundation: paths, settings and policy, database,
                                    translation, the text analysis the indexer and assistant share)
    engine       engine/           (lanterne.engine)      beside each other: each may import the
    indexer      indexer/          (lanterne.indexer)     foundation, neither the other
    application  core/ (the rest)  (lanterne.*: assistant, conversations, evaluation, serve, CLI,
                                    index service, model library...)
    desktop      desktop/          (lanterne.desktop: the only place Qt is imported)
    entry        core/launch.py, core/__main__.py: the entry points, which put the app together
                 (the command line is handed the desktop's window as a function)

Every import counts, at the top of a module, inside a function (imported late to start faster) or
under TYPE_CHECKING: a layer that needs a name from above is upside down either way.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"core": "lanterne", "engine": "lanterne.engine", "indexer": "lanterne.indexer"}
FOLDERS["desktop"] = "lanterne.desktop"
DATA = ("lanterne.assets",)  # files shipped with the package, no code of any layer
# What each layer may import, besides itself.
ALLOWED = {
    "foundation": {"foundation"},
    "engine": {"foundation", "engine"},
    "indexer": {"foundation", "indexer"},
    "application": {"foundation", "engine", "indexer", "application"},
    "desktop": {"foundation", "engine", "indexer", "application", "desktop"},
    "entry": {"foundation", "engine", "indexer", "application", "desktop", "entry"},
}
ENTRY = ("lanterne.launch", "lanterne.__main__")


def layer_of(module: str) -> str:
    """The layer of `lanterne.x.y`, read from where the module lives."""
    if module in ENTRY:
        return "entry"
    for prefix, layer in (
        ("lanterne.foundation", "foundation"),
        ("lanterne.engine", "engine"),
        ("lanterne.indexer", "indexer"),
        ("lanterne.desktop", "desktop"),
    ):
        if module == prefix or module.startswith(prefix + "."):
            return layer
    return "application"


def module_name(path: Path) -> str:
    folder = path.relative_to(ROOT).parts[0]
    rest = path.relative_to(ROOT / folder).with_suffix("").parts
    parts = [p for p in rest if p != "__init__"]
    return ".".join([FOLDERS[folder], *parts])


def imported(path: Path, module: str) -> list[tuple[int, str]]:
    """(line, module) for every `lanterne` module `path` imports, relative imports resolved."""
    found: list[tuple[int, str]] = []
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base == "lanterne":  # `from lanterne import paths`: the names are modules
                found += [(node.lineno, f"lanterne.{a.name}") for a in node.names]
            else:
                found.append((node.lineno, base))
    return [
        (line, name)
        for line, name in found
        if name.startswith("lanterne.") and not name.startswith(DATA) and name != "lanterne"
    ]


def violations(path: Path) -> list[str]:
    module = module_name(path)
    layer = layer_of(module)
    return [
        f"{path.relative_to(ROOT)}:{line} ({layer}) imports {name} ({layer_of(name)})"
        for line, name in imported(path, module)
        if layer_of(name) not in ALLOWED[layer]
        and name not in ("lanterne.__version__",)  # the version, from the package root
    ]


def sources() -> list[Path]:
    return sorted(p for folder in FOLDERS for p in (ROOT / folder).rglob("*.py"))


def test_no_module_imports_upward_or_sideways() -> None:
    assert [v for path in sources() for v in violations(path)] == []


def test_every_module_has_a_layer_from_where_it_lives() -> None:
    layers = {layer_of(module_name(path)) for path in sources()}
    assert layers == set(ALLOWED)
    assert layer_of(module_name(ROOT / "core" / "foundation" / "settings.py")) == "foundation"
    assert layer_of(module_name(ROOT / "core" / "assistant" / "pipeline.py")) == "application"
    assert layer_of(module_name(ROOT / "core" / "cli" / "main.py")) == "application"
    assert layer_of(module_name(ROOT / "core" / "__main__.py")) == "entry"


def test_the_scan_catches_each_kind_of_offence(tmp_path: Path) -> None:
    """Upward, sideways and late imports, relative ones too, checked on text written to a
    temporary file standing for a module of each layer (the source tree is not touched)."""
    cases = {
        "core/foundation/x.py": ("from lanterne.engine.runtime import LocalModel\n", "engine"),
        "engine/x.py": ("def f():\n    from lanterne.indexer import store\n", "indexer"),
        "indexer/x.py": ("from ..engine import embedder\n", "engine"),
        "core/cli/x.py": ("import lanterne.desktop.app\n", "desktop"),
        "core/x.py": ("from lanterne.foundation import paths\n", None),
    }
    for where, (code, offended) in cases.items():
        path = tmp_path / "x.py"
        path.write_text(code, encoding="utf-8")
        module = module_name(ROOT / where)
        layer = layer_of(module)
        found = [
            name for _line, name in imported(path, module) if layer_of(name) not in ALLOWED[layer]
        ]
        assert [layer_of(n) for n in found] == ([offended] if offended else []), where
