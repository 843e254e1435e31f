"""A lint for settings read and written by string key (tests/test_setting_keys.py runs it).

Every key handed to a `Settings` accessor must be declared in `setting_table.py`, and a typed
getter must match the declared type (`get_str` on an int setting is a bug that Python would
only show as a wrong value). Keys are followed where they are plainly literals: a constant, a
module-level name, a loop over a literal tuple or dict, a conditional between literals. What
cannot be followed is reported as a dynamic site, which the test allows only where it is named.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from lanterne.foundation.setting_table import SETTINGS, Setting

TYPED_GETTERS: dict[str, type] = {"get_str": str, "get_int": int, "get_float": float}
TYPED_GETTERS["get_bool"] = bool
# Methods of Settings whose first argument is a key; the typed getters and is_locked are
# Settings' alone, `get` and `set` only count on something that is plainly a Settings.
KEYED = {"get", "set", "is_locked", *TYPED_GETTERS}
ONLY_SETTINGS = {"is_locked", *TYPED_GETTERS}
DECLARED: dict[str, Setting] = {s.key: s for s in SETTINGS}
SECTIONS = {key.split(".", 1)[0] for key in DECLARED}


@dataclass(frozen=True)
class Problem:
    path: str
    function: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} ({self.function}): {self.message}"


@dataclass(frozen=True)
class Dynamic:
    """A settings call whose key is not a literal the lint can follow."""

    path: str
    function: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line} ({self.function})"


@dataclass
class Report:
    problems: list[Problem]
    dynamic: list[Dynamic]
    checked: list[tuple[str, int, str]]  # (path, line, key) of every key the lint followed


@dataclass(frozen=True)
class _Binding:
    """How a name gets its value: `value` (node), `item` of the iterable `node` (at `path` in
    a tuple target), `param` (annotated with `node`), or `unknown`."""

    kind: str
    node: ast.expr | None = None
    path: tuple[int, ...] = ()


_UNKNOWN = _Binding("unknown")


class _Scope:
    """The names one function (or the module) binds, and how."""

    def __init__(self, node: ast.AST, parent: _Scope | None) -> None:
        self.parent = parent
        self.bindings: dict[str, list[_Binding]] = {}
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            args = node.args
            for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
                self._bind(arg.arg, _Binding("param", arg.annotation))
            for extra in (args.vararg, args.kwarg):
                if extra is not None:
                    self._bind(extra.arg, _Binding("param"))
        for child in _own_nodes(node):
            self._collect(child)

    def _bind(self, name: str, binding: _Binding) -> None:
        self.bindings.setdefault(name, []).append(binding)

    def _target(self, target: ast.expr, binding: _Binding, path: tuple[int, ...] = ()) -> None:
        if isinstance(target, ast.Name):
            item = binding.kind == "item"
            self._bind(target.id, _Binding("item", binding.node, path) if item else binding)
        elif isinstance(target, ast.Tuple | ast.List):
            for index, element in enumerate(target.elts):
                if binding.kind == "item":
                    self._target(element, binding, (*path, index))
                else:
                    self._target(element, _UNKNOWN)

    def _collect(self, node: ast.AST) -> None:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                self._target(target, _Binding("value", node.value))
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            value = node.value if isinstance(node, ast.AnnAssign) else None
            self._target(node.target, _Binding("value", value) if value is not None else _UNKNOWN)
        elif isinstance(node, ast.NamedExpr):
            self._target(node.target, _Binding("value", node.value))
        elif isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
            self._target(node.target, _Binding("item", node.iter))
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            self._target(node.optional_vars, _UNKNOWN)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            self._bind(node.name, _UNKNOWN)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                self._bind((alias.asname or alias.name).split(".")[0], _UNKNOWN)

    def lookup(self, name: str) -> list[_Binding] | None:
        scope: _Scope | None = self
        while scope is not None:
            if name in scope.bindings:
                return scope.bindings[name]
            scope = scope.parent
        return None


def _own_nodes(node: ast.AST) -> Iterable[ast.AST]:
    """The nodes of `node`'s body, not those of the functions and classes defined in it."""
    todo = list(ast.iter_child_nodes(node))
    while todo:
        child = todo.pop()
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        if isinstance(child, ast.arguments):
            continue
        yield child
        todo.extend(ast.iter_child_nodes(child))


