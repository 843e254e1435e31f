"""An in-memory Windows registry with the `winreg` calls Lanterne makes, to run the Windows paths
(the policy under HKLM, the login entry under HKCU) on any system.

Values are stored as the real `winreg` returns them: REG_DWORD and REG_QWORD as unsigned ints
(0xFFFFFFFF for -1), REG_MULTI_SZ as a list of str, REG_EXPAND_SZ unexpanded, REG_BINARY as
bytes. Key and value names are case-insensitive, as in Windows. Install it with `install()`,
which also makes `sys.platform` "win32" for the test.
"""

from __future__ import annotations

import os
import re
import sys
import types
from dataclasses import dataclass, field
from typing import Any

import pytest

HKEY_CURRENT_USER = 0x80000001
HKEY_LOCAL_MACHINE = 0x80000002
REG_NONE = 0
REG_SZ = 1
REG_EXPAND_SZ = 2
REG_BINARY = 3
REG_DWORD = 4
REG_DWORD_BIG_ENDIAN = 5
REG_MULTI_SZ = 7
REG_QWORD = 11

_ROOTS = {HKEY_CURRENT_USER: "HKCU", HKEY_LOCAL_MACHINE: "HKLM"}


@dataclass
class _Key:
    values: dict[str, tuple[str, Any, int]] = field(default_factory=dict)  # lower name -> value


@dataclass
class _Handle:
    path: str  # "HKLM\\software\\policies\\lanterne", lower case
    registry: FakeRegistry
    closed: bool = False

    def __enter__(self) -> _Handle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.Close()

    def Close(self) -> None:  # noqa: N802 (winreg's name)
        self.closed = True


class FakeRegistry:
    """The registry's keys, and a `winreg` module working on them."""

    def __init__(self) -> None:
        self.keys: dict[str, _Key] = {}
        self.opened: list[_Handle] = []

    def set(self, path: str, name: str, value: Any, kind: int) -> None:
        """Write a value as an administrator would (path: "HKLM\\Software\\...")."""
        self.keys.setdefault(path.lower(), _Key()).values[name.lower()] = (name, value, kind)
        self._create_parents(path.lower())

    def get(self, path: str, name: str) -> Any:
        key = self.keys.get(path.lower())
        entry = key.values.get(name.lower()) if key else None
        return entry[1] if entry else None

    def _create_parents(self, path: str) -> None:
        while "\\" in path:
            path = path.rsplit("\\", 1)[0]
            self.keys.setdefault(path, _Key())

    def _path(self, key: int | _Handle, sub_key: str) -> str:
        base = _ROOTS[key] if isinstance(key, int) else key.path
        return (base + "\\" + sub_key).lower() if sub_key else base.lower()

    def _key(self, handle: _Handle) -> _Key:
        if handle.closed:
            raise OSError("the handle is closed")
        return self.keys[handle.path]

    def module(self) -> types.ModuleType:
        winreg = types.ModuleType("winreg")
        constants = {k: v for k, v in globals().items() if k.startswith(("HKEY_", "REG_"))}
        for name, value in constants.items():
            setattr(winreg, name, value)

        def open_key(key: int | _Handle, sub_key: str, reserved: int = 0, access: int = 0) -> Any:
            path = self._path(key, sub_key)
            if path not in self.keys:
                raise FileNotFoundError(2, "The system cannot find the file specified")
            handle = _Handle(path, self)
            self.opened.append(handle)
            return handle

        def create_key(key: int | _Handle, sub_key: str) -> Any:
            path = self._path(key, sub_key)
            self.keys.setdefault(path, _Key())
            self._create_parents(path)
            return open_key(key, sub_key)

        def enum_value(handle: _Handle, index: int) -> tuple[str, Any, int]:
            values = list(self._key(handle).values.values())
            if index >= len(values):
                raise OSError(259, "No more data is available")
            return values[index]

        def query_value_ex(handle: _Handle, name: str) -> tuple[Any, int]:
            entry = self._key(handle).values.get(name.lower())
            if entry is None:
                raise FileNotFoundError(2, "The system cannot find the file specified")
            return entry[1], entry[2]

        def set_value_ex(handle: _Handle, name: str, reserved: int, kind: int, value: Any) -> None:
            self._key(handle).values[name.lower()] = (name, value, kind)

        def delete_value(handle: _Handle, name: str) -> None:
            if self._key(handle).values.pop(name.lower(), None) is None:
                raise FileNotFoundError(2, "The system cannot find the file specified")

        def expand(text: str) -> str:  # Windows keeps %UNKNOWN% as it is
            return re.sub(r"%([^%]+)%", lambda m: os.environ.get(m[1], m[0]), text)

        winreg.OpenKey = open_key  # type: ignore[attr-defined]
        winreg.OpenKeyEx = open_key  # type: ignore[attr-defined]
        winreg.CreateKey = create_key  # type: ignore[attr-defined]
        winreg.EnumValue = enum_value  # type: ignore[attr-defined]
        winreg.QueryValueEx = query_value_ex  # type: ignore[attr-defined]
        winreg.SetValueEx = set_value_ex  # type: ignore[attr-defined]
        winreg.DeleteValue = delete_value  # type: ignore[attr-defined]
        winreg.ExpandEnvironmentStrings = expand  # type: ignore[attr-defined]
        return winreg


def install(monkeypatch: pytest.MonkeyPatch) -> FakeRegistry:
    """An empty registry as `winreg`, with `sys.platform` "win32", for the current test."""
    registry = FakeRegistry()
    monkeypatch.setitem(sys.modules, "winreg", registry.module())
    monkeypatch.setattr(sys, "platform", "win32")
    return registry
