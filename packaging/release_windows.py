"""Windows release: Authenticode-signed executables inside an MSI per language (WiX Toolset 5,
packaging/windows/lanterne.wxs), each MSI signed too.

Run by build_release.py on Windows (CI: windows-2022, with `dotnet tool install --global wix`
and the UI extension, see .github/workflows/release.yml). Written against the documentation of
WiX 5 (`wix build`, the Files element, WixUI_Advanced) and of signtool; not run on Windows by us
yet (see packaging/README.md, "Verified where").

Signing certificate, from the environment (CI secrets):
- LANTERNE_WINDOWS_CERT_PFX: a .pfx file, with LANTERNE_WINDOWS_CERT_PASSWORD; or
- LANTERNE_WINDOWS_CERT_SHA1: the thumbprint of a certificate in the user's store (a hardware
  token or a cloud HSM's provider).
LANTERNE_TIMESTAMP_URL: the RFC 3161 time-stamp server (DigiCert's by default), so that
signatures outlive the certificate. Without a certificate the files are left unsigned, with a
warning; `--require-signing` makes it an error.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from release_steps import ReleaseError, log, run

HERE = Path(__file__).resolve().parent
WXS = HERE / "windows" / "lanterne.wxs"
CULTURES = ("en-US", "fr-FR")
WIX_UI = "WixToolset.UI.wixext"
TIMESTAMP_URL = "http://timestamp.digicert.com"


def msi_version(version: str) -> str:
    """Windows Installer versions are three numbers (major < 256, minor < 256, build < 65536);
    "1.2.3rc1" or "1.2.dev4" keep their leading numbers."""
    numbers = [int(n) for n in re.findall(r"\d+", version.split("+")[0])[:3]]
    numbers += [0] * (3 - len(numbers))
    if numbers[0] > 255 or numbers[1] > 255 or numbers[2] > 65535:
        raise ReleaseError(f"{version} does not fit a Windows Installer version")
    return ".".join(map(str, numbers))


def find_signtool() -> Path:
    """signtool ships with the Windows SDK, not on PATH: the newest x64 one."""
    found = shutil.which("signtool")
    if found:
        return Path(found)
    kits = Path(os.environ.get("PROGRAMFILES(X86)", r"C:\Program Files (x86)")) / "Windows Kits"
    candidates = sorted(kits.glob(r"10/bin/10.*/x64/signtool.exe"))
    if not candidates:
        raise ReleaseError("signtool.exe not found: install the Windows SDK")
    return candidates[-1]


def certificate_args() -> list[str] | None:
    pfx = os.environ.get("LANTERNE_WINDOWS_CERT_PFX")
    if pfx:
        args = ["/f", pfx]
        if os.environ.get("LANTERNE_WINDOWS_CERT_PASSWORD"):
            args += ["/p", os.environ["LANTERNE_WINDOWS_CERT_PASSWORD"]]
        return args
    thumbprint = os.environ.get("LANTERNE_WINDOWS_CERT_SHA1")
    if thumbprint:
        return ["/sha1", thumbprint]
    return None


def sign(files: list[Path], description: str) -> None:
    """SHA-256 file digest, RFC 3161 time stamp with a SHA-256 digest, then verified against
    the Authenticode policy (/pa)."""
    certificate = certificate_args()
    assert certificate is not None
    signtool = find_signtool()
    url = os.environ.get("LANTERNE_TIMESTAMP_URL", TIMESTAMP_URL)
    run(signtool, "sign", *certificate, "/fd", "SHA256", "/tr", url, "/td", "SHA256",
        "/d", description, *files)  # fmt: skip
    run(signtool, "verify", "/pa", *files)


def own_binaries(bundle: Path) -> list[Path]:
    """What we build and must sign: the two executables and llama.cpp's DLLs. Python's and
    Qt's DLLs come signed by their publishers."""
    files = [bundle / "lanterne.exe", bundle / "lanterne-gui.exe"]
    files += sorted((bundle / "_internal").glob("llama_cpp/lib/*.dll"))
    missing = [f for f in files[:2] if not f.exists()]
    if missing:
        raise ReleaseError(f"the frozen app lacks {missing}")
    return files


def windows_packages(
    bundle: Path,
    out: Path,
    version: str,
    icons: dict[str, Path],
    require_signing: bool,
) -> list[Path]:
    signing = certificate_args() is not None
    if not signing:
        if require_signing:
            raise ReleaseError(
                "signing required but no certificate: set LANTERNE_WINDOWS_CERT_PFX (and "
                "LANTERNE_WINDOWS_CERT_PASSWORD) or LANTERNE_WINDOWS_CERT_SHA1"
            )
        log("no code-signing certificate: the executables and the MSI are not signed "
            "(SmartScreen will warn users)")  # fmt: skip
    else:
        sign(own_binaries(bundle), "Lanterne")

    wix = shutil.which("wix")
    if wix is None:
        raise ReleaseError("wix not found: dotnet tool install --global wix")
    msis = []
    for culture in CULTURES:
        msi = out / f"Lanterne-{version}-windows-x64-{culture}.msi"
        log(f"writing {msi.name}")
        run(wix, "build", WXS, "-arch", "x64", "-culture", culture,
            *[arg for c in CULTURES for arg in ("-loc", HERE / "windows" / f"lanterne.{c}.wxl")],
            "-ext", WIX_UI,
            "-bindpath", f"Bundle={bundle}",
            "-d", f"Version={msi_version(version)}",
            "-d", f"IconFile={icons['ico']}",
            "-d", f"LicenseRtf={HERE / 'windows' / 'License.rtf'}",
            "-o", msi)  # fmt: skip
        msis.append(msi)
    if signing:
        sign(msis, "Lanterne installer")
    return msis
