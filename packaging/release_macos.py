"""macOS release: Lanterne.app signed with the hardened runtime, notarized and stapled, then a
.dmg for people and a .pkg (a signed product archive) for MDM deployment.

Run by build_release.py on a Mac with Xcode's command line tools (CI: macos-14, Apple
Silicon). Written against the man pages of codesign, notarytool, stapler, hdiutil, pkgbuild
and productbuild; not run on a Mac by us yet (see packaging/README.md, "Verified where").

Environment (CI secrets):
- LANTERNE_MACOS_SIGN_IDENTITY: "Developer ID Application: Org (TEAMID)", in the keychain.
  PyInstaller signs every binary with it, inside out, with the hardened runtime and
  packaging/macos/entitlements.plist (lanterne.spec), then this module checks the result:
  every Mach-O file in the .app, found by its header whatever its name or folder, carries a
  valid signature (and, for distribution, ours with a secure time stamp), since notarization
  refuses an archive with a single unsigned one.
- LANTERNE_MACOS_INSTALLER_IDENTITY: "Developer ID Installer: Org (TEAMID)", for the .pkg.
- Notarization: LANTERNE_NOTARY_PROFILE (stored with `xcrun notarytool store-credentials`),
  or APPLE_ID, APPLE_TEAM_ID and APPLE_APP_PASSWORD (an app-specific password).
Without them the app is signed ad hoc and nothing is notarized: fine on the build Mac,
refused by Gatekeeper elsewhere; `--require-signing` turns that into an error.

Info.plist decisions:
- LSUIElement false: Lanterne is a regular app with a Dock icon and a menu bar; closing its
  window leaves it in the menu-bar extra (the tray), like Mail or Music.
- No accessibility or input-monitoring usage strings: Lanterne does not tap the keyboard or
  script other apps. On macOS the quick-ask shortcut is a system keyboard shortcut (Shortcuts
  app) running `lanterne quick-ask`, which needs no permission.
- Usage strings for the folders macOS protects (Documents, Desktop, Downloads, network and
  removable volumes), which users ask Lanterne to index, in English and French.
"""

from __future__ import annotations

import json
import os
import plistlib
import subprocess
import tempfile
from pathlib import Path

from release_steps import ReleaseError, log, run

BUNDLE_ID = "org.lanterne.Lanterne"
PKG_ID = f"{BUNDLE_ID}.pkg"
MINIMUM_MACOS = "14.0"  # PySide6 6.12's wheels are built for macOS 14 and later
HERE = Path(__file__).resolve().parent
ENTITLEMENTS = HERE / "macos" / "entitlements.plist"

USAGE = {
    "en": {
        "NSDocumentsFolderUsageDescription": (
            "Lanterne reads the documents in the folders you choose, to answer your questions "
            "from them. Nothing leaves this Mac."
        ),
        "NSDesktopFolderUsageDescription": (
            "Lanterne reads the documents on your Desktop when you ask it to watch it. "
            "Nothing leaves this Mac."
        ),
        "NSDownloadsFolderUsageDescription": (
            "Lanterne reads the documents in Downloads when you ask it to watch that folder. "
            "Nothing leaves this Mac."
        ),
        "NSNetworkVolumesUsageDescription": (
            "Lanterne reads documents or a model on a network share when you choose one."
        ),
        "NSRemovableVolumesUsageDescription": (
            "Lanterne reads documents on an external drive when you ask it to watch one."
        ),
    },
    "fr": {
        "NSDocumentsFolderUsageDescription": (
            "Lanterne lit les documents des dossiers que vous choisissez, pour répondre à vos "
            "questions. Rien ne quitte ce Mac."
        ),
        "NSDesktopFolderUsageDescription": (
            "Lanterne lit les documents de votre bureau si vous lui demandez de le surveiller. "
            "Rien ne quitte ce Mac."
        ),
        "NSDownloadsFolderUsageDescription": (
            "Lanterne lit les documents de Téléchargements si vous lui demandez de surveiller "
            "ce dossier. Rien ne quitte ce Mac."
        ),
        "NSNetworkVolumesUsageDescription": (
            "Lanterne lit des documents ou un modèle sur un partage réseau si vous en "
            "choisissez un."
        ),
        "NSRemovableVolumesUsageDescription": (
            "Lanterne lit les documents d'un disque externe si vous lui demandez de le surveiller."
        ),
    },
}


