"""Every executable file shipped is signed: on Windows each .exe, .dll and .pyd of the frozen
app (machines that allow only signed code, WDAC or AppLocker, refuse any one left unsigned),
on macOS each Mach-O file of the .app (notarization refuses an archive with one unsigned).
Checked over fake frozen trees, with signtool and codesign replaced by recorders."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
sys.path.insert(0, str(PACKAGING))

import release_macos  # noqa: E402
import release_windows  # noqa: E402
from release_steps import ReleaseError  # noqa: E402


def fake_tool(folder: Path, name: str, body: str) -> None:
    """A command on PATH, in Python: it logs its arguments to FAKE_TOOL_LOG, then runs body."""
    folder.mkdir(exist_ok=True)
    tool = folder / name
    tool.write_text(
        f"#!{sys.executable}\nimport json, os, sys\nargs = sys.argv[1:]\n"
        "with open(os.environ['FAKE_TOOL_LOG'], 'a') as log:\n"
        f"    log.write(json.dumps([{name!r}, *args]) + '\\n')\n{body}\n"
    )
    tool.chmod(0o755)


def calls(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


# --- Windows -----------------------------------------------------------------------------

SHIPPED_CODE = [
    "lanterne.exe",
    "lanterne-gui.exe",
    "_internal/python311.dll",
    "_internal/VCRUNTIME140.DLL",
    "_internal/_ssl.pyd",
    "_internal/PySide6/Qt6Core.dll",
    "_internal/PySide6/QtCore.pyd",
    "_internal/PySide6/plugins/platforms/qwindows.dll",
    "_internal/llama_cpp/lib/llama.dll",
    "_internal/llama_cpp/lib/ggml-cpu-haswell.dll",
    *[f"_internal/numpy/_core/_module{i}.cp311-win_amd64.pyd" for i in range(60)],
]
NOT_CODE = [
    "_internal/base_library.zip",
    "_internal/lanterne/locale/fr/LC_MESSAGES/lanterne.mo",
    "_internal/PySide6/translations/qtbase_fr.qm",
    "_internal/lanterne/assets/models/multilingual-e5-small-q4_0.gguf",
    "_internal/dll_notes.txt",
]


def frozen_windows_app(root: Path) -> Path:
    bundle = root / "lanterne"
    for name in SHIPPED_CODE + NOT_CODE:
        (bundle / name).parent.mkdir(parents=True, exist_ok=True)
        (bundle / name).write_bytes(b"MZ" if name in SHIPPED_CODE else b"data")
    return bundle


def test_every_exe_dll_and_pyd_is_listed_for_signing(tmp_path: Path) -> None:
    bundle = frozen_windows_app(tmp_path)
    listed = release_windows.files_to_sign(bundle)
    assert sorted(p.relative_to(bundle).as_posix() for p in listed) == sorted(SHIPPED_CODE)
    (bundle / "lanterne-gui.exe").unlink()
    with pytest.raises(ReleaseError, match=r"lanterne-gui\.exe"):
        release_windows.files_to_sign(bundle)


def test_the_release_signs_each_file_once_in_short_command_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = frozen_windows_app(tmp_path)
    log = tmp_path / "tools.log"
    tools = tmp_path / "bin"
    fake_tool(tools, "signtool", "")
    fake_tool(tools, "wix", "")
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{Path(sys.executable).parent}")
    monkeypatch.setenv("FAKE_TOOL_LOG", str(log))
    monkeypatch.delenv("LANTERNE_WINDOWS_CERT_PFX", raising=False)
    monkeypatch.setenv("LANTERNE_WINDOWS_CERT_SHA1", "0123456789abcdef")
    out = tmp_path / "dist"
    msis = release_windows.windows_packages(
        bundle, out, "1.0.0", {"ico": tmp_path / "l.ico"}, require_signing=True
    )

    signed: list[str] = []
    verified: list[str] = []
    for tool, action, *args in calls(log):
        if tool != "signtool":
            continue
        files = [a for a in args if a.startswith(str(tmp_path))]
        assert len(files) <= release_windows.SIGN_BATCH  # under Windows' command-line limit
        if action == "sign":
            assert ("/as" in args) == all(f.startswith(str(bundle)) for f in files)
            assert args[args.index("/fd") + 1] == "SHA256" and "/tr" in args
            signed += files
        else:
            assert action == "verify" and "/pa" in args and "/all" in args
            verified += files
    code = sorted(str(bundle / name) for name in SHIPPED_CODE)
    assert sorted(signed) == sorted(verified) == sorted([*code, *map(str, msis)])
    assert len(set(signed)) == len(signed)  # once each


# --- macOS -------------------------------------------------------------------------------

THIN_64 = bytes.fromhex("cffaedfe0c000001")  # MH_MAGIC_64, little-endian (arm64)
FAT = bytes.fromhex("cafebabe00000002")  # universal, two architectures
JAVA_CLASS = bytes.fromhex("cafebabe00000034")  # Java 8 class file: same magic, version 52


def frozen_mac_app(root: Path) -> tuple[Path, list[str]]:
    app = root / "Lanterne.app"
    contents = {
        "Contents/MacOS/lanterne": THIN_64,
        "Contents/Frameworks/libllama.dylib": THIN_64,
        "Contents/Frameworks/lib-dynload/_ssl.cpython-311-darwin.so": THIN_64,
        "Contents/Frameworks/PySide6/Qt/lib/QtCore.framework/Versions/A/QtCore": FAT,
        "Contents/Resources/lanterne/helper.bin": THIN_64,  # found by header, not by name
        "Contents/Resources/jars/Helper.class": JAVA_CLASS,
        "Contents/Resources/base_library.zip": b"PK\x03\x04",
        "Contents/Resources/empty": b"",
        "Contents/Info.plist": b"<?xml",
    }
    for name, head in contents.items():
        (app / name).parent.mkdir(parents=True, exist_ok=True)
        (app / name).write_bytes(head + b"\0" * 16)
    framework = app / "Contents/Frameworks/PySide6/Qt/lib/QtCore.framework"
    (framework / "QtCore").symlink_to("Versions/A/QtCore")  # a framework's links: skipped
    code = [n for n, head in contents.items() if head in (THIN_64, FAT)]
    return app, code


def test_every_mach_o_file_is_found_by_its_header(tmp_path: Path) -> None:
    app, code = frozen_mac_app(tmp_path)
    found = release_macos.mach_o_files(app)
    assert sorted(p.relative_to(app).as_posix() for p in found) == sorted(code)


CODESIGN = """
path = args[-1]
if "--verify" in args and "unsigned" in path:
    sys.stderr.write(path + ": code object is not signed at all\\n")
    sys.exit(1)
