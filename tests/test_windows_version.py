"""Windows version numbers (packaging/windows_version.py): every later PEP 440 version is a
later MSI version, what cannot fit is refused, and each executable carries a version resource
that PyInstaller reads and Windows would show."""

from __future__ import annotations

import importlib
import importlib.util
import itertools
import random
import struct
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
sys.path.insert(0, str(PACKAGING))

import windows_version  # noqa: E402
from release_steps import ReleaseError  # noqa: E402

VERSIONS = [
    "0.1.0",
    "0.2.0rc1",
    "0.2.0",
    "0.9.1.post2",
    "1.0.0.dev0",
    "1.0.0.dev3",
    "1.0.0a0",
    "1.0.0a1",
    "1.0.0a12",
    "1.0.0b1",
    "1.0.0b199",
    "1.0.0rc1",
    "1.0.0rc2",
    "1.0.0",
    "1.0.0.post0",
    "1.0.0.post1",
    "1.0.0.post198",
    "1.0.1.dev1",
    "1.0.1a1",
    "1.0.1",
    "1.0.10rc1",
    "1.0.10",
    "1.0.64.post3",
    "1.1.dev4",
    "1.1.0",
    "1.2.dev4",
    "1.2.0",
    "1.2.1",
    "1.2.3",
    "2.0",
    "2.0.1",
    "255.255.64",
]


def msi_numbers(version: str) -> tuple[int, ...]:
    return tuple(int(n) for n in windows_version.msi_version(version).split("."))


def test_later_versions_are_later_msi_versions() -> None:
    assert sorted(VERSIONS, key=Version) == VERSIONS  # the list is in PEP 440 order
    numbers = [msi_numbers(v) for v in VERSIONS]
    assert all(a < b for a, b in itertools.pairwise(numbers)), numbers
    assert all(0 <= n < 256 for major, minor, _ in numbers for n in (major, minor))
    assert all(build < 65536 for *_, build in numbers)
    # The cases: a dev release before its final releases, a candidate before its final.
    assert msi_numbers("1.2.dev4") < msi_numbers("1.2.0") < msi_numbers("1.2.3")
    assert msi_numbers("0.2.0rc1") < msi_numbers("0.2.0")


def test_every_stage_of_every_patch_in_order() -> None:
    stages = ["dev0", "dev7", "a0", "a3", "b1", "b5", "rc1", "rc9", "", "post0", "post4"]
    versions = [f"3.4.{patch}{sep}{stage}" for patch in (0, 1, 9, 10, 63) for stage in stages
                for sep in (("." if stage.startswith(("dev", "post")) else ""),)]  # fmt: skip
    shuffled = random.Random(32).sample(versions, len(versions))
    assert sorted(shuffled, key=Version) == sorted(shuffled, key=msi_numbers)
    assert len({msi_numbers(v) for v in versions}) == len(versions)  # no two the same


def test_spellings_of_one_version_are_one_msi_version() -> None:
    assert windows_version.msi_version("1.2.3") == "1.2.3800"
    assert windows_version.msi_version("1.2.3rc1") == "1.2.3601"
    assert windows_version.msi_version("1.2.3-RC.1") == "1.2.3601"  # normalized by PEP 440
    assert windows_version.msi_version("1.2.3+g1234") == "1.2.3800"  # local label dropped
    assert windows_version.msi_version("3") == "3.0.800"


@pytest.mark.parametrize(
    "version",
    [
        "1!1.0",  # an epoch
        "1.2.3.4",  # four release numbers
        "1.0a1.dev1",  # combined stages
        "1.0.post1.dev1",
        "1.0rc1.post1",
        "256.0",
        "1.256",
        "1.0.65",  # patch above 64
        "1.0a200",
        "1.0.post199",
        "1.0.dev200",
        "not a version",
    ],
)
def test_what_cannot_fit_is_refused(version: str) -> None:
    with pytest.raises(ReleaseError):
        windows_version.msi_version(version)