def info_plist(version: str) -> dict[str, object]:
    """What lanterne.spec merges into PyInstaller's Info.plist (English usage strings; the
    French ones are in fr.lproj/InfoPlist.strings)."""
    return {
        "CFBundleIdentifier": BUNDLE_ID,
        "CFBundleName": "Lanterne",
        "CFBundleDisplayName": "Lanterne",
        "CFBundleExecutable": "lanterne",
        "CFBundleShortVersionString": version,
        "CFBundleVersion": version,
        "CFBundleDevelopmentRegion": "en",
        "CFBundleLocalizations": sorted(USAGE),  # system dialogs follow the app's languages
        "LSMinimumSystemVersion": MINIMUM_MACOS,
        "LSApplicationCategoryType": "public.app-category.productivity",
        "LSUIElement": False,
        "LSBackgroundOnly": False,
        "NSHighResolutionCapable": True,
        "NSRequiresAquaSystemAppearance": False,  # light and dark, as the system is set
        "NSHumanReadableCopyright": "© Lanterne",
        **USAGE["en"],
    }


def write_localized_strings(resources: Path) -> list[tuple[str, str]]:
    """<lang>.lproj/InfoPlist.strings for each language, as PyInstaller data entries (source,
    destination folder). Written as binary property lists, the form Xcode compiles them to."""
    entries = []
    for language, strings in USAGE.items():
        folder = resources / f"{language}.lproj"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "InfoPlist.strings"
        path.write_bytes(plistlib.dumps(strings, fmt=plistlib.FMT_BINARY))
        entries.append((str(path), f"{language}.lproj"))
    return entries


def component_plist() -> list[dict[str, object]]:
    """pkgbuild's component property list: the app goes to /Applications and stays there
    (not relocatable, so an upgrade cannot land in a copy the user moved or renamed)."""
    return [
        {
            "RootRelativeBundlePath": "Lanterne.app",
            "BundleIsRelocatable": False,
            "BundleIsVersionChecked": True,
            "BundleHasStrictIdentifier": True,
            "BundleOverwriteAction": "upgrade",
        }
    ]


# Mach-O headers: thin 32- and 64-bit in either byte order, and universal ("fat") files,
# whose magic Java class files share; a fat header then gives a small architecture count,
# a class file its version (45 and up).
THIN_MAGICS = {bytes.fromhex(m) for m in ("feedface", "cefaedfe", "feedfacf", "cffaedfe")}
FAT_MAGICS = {bytes.fromhex(m) for m in ("cafebabe", "cafebabf")}
MAX_FAT_ARCHS = 20


def is_mach_o(path: Path) -> bool:
    with path.open("rb") as file:
        head = file.read(8)
    if head[:4] in THIN_MAGICS:
        return True
    return head[:4] in FAT_MAGICS and 0 < int.from_bytes(head[4:8], "big") < MAX_FAT_ARCHS


def mach_o_files(root: Path) -> list[Path]:
    """Every Mach-O file under root (executables, dylibs, Python extensions, frameworks'
    binaries), once each: symbolic links, which frameworks are full of, are skipped."""
    return sorted(
        path
        for path in root.rglob("*")
        if path.is_file() and not path.is_symlink() and is_mach_o(path)
    )


def signature_problems(files: list[Path], identity: str | None) -> list[str]:
    """Each file checked as notarization will: a valid signature, and with an identity, that
    identity's, with a secure time stamp. An empty list when all is well."""
    problems = []
    for path in files:
        verified = subprocess.run(
            ["codesign", "--verify", "--strict", str(path)], capture_output=True, text=True
        )
        if verified.returncode != 0:
            problems.append(f"{path}: {verified.stderr.strip() or 'not signed'}")
        elif identity:
            shown = subprocess.run(
                ["codesign", "--display", "--verbose=2", str(path)],
                capture_output=True,
                text=True,
            )
            if f"Authority={identity}" not in shown.stderr or "Timestamp=" not in shown.stderr:
                problems.append(f"{path}: not signed by {identity} with a secure time stamp")
    return problems


POSTINSTALL = """#!/bin/sh
# The command line for scripts and `lanterne quick-ask` shortcuts, on every user's PATH.
mkdir -p /usr/local/bin
ln -sf "/Applications/Lanterne.app/Contents/MacOS/lanterne" /usr/local/bin/lanterne
exit 0
"""


def notary_auth() -> list[str] | None:
    profile = os.environ.get("LANTERNE_NOTARY_PROFILE")
    if profile:
        return ["--keychain-profile", profile]
    names = ("APPLE_ID", "APPLE_TEAM_ID", "APPLE_APP_PASSWORD")
    if all(os.environ.get(n) for n in names):
        return [
            "--apple-id",
            os.environ["APPLE_ID"],
            "--team-id",
            os.environ["APPLE_TEAM_ID"],
            "--password",
            os.environ["APPLE_APP_PASSWORD"],
        ]
    return None