if "--display" in args:
    sys.stderr.write("Signature=adhoc\\n" if "adhoc" in path else
                     "Authority=Developer ID Application: Org (TEAM)\\nTimestamp=Jan 1, 2026\\n")
"""


def test_each_mach_o_file_must_carry_our_signature(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, _code = frozen_mac_app(tmp_path)
    fake_tool(tmp_path / "bin", "codesign", CODESIGN)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{Path(sys.executable).parent}")
    monkeypatch.setenv("FAKE_TOOL_LOG", str(tmp_path / "codesign.log"))
    identity = "Developer ID Application: Org (TEAM)"
    files = release_macos.mach_o_files(app)
    assert release_macos.signature_problems(files, identity) == []
    assert {c[-1] for c in calls(tmp_path / "codesign.log")} == {str(f) for f in files}

    for name in ("libunsigned.dylib", "libadhoc.dylib"):
        (app / "Contents/Frameworks" / name).write_bytes(THIN_64)
    problems = release_macos.signature_problems(release_macos.mach_o_files(app), identity)
    assert len(problems) == 2
    assert "libunsigned.dylib: " in problems[1] and "not signed at all" in problems[1]
    assert "libadhoc.dylib: not signed by Developer ID" in problems[0]
    # Without an identity (a local, ad hoc build) only the signatures' validity counts.
    adhoc_only = release_macos.signature_problems(release_macos.mach_o_files(app), None)
    assert [p.split(":")[0] for p in adhoc_only] == [
        str(app / "Contents/Frameworks/libunsigned.dylib")
    ]
