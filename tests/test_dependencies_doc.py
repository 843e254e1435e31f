"""docs/dependencies.md names exactly the declared dependencies, and the code imports only those.

Three lists must agree: what pyproject.toml declares (`[project] dependencies` and each
optional group), what docs/dependencies.md explains (with its licence, for a closed installer),
and what the package's code imports. An import that works only because some other dependency
happens to pull the package in (numpy, through llama-cpp-python) breaks the day that one stops.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, distribution, packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CODE = ("core", "engine", "indexer", "desktop")
# Modules of the package that the running app never imports, and the extra they may use.
BUILD_STEPS = {
    "engine/e5_gguf.py": "test",  # writes the built-in embedding model with `gguf` (dev.py,
    # build_release.py: engine/embedder_build.py imports it only to build)
}
SELF = "lanterne"


def normalised(name: str) -> str:
    """A distribution's name as PEP 503 compares them: PySide6_Essentials = pyside6-essentials."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    found = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert found, requirement
    return normalised(found.group(1))


def declared() -> tuple[set[str], set[tuple[str, str]]]:
    """The runtime dependencies, and (group, name) for each optional one, from pyproject.toml."""
    with (ROOT / "pyproject.toml").open("rb") as f:
        project = tomllib.load(f)["project"]
    runtime = {requirement_name(r) for r in project["dependencies"]}
    optional = {
        (group, requirement_name(r))
        for group, requirements in project["optional-dependencies"].items()
        for r in requirements
        if requirement_name(r) != SELF  # dev = lanterne[test,lint,freeze]
    }
    return runtime, optional


def table(markdown: str, heading: str) -> list[list[str]]:
    """The cells of the first table under the `## heading...` section, header row left out."""
    start = markdown.index("\n## " + heading)
    end = markdown.find("\n## ", start + 1)
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in markdown[start : end if end != -1 else None].splitlines()
        if line.startswith("|")
    ]
    return rows[2:]  # after the header and its --- line


def documented() -> tuple[set[str], set[tuple[str, str]]]:
    doc = (ROOT / "docs" / "dependencies.md").read_text(encoding="utf-8")
    runtime = {requirement_name(row[0]) for row in table(doc, "Runtime")}
    optional = {(row[0], requirement_name(row[1])) for row in table(doc, "Development only")}
    return runtime, optional


def test_the_doc_names_exactly_the_declared_dependencies() -> None:
    (runtime, optional), (doc_runtime, doc_optional) = declared(), documented()
    assert len(doc_runtime) > 10 and len(doc_optional) > 10, "the tables were not found"
    assert doc_runtime - runtime == set(), "in docs/dependencies.md, not in pyproject.toml"
    assert runtime - doc_runtime == set(), "in pyproject.toml, not in docs/dependencies.md"
    assert doc_optional - optional == set(), "(extra, package) documented, not declared"
    assert optional - doc_optional == set(), "(extra, package) declared, not documented"


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, top-level name) of each absolute import in a module, late ones included, and of
    importlib.import_module("name") with a literal name."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module.split(".")[0]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and not node.args[0].value.startswith(".")
        ):
            yield node.lineno, node.args[0].value.split(".")[0]


def third_party_imports() -> Iterator[tuple[str, int, str]]:
    """(file, line, top-level name) of every import of a module that is not the standard
    library's or Lanterne's, in the package's code."""
    for folder in CODE:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for line, name in imports(path):
                if name not in sys.stdlib_module_names and name != SELF:
                    yield path.relative_to(ROOT).as_posix(), line, name


def installed(name: str) -> bool:
    try:
        distribution(name)
    except PackageNotFoundError:
        return False
    return True


def test_every_third_party_import_is_declared() -> None:
    runtime, optional = declared()
    providers = packages_distributions()
    # A dependency for another platform (python-xlib, jeepney off Linux) is not installed here,
    # so what it provides cannot be named here: then an unknown import is not held against it.
    all_here = all(installed(name) for name in runtime)
    wrong = []
    for file, line, name in third_party_imports():
        allowed = set(runtime)
        if file in BUILD_STEPS:
            allowed |= {dist for group, dist in optional if group == BUILD_STEPS[file]}
        dists = {normalised(d) for d in providers.get(name, [])}
        if not dists:
            if all_here:
                wrong.append(f"{file}:{line}: {name}: no installed distribution provides it")
        elif not dists & allowed:
            wrong.append(f"{file}:{line}: {name} comes from {sorted(dists)}, not declared")
    assert not wrong, "imports of undeclared packages:\n" + "\n".join(wrong)


def test_every_runtime_dependency_is_imported() -> None:
    """A declared dependency nothing imports is dead weight in every installer."""
    runtime, _optional = declared()
    providers = packages_distributions()
    used = {
        normalised(dist)
        for _file, _line, name in third_party_imports()
        for dist in providers.get(name, [])
    }
    unused = {name for name in runtime if installed(name)} - used
    assert not unused, f"declared in pyproject.toml, imported nowhere: {sorted(unused)}"


def test_build_steps_are_real_modules() -> None:
    for file in BUILD_STEPS:
        assert (ROOT / file).is_file(), file