@pytest.fixture
def versioninfo(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """PyInstaller's reader of version files. It imports pefile and win32api (to read and
    write executables, not needed here), which only Windows has: stand-ins when absent."""
    compat = pytest.importorskip("PyInstaller.compat")
    name = "PyInstaller.utils.win32.versioninfo"
    if importlib.util.find_spec("pefile") is None:
        monkeypatch.setitem(sys.modules, "pefile", types.ModuleType("pefile"))
    if not hasattr(compat, "win32api"):
        monkeypatch.setattr(compat, "win32api", None, raising=False)
    module = importlib.import_module(name)
    yield module
    sys.modules.pop(name, None)


def strings_of(info: Any) -> dict[str, str]:
    (string_info, _var_info) = info.kids
    (table,) = string_info.kids
    assert table.name == "040904B0"
    return {struct.name: struct.val for struct in table.kids}


def test_the_version_resource_reads_back_as_written(tmp_path: Path, versioninfo: Any) -> None:
    path = windows_version.write_version_file(
        tmp_path, "1.2.3rc1", "lanterne-gui.exe", "Lanterne — assistant"
    )
    info = versioninfo.load_version_info_from_text_file(str(path))
    numbers = ((1 << 16) | 2, (3 << 16) | 601)  # 1.2.3.601
    assert (info.ffi.fileVersionMS, info.ffi.fileVersionLS) == numbers
    assert (info.ffi.productVersionMS, info.ffi.productVersionLS) == numbers
    assert info.ffi.fileFlags == 0x2  # VS_FF_PRERELEASE
    assert strings_of(info) == {
        "CompanyName": "Lanterne",
        "FileDescription": "Lanterne — assistant",
        "FileVersion": "1.2.3rc1",
        "InternalName": "lanterne-gui",
        "LegalCopyright": "© Lanterne",
        "OriginalFilename": "lanterne-gui.exe",
        "ProductName": "Lanterne",
        "ProductVersion": "1.2.3rc1",
    }
    if struct.calcsize("L") == 4:  # PyInstaller packs with native longs: Windows' 4 bytes
        # The binary resource PyInstaller embeds, parsed back as Windows would read it.
        again = versioninfo.VSVersionInfo()
        again.fromRaw(info.toRaw())
        assert strings_of(again) == strings_of(info)
    final = versioninfo.load_version_info_from_text_file(
        str(windows_version.write_version_file(tmp_path, "1.2.3", "lanterne.exe", "Lanterne"))
    )
    assert final.ffi.fileFlags == 0 and final.ffi.fileVersionLS == (3 << 16) | 800


def test_the_spec_gives_both_windows_executables_their_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, versioninfo: Any
) -> None:
    """lanterne.spec run as PyInstaller runs it, on Windows, with PyInstaller's building
    classes replaced by recorders."""
    hooks = importlib.import_module("PyInstaller.utils.hooks")
    for helper in ("collect_data_files", "collect_dynamic_libs", "collect_submodules"):
        monkeypatch.setattr(hooks, helper, lambda *a, **k: [])
    monkeypatch.setattr(hooks, "copy_metadata", lambda *a, **k: [])
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setenv("LANTERNE_VERSION", "0.3.0b2")
    monkeypatch.setenv("LANTERNE_RESOURCES", str(tmp_path / "resources"))
    made: list[dict[str, Any]] = []

    class Analysis:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self.datas: list[Any] = []
            self.binaries: list[Any] = []
            self.scripts: list[Any] = []
            self.pure: list[Any] = []

    def exe(*args: Any, **kwargs: Any) -> str:
        made.append(kwargs)
        return str(kwargs["name"])

    namespace = {
        "SPECPATH": str(PACKAGING),
        "workpath": str(tmp_path / "work"),
        "Analysis": Analysis,
        "PYZ": lambda *a, **k: "pyz",
        "EXE": exe,
        "COLLECT": lambda *a, **k: "collect",
    }
    spec = PACKAGING / "lanterne.spec"
    exec(compile(spec.read_text(encoding="utf-8"), str(spec), "exec"), namespace)
    assert [m["name"] for m in made] == ["lanterne", "lanterne-gui"]
    for kwargs in made:
        info = versioninfo.load_version_info_from_text_file(kwargs["version"])
        strings = strings_of(info)
        assert strings["OriginalFilename"] == f"{kwargs['name']}.exe"
        assert strings["ProductVersion"] == "0.3.0b2"
        assert info.ffi.fileVersionLS == 402  # patch 0, stage b2
    descriptions = [strings_of(versioninfo.load_version_info_from_text_file(m["version"]))
                    ["FileDescription"] for m in made]  # fmt: skip
    assert descriptions == ["Lanterne command line", "Lanterne"]  # Task Manager's names
