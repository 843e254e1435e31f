"""Linux release: a portable tarball and a .deb (/opt/lanterne, /usr/bin/lanterne, desktop
entry, icons, AppStream metadata, example policy), built and verified on this machine by
tests/test_release.py."""

from __future__ import annotations

import datetime
import platform
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Sequence
from pathlib import Path

from release_steps import log, run

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
APP_ID = "org.lanterne.Lanterne"


def glibc_floor(bundle: Path) -> tuple[int, int]:
    """The newest GLIBC symbol version any library in the bundle needs: the .deb's libc6
    dependency, so that dpkg refuses a system too old instead of the app failing to start."""
    newest = (2, 17)
    for path in bundle.rglob("*"):
        if not path.is_file() or path.is_symlink() or not _is_elf(path):
            continue
        dynamic = subprocess.run(["objdump", "-T", str(path)], capture_output=True, text=True)
        for major, minor in re.findall(r"GLIBC_(\d+)\.(\d+)", dynamic.stdout):
            newest = max(newest, (int(major), int(minor)))
    return newest


def _is_elf(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) == b"\x7fELF"


def linux_packages(
    bundle: Path,
    out: Path,
    ver: str,
    icons: dict[str, Path],
    qt_packages: Sequence[str],
) -> list[Path]:
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    tarball = out / f"lanterne-{ver}-linux-{platform.machine()}.tar.gz"
    log(f"writing {tarball.name}")
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(bundle, arcname=f"lanterne-{ver}")
    deb = out / f"lanterne_{ver}_{arch}.deb"
    log(f"writing {deb.name}")
    with tempfile.TemporaryDirectory(prefix="lanterne-deb-") as tmp:
        root = Path(tmp) / "root"
        shutil.copytree(bundle, root / "opt" / "lanterne", symlinks=True)
        (root / "usr" / "bin").mkdir(parents=True)
        (root / "usr" / "bin" / "lanterne").symlink_to("/opt/lanterne/lanterne")
        share = root / "usr" / "share"
        linux = HERE / "linux"
        _install(linux / f"{APP_ID}.desktop", share / "applications" / f"{APP_ID}.desktop")
        hicolor = share / "icons" / "hicolor"
        _install(ROOT / "assets" / "lanterne.svg", hicolor / "scalable" / "apps" / f"{APP_ID}.svg")
        for name, png in icons.items():
            if name.startswith("png-"):
                size = name.removeprefix("png-")
                _install(png, hicolor / f"{size}x{size}" / "apps" / f"{APP_ID}.png")
        metainfo = (linux / f"{APP_ID}.metainfo.xml.in").read_text(encoding="utf-8")
        metainfo = metainfo.replace("{version}", ver).replace(
            "{date}", datetime.date.today().isoformat()
        )
        (share / "metainfo").mkdir(parents=True)
        (share / "metainfo" / f"{APP_ID}.metainfo.xml").write_text(metainfo, encoding="utf-8")
        docs = share / "doc" / "lanterne"
        _install(HERE / "policy" / "policy.toml", docs / "examples" / "policy.toml")
        _install(linux / "copyright", docs / "copyright")
        control = root / "DEBIAN"
        control.mkdir()
        size_kb = sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) // 1024
        major, minor = glibc_floor(bundle)
        depends = [f"libc6 (>= {major}.{minor})", *qt_packages]
        (control / "control").write_text(
            "\n".join(
                [
                    "Package: lanterne",
                    f"Version: {ver}",
                    "Section: utils",
                    "Priority: optional",
                    f"Architecture: {arch}",
                    "Maintainer: Lanterne <packaging@lanterne.invalid>",
                    f"Installed-Size: {size_kb}",
                    f"Depends: {', '.join(depends)}",
                    "Description: private French/English document assistant",
                    " Lanterne answers questions from your own folders with a language model",
                    " running on this computer, citing its sources. Nothing leaves the machine.",
                    "",
                ]
            ),
            encoding="utf-8",
        )
        run("appstreamcli", "validate", "--no-net", share / "metainfo" / f"{APP_ID}.metainfo.xml")
        run("dpkg-deb", "--root-owner-group", "-Zxz", "--build", root, deb)
    return [tarball, deb]


def _install(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)