def macos_packages(
    app: Path,
    out: Path,
    version: str,
    require_signing: bool,
) -> list[Path]:
    app_identity = os.environ.get("LANTERNE_MACOS_SIGN_IDENTITY")
    installer_identity = os.environ.get("LANTERNE_MACOS_INSTALLER_IDENTITY")
    auth = notary_auth()
    missing = [
        name
        for name, value in (
            ("LANTERNE_MACOS_SIGN_IDENTITY", app_identity),
            ("LANTERNE_MACOS_INSTALLER_IDENTITY", installer_identity),
            ("LANTERNE_NOTARY_PROFILE or APPLE_ID/APPLE_TEAM_ID/APPLE_APP_PASSWORD", auth),
        )
        if not value
    ]
    if missing and require_signing:
        raise ReleaseError(f"signing required but not configured: {', '.join(missing)}")
    if missing:
        log(f"not signed for distribution (missing {', '.join(missing)}): Gatekeeper will "
            "refuse these files on other Macs")  # fmt: skip

    # PyInstaller signed every binary and the bundle (lanterne.spec); check it as Gatekeeper
    # will: the whole tree, strictly, and the hardened runtime on the main executable.
    run("codesign", "--verify", "--deep", "--strict", "--verbose=2", app)
    binaries = mach_o_files(app)
    problems = signature_problems(binaries, app_identity)
    if problems:
        raise ReleaseError("unsigned or wrongly signed code in the app:\n" + "\n".join(problems))
    log(f"{len(binaries)} Mach-O files signed")
    if app_identity:
        shown = subprocess.run(
            ["codesign", "--display", "--verbose=2", str(app)], capture_output=True, text=True
        )
        if "runtime" not in shown.stderr:  # codesign prints flags=0x10000(runtime)
            raise ReleaseError(f"the hardened runtime is not on:\n{shown.stderr}")

    if auth:
        with tempfile.TemporaryDirectory(prefix="lanterne-notary-") as tmp:
            archive = Path(tmp) / "Lanterne.zip"
            run("ditto", "-c", "-k", "--keepParent", app, archive)  # notarytool takes a zip
            _notarize(archive, auth)
        run("xcrun", "stapler", "staple", app)  # the ticket travels with the app, offline

    dmg = _dmg(app, out, version, app_identity)
    pkg = _pkg(app, out, version, installer_identity)
    if auth:
        for artefact in (dmg, pkg):
            _notarize(artefact, auth)
            run("xcrun", "stapler", "staple", artefact)
        run("spctl", "--assess", "--type", "execute", "--verbose", app)
        run("spctl", "--assess", "--type", "install", "--verbose", pkg)
    return [dmg, pkg]


def _notarize(path: Path, auth: list[str]) -> None:
    log(f"notarizing {path.name} (waits for Apple's answer)")
    answer = json.loads(
        run("xcrun", "notarytool", "submit", path, *auth, "--wait", "--output-format", "json")
    )
    if answer.get("status") != "Accepted":
        details = run("xcrun", "notarytool", "log", answer.get("id", ""), *auth)
        raise ReleaseError(f"notarization of {path.name}: {answer.get('status')}\n{details}")


def _dmg(app: Path, out: Path, version: str, identity: str | None) -> Path:
    dmg = out / f"Lanterne-{version}-macos-arm64.dmg"
    with tempfile.TemporaryDirectory(prefix="lanterne-dmg-") as tmp:
        staging = Path(tmp) / "Lanterne"
        staging.mkdir()
        run("ditto", app, staging / app.name)  # ditto keeps signatures and extended attributes
        (staging / "Applications").symlink_to("/Applications")  # drag here to install
        run("hdiutil", "create", "-volname", "Lanterne", "-srcfolder", staging,
            "-fs", "HFS+", "-format", "UDZO", "-ov", dmg)  # fmt: skip
    if identity:
        run("codesign", "--force", "--timestamp", "--sign", identity, dmg)
    return dmg


def _pkg(app: Path, out: Path, version: str, identity: str | None) -> Path:
    pkg = out / f"Lanterne-{version}-macos-arm64.pkg"
    with tempfile.TemporaryDirectory(prefix="lanterne-pkg-") as tmp:
        root, scripts = Path(tmp) / "root", Path(tmp) / "scripts"
        root.mkdir()
        scripts.mkdir()
        run("ditto", app, root / app.name)
        components = Path(tmp) / "components.plist"
        components.write_bytes(plistlib.dumps(component_plist()))
        postinstall = scripts / "postinstall"
        postinstall.write_text(POSTINSTALL, encoding="utf-8")
        postinstall.chmod(0o755)
        component = Path(tmp) / "Lanterne-component.pkg"
        run("pkgbuild", "--root", root, "--component-plist", components,
            "--identifier", PKG_ID, "--version", version,
            "--install-location", "/Applications", "--scripts", scripts, component)  # fmt: skip
        # MDM (InstallEnterpriseApplication) wants a signed product archive, not a component.
        signing = ["--sign", identity, "--timestamp"] if identity else []
        run("productbuild", "--package", component, *signing, pkg)
    if identity:
        run("pkgutil", "--check-signature", pkg)
    return pkg