class _Lint(ast.NodeVisitor):
    def __init__(self, path: str, table: Mapping[str, Setting]) -> None:
        self.path, self.table = path, table
        self.report = Report([], [], [])
        self.scope: _Scope | None = None
        self.names: list[str] = []

    # --- Scopes ---------------------------------------------------------------------------

    def visit_Module(self, node: ast.Module) -> None:
        self.scope = _Scope(node, None)
        self.generic_visit(node)

    def _enter(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        outer = self.scope
        self.names.append(node.name)
        if not isinstance(node, ast.ClassDef):
            self.scope = _Scope(node, outer)
        self.generic_visit(node)
        self.scope = outer
        self.names.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._enter(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._enter(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._enter(node)

    # --- What a name or an expression can be ----------------------------------------------

    def _bindings(self, name: str) -> list[_Binding] | None:
        return self.scope.lookup(name) if self.scope is not None else None

    def keys(self, node: ast.expr | None, depth: int = 0) -> set[str] | None:
        """Every string `node` can be, or None when that cannot be told from the code."""
        if node is None or depth > 8:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return {node.value}
        if isinstance(node, ast.IfExp):
            body, orelse = self.keys(node.body, depth + 1), self.keys(node.orelse, depth + 1)
            return body | orelse if body is not None and orelse is not None else None
        if not isinstance(node, ast.Name):
            return None
        found: set[str] = set()
        for binding in self._bindings(node.id) or [_UNKNOWN]:
            value: set[str] | None = None
            if binding.kind == "value":
                value = self.keys(binding.node, depth + 1)
            elif binding.kind == "item" and binding.node is not None:
                value = self._item_keys(binding.node, binding.path, depth)
            if value is None:
                return None
            found |= value
        return found

    def _item_keys(self, iterable: ast.expr, path: tuple[int, ...], depth: int) -> set[str] | None:
        items = self.items(iterable, depth + 1)
        if items is None:
            return None
        found: set[str] = set()
        for item in items:
            for index in path:
                if not isinstance(item, ast.Tuple | ast.List) or index >= len(item.elts):
                    return None
                item = item.elts[index]
            keys = self.keys(item, depth + 1)
            if keys is None:
                return None
            found |= keys
        return found

    def items(self, node: ast.expr, depth: int) -> list[ast.expr] | None:
        """What iterating over `node` yields, as expressions, when the code says."""
        if depth > 8:
            return None
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            return list(node.elts)
        if isinstance(node, ast.Dict):
            return [k for k in node.keys if k is not None]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not node.args:
            mapping = self._literal(node.func.value, depth)
            if isinstance(mapping, ast.Dict) and None not in mapping.keys:
                keys = [k for k in mapping.keys if k is not None]
                if node.func.attr == "items":
                    return [ast.Tuple([k, v]) for k, v in zip(keys, mapping.values, strict=True)]
                if node.func.attr == "keys":
                    return keys
            return None
        value = self._literal(node, depth)
        return self.items(value, depth + 1) if value is not None and value is not node else None

    def _literal(self, node: ast.expr, depth: int) -> ast.expr | None:
        """The one literal a name is bound to, or the node itself if it is one."""
        if isinstance(node, ast.Tuple | ast.List | ast.Set | ast.Dict):
            return node
        if isinstance(node, ast.Name):
            bindings = self._bindings(node.id) or []
            if len(bindings) == 1 and bindings[0].kind == "value" and depth < 8:
                value = bindings[0].node
                return self._literal(value, depth + 1) if value is not None else None
        return None

    def is_settings(self, node: ast.expr, depth: int = 0) -> bool:
        """Whether `node` is plainly a Settings: so named, annotated, built or copied."""
        if depth > 8:
            return False
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name == "copy" and isinstance(func, ast.Attribute):
                return self.is_settings(func.value, depth + 1)
            return name == "Settings" or name.endswith("_settings")
        if isinstance(node, ast.Attribute):
            return node.attr.lower().endswith("settings")
        if not isinstance(node, ast.Name):
            return False
        for binding in self._bindings(node.id) or []:
            if binding.kind == "param" and binding.node is not None:
                return "Settings" in ast.unparse(binding.node)
            if binding.kind == "value" and binding.node is not None:
                return self.is_settings(binding.node, depth + 1)
        return node.id.lower().endswith("settings")

    # --- The checks -----------------------------------------------------------------------

    def _where(self) -> str:
        return ".".join(self.names) or "<module>"

    def problem(self, node: ast.AST, message: str) -> None:
        line = getattr(node, "lineno", 0)
        self.report.problems.append(Problem(self.path, self._where(), line, message))

    def dynamic(self, node: ast.AST) -> None:
        line = getattr(node, "lineno", 0)
        self.report.dynamic.append(Dynamic(self.path, self._where(), line))

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name == "checked" and node.args:  # settings.checked(key, value)
            self._check_key(node, node.args[0], None, node.args[1:2])
            return
        if not isinstance(func, ast.Attribute):
            return
        if name == "serialized" and self.is_settings(func.value):
            self._check_changes(node)
            return
        if name not in KEYED or not node.args:
            return
        if name in ONLY_SETTINGS or self.is_settings(func.value):
            value = node.args[1:2] if name == "set" else []
            self._check_key(node, node.args[0], TYPED_GETTERS.get(name), value)
        elif name in ("get", "set"):  # a dict or another object: a setting's key still counts
            for key in self.keys(node.args[0]) or set():
                if key.split(".", 1)[0] in SECTIONS and "." in key and key not in self.table:
                    self.problem(node, f"unknown setting {key!r} (spelt like one)")

    def _check_changes(self, node: ast.Call) -> None:
        changes = node.args[0] if node.args else None
        if changes is None:
            return
        if not isinstance(changes, ast.Dict) or None in changes.keys:
            self.dynamic(node)
            return
        for key, value in zip(changes.keys, changes.values, strict=True):
            if key is not None:
                self._check_key(node, key, None, [value])

    def _check_key(
        self, node: ast.Call, key_node: ast.expr, getter: type | None, value: list[ast.expr]
    ) -> None:
        keys = self.keys(key_node)
        if keys is None:
            self.dynamic(node)
            return
        for key in sorted(keys):
            self.report.checked.append((self.path, node.lineno, key))
            setting = self.table.get(key)
            if setting is None:
                self.problem(node, f"unknown setting {key!r}")
                continue
            if getter is not None and getter is not setting.type:
                declared = setting.type.__name__
                self.problem(node, f"get_{getter.__name__} on {key!r}, declared {declared}")
            if value:
                self._check_value(node, setting, value[0])

    def _check_value(self, node: ast.Call, setting: Setting, value: ast.expr) -> None:
        """A literal written to a setting has its type (an int is a float too) and choice."""
        try:
            literal = ast.literal_eval(value)
        except (ValueError, TypeError, SyntaxError, RecursionError):
            return
        kind = type(literal)
        fits = kind is setting.type or (setting.type is float and kind is int)
        if not fits:
            declared = setting.type.__name__
            self.problem(node, f"{setting.key} is declared {declared}, set to {literal!r}")
        elif setting.choices and literal not in setting.choices:
            self.problem(node, f"{setting.key} accepts {setting.choices}, set to {literal!r}")


def check_source(text: str, path: str, table: Mapping[str, Setting] | None = None) -> Report:
    """The problems and dynamic keys of one Python file's settings calls."""
    lint = _Lint(path, DECLARED if table is None else table)
    lint.visit(ast.parse(text, filename=path))
    return lint.report


def check_files(files: Iterable[Path], root: Path) -> Report:
    report = Report([], [], [])
    for file in files:
        found = check_source(file.read_text(encoding="utf-8"), file.relative_to(root).as_posix())
        report.problems += found.problems
        report.dynamic += found.dynamic
        report.checked += found.checked
    return report
