"""Windows release: every executable file of the frozen app Authenticode-signed, inside an MSI
per language (WiX Toolset 5, packaging/windows/lanterne.wxs), each MSI signed too.

Run by build_release.py on Windows (CI: windows-2022, with `dotnet tool install --global wix`
and the UI and Util extensions, see .github/workflows/release.yml). Written against the
documentation of WiX 5 (`wix build`, the Files element, WixUI_Advanced, WixQuietExec) and of
signtool; not run on Windows by us yet (see packaging/README.md, "Verified where").

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
import shutil
from pathlib import Path

from release_steps import ReleaseError, log, run
from windows_version import msi_version

HERE = Path(__file__).resolve().parent
WXS = HERE / "windows" / "lanterne.wxs"
CULTURES = ("en-US", "fr-FR")
# The dialogs (WixUI_Advanced) and the quiet command that removes the autostart entry.
WIX_EXTENSIONS = ("WixToolset.UI.wixext", "WixToolset.Util.wixext")
TIMESTAMP_URL = "http://timestamp.digicert.com"
SIGNED_SUFFIXES = (".exe", ".dll", ".pyd")  # code Windows loads, that WDAC and AppLocker check
SIGN_BATCH = 40  # files per signtool call: a Windows command line holds 32,767 characters

__all__ = ["files_to_sign", "msi_version", "windows_packages"]


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


def sign(files: list[Path], description: str, append: bool = False) -> None:
    """SHA-256 file digest, RFC 3161 time stamp with a SHA-256 digest, then every signature
    verified against the Authenticode policy (/pa /all). `append` (/as, executables only): a
    file its publisher signed (Python, Qt, the Visual C++ runtime) keeps that signature and
    gains ours; an unsigned one gets ours as its only one."""
    certificate = certificate_args()
    assert certificate is not None
    signtool = find_signtool()
    url = os.environ.get("LANTERNE_TIMESTAMP_URL", TIMESTAMP_URL)
    nested = ["/as"] if append else []
    for start in range(0, len(files), SIGN_BATCH):
        batch = files[start : start + SIGN_BATCH]
        run(signtool, "sign", *certificate, *nested, "/fd", "SHA256", "/tr", url,
            "/td", "SHA256", "/d", description, *batch)  # fmt: skip
        run(signtool, "verify", "/pa", "/all", *batch)


def files_to_sign(bundle: Path) -> list[Path]:
    """Every executable file the MSI ships: the two executables, and every DLL and Python
    extension (.pyd) under _internal, whoever built it. Machines that allow only signed code
    (WDAC, AppLocker DLL rules) refuse to load any one left unsigned."""
    files = sorted(
        path
        for path in bundle.rglob("*")
        if path.suffix.lower() in SIGNED_SUFFIXES and path.is_file() and not path.is_symlink()
    )
    missing = [name for name in ("lanterne.exe", "lanterne-gui.exe") if bundle / name not in files]
    if missing:
        raise ReleaseError(f"the frozen app lacks {', '.join(missing)}")
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
        files = files_to_sign(bundle)
        log(f"signing {len(files)} executable files")
        sign(files, "Lanterne", append=True)

    wix = shutil.which("wix")
    if wix is None:
        raise ReleaseError("wix not found: dotnet tool install --global wix")
    msis = []
    for culture in CULTURES:
        msi = out / f"Lanterne-{version}-windows-x64-{culture}.msi"
        log(f"writing {msi.name}")
        run(wix, "build", WXS, "-arch", "x64", "-culture", culture,
            *[arg for c in CULTURES for arg in ("-loc", HERE / "windows" / f"lanterne.{c}.wxl")],
            *[arg for extension in WIX_EXTENSIONS for arg in ("-ext", extension)],
            "-bindpath", f"Bundle={bundle}",
            "-d", f"Version={msi_version(version)}",
            "-d", f"IconFile={icons['ico']}",
            "-d", f"LicenseRtf={HERE / 'windows' / 'License.rtf'}",
            "-o", msi)  # fmt: skip
        msis.append(msi)
    if signing:
        sign(msis, "Lanterne installer")
    return msis
