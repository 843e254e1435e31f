"""Windows version numbers from the project's PEP 440 version, kept in order.

Windows Installer compares three numbers (major < 256, minor < 256, build < 65536) to decide
what is an upgrade, and refuses a downgrade: taking the leading numbers of "1.2.dev4" (1.2.4)
would refuse 1.2.0 to 1.2.3 later, and "0.2.0rc1" and "0.2.0" would be the same version. The
build number therefore holds the patch and the release stage: build = patch * 1000 + stage,
where stage orders as PEP 440 does:

    dev N   0 + N     (N < 200)       1.2.3.dev4 -> 1.2.3004
    a N     200 + N   (N < 200)       1.2.3a1    -> 1.2.3201
    b N     400 + N   (N < 200)       1.2.3b2    -> 1.2.3402
    rc N    600 + N   (N < 200)       1.2.3rc1   -> 1.2.3601
    final   800                       1.2.3      -> 1.2.3800
    post N  801 + N   (N < 199)       1.2.3.post1 -> 1.2.3802

so patch numbers go up to 64. What cannot fit is refused, not rounded: an epoch, four release
numbers, and the combined forms (a pre-release's dev or post release, a post release's dev
release). The local label (+abc) is dropped: builds that differ only there share a version,
and the MSI allows same-version upgrades, so the later replaces the earlier.

The executables' version resource (PyInstaller's `version=`) carries the same numbers as
major.minor.patch.stage, and the full PEP 440 version as text.
"""

from __future__ import annotations

from pathlib import Path

from packaging.version import InvalidVersion, Version
from release_steps import ReleaseError

COMPANY = "Lanterne"
PRODUCT = "Lanterne"
COPYRIGHT = "© Lanterne"
STAGE_WIDTH = 200  # numbers each pre-release stage may use
STAGE_BASE = {"dev": 0, "a": 200, "b": 400, "rc": 600}
FINAL = 800
MAX_POST = 998 - FINAL  # post N uses FINAL + 1 + N, which stays below 1000
MAX_PATCH = 64  # 64 * 1000 + 999 < 65536


def parse(version: str) -> Version:
    try:
        return Version(version)
    except InvalidVersion as exc:
        raise ReleaseError(f"{version!r} is not a PEP 440 version") from exc


def stage_number(parsed: Version) -> int:
    """Where a version falls among its patch's releases (0 to 999), in PEP 440 order."""
    text = str(parsed)
    forms = [form for form in (parsed.pre, parsed.post, parsed.dev) if form is not None]
    if len(forms) > 1:
        raise ReleaseError(
            f"{text} combines release stages; Windows versions take one of "
            "devN, aN, bN, rcN or postN after the release numbers"
        )
    if parsed.pre is not None:
        kind, number = parsed.pre
        base = STAGE_BASE[kind]
    elif parsed.dev is not None:
        base, number = STAGE_BASE["dev"], parsed.dev
    elif parsed.post is not None:
        if parsed.post > MAX_POST:
            raise ReleaseError(f"{text}: post releases go up to post{MAX_POST} on Windows")
        return FINAL + 1 + parsed.post
    else:
        return FINAL
    if number >= STAGE_WIDTH:
        raise ReleaseError(f"{text}: stage numbers go up to {STAGE_WIDTH - 1} on Windows")
    return base + number


def version_numbers(version: str) -> tuple[int, int, int, int]:
    """major, minor, patch, stage; refuses what a Windows version cannot hold."""
    parsed = parse(version)
    if parsed.epoch:
        raise ReleaseError(f"{version}: Windows versions have no epoch")
    if len(parsed.release) > 3:
        raise ReleaseError(f"{version}: Windows versions take at most three release numbers")
    major, minor, patch = (*parsed.release, 0, 0)[:3]
    if major > 255 or minor > 255 or patch > MAX_PATCH:
        raise ReleaseError(
            f"{version} does not fit a Windows Installer version "
            f"(major and minor up to 255, patch up to {MAX_PATCH})"
        )
    return major, minor, patch, stage_number(parsed)


def msi_version(version: str) -> str:
    """The MSI ProductVersion: major.minor.(patch * 1000 + stage)."""
    major, minor, patch, stage = version_numbers(version)
    return f"{major}.{minor}.{patch * 1000 + stage}"


def version_info_text(version: str, file_name: str, description: str) -> str:
    """A version resource in the text form PyInstaller reads (`EXE(version=<file>)`): what
    Explorer's Details tab, Task Manager and allow-listing rules (WDAC, AppLocker) show."""
    numbers = version_numbers(version)
    strings = {
        "CompanyName": COMPANY,
        "FileDescription": description,
        "FileVersion": version,
        "InternalName": Path(file_name).stem,
        "LegalCopyright": COPYRIGHT,
        "OriginalFilename": file_name,
        "ProductName": PRODUCT,
        "ProductVersion": version,
    }
    # ascii(): the file stays ASCII whatever the text, and reads back the same when evaluated.
    structs = ",\n".join(
        f"          StringStruct({name!a}, {value!a})" for name, value in strings.items()
    )
    return (
        "# Version resource of a Lanterne executable (packaging/windows_version.py).\n"
        "VSVersionInfo(\n"
        "  ffi=FixedFileInfo(\n"
        f"    filevers={numbers},\n"
        f"    prodvers={numbers},\n"
        "    mask=0x3f,\n"
        f"    flags={0x0 if numbers[3] >= FINAL else 0x2},\n"  # VS_FF_PRERELEASE
        "    OS=0x40004,\n"  # VOS_NT_WINDOWS32
        "    fileType=0x1,\n"  # VFT_APP
        "    subtype=0x0,\n"
        "    date=(0, 0)\n"
        "  ),\n"
        "  kids=[\n"
        "    StringFileInfo([\n"
        "      StringTable(\n"
        "        '040904B0',\n"  # U.S. English, Unicode
        "        [\n"
        f"{structs}\n"
        "        ])\n"
        "    ]),\n"
        "    VarFileInfo([VarStruct('Translation', [1033, 1200])])\n"
        "  ]\n"
        ")\n"
    )


def write_version_file(folder: Path, version: str, file_name: str, description: str) -> Path:
    """Writes the version resource of one executable, for the spec's `EXE(version=...)`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{Path(file_name).stem}-version.txt"
    path.write_text(version_info_text(version, file_name, description), encoding="ascii")
    return path
