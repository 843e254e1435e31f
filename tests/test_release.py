"""The Linux release, built and verified here: `packaging/build_release.py` freezes the app,
smoke-tests it and writes the tarball, the .deb and the signed SHA256SUMS; the .deb is then
installed with dpkg, run (version and a headless ask), and removed without leftovers."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [
    pytest.mark.release,
    pytest.mark.skipif(sys.platform != "linux", reason="the Linux packages are built on Linux"),
]


@pytest.fixture(scope="module")
def gnupg(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A throwaway signing key in its own GnuPG home."""
    home = tmp_path_factory.mktemp("gnupg")
    home.chmod(0o700)
    env = {**os.environ, "GNUPGHOME": str(home)}
    subprocess.run(
        ["gpg", "--batch", "--passphrase", "", "--quick-gen-key",
         "Release Test <rt@lanterne.invalid>", "ed25519", "sign", "1d"],
        check=True, capture_output=True, env=env,
    )  # fmt: skip
    return env


@pytest.fixture(scope="module")
def release(
    tmp_path_factory: pytest.TempPathFactory, gnupg: dict[str, str], gemma_model: Path
) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("dist")
    # The environment's llama.cpp as it is (CI builds the default one; a CPU-dispatch build is
    # what `build_release.py` without this flag insists on, and what releases are made with).
    built = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "build_release.py"), "--out", str(out),
         "--allow-native-llama", "--gpg-key", "rt@lanterne.invalid", "--model", str(gemma_model)],
        capture_output=True, text=True, env=gnupg, timeout=1500,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-4000:]
    yield out
    shutil.rmtree(out / "bundle", ignore_errors=True)


@pytest.mark.timeout(1800)
def test_release_artefacts_are_checksummed_and_signed(release: Path, gnupg: dict[str, str]) -> None:
    report = json.loads((release / "release.json").read_text())
    assert report["catalogs"] == ["fr"] and report["qt_french"]
    assert report["smoke"]["citations"] >= 1
    names = set(report["artefacts"])
    assert {"SHA256SUMS", "SHA256SUMS.asc"} <= names
    listed = {}
    for line in (release / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ")
        listed[name] = digest
    assert {n for n in names if n.endswith((".deb", ".tar.gz"))} == set(listed)
    for name, digest in listed.items():
        assert hashlib.sha256((release / name).read_bytes()).hexdigest() == digest
    verified = subprocess.run(
        ["gpg", "--verify", str(release / "SHA256SUMS.asc"), str(release / "SHA256SUMS")],
        capture_output=True, text=True, env=gnupg,
    )  # fmt: skip
    assert verified.returncode == 0 and "Good signature" in verified.stderr
    tampered = release / "tampered"
    tampered.write_text((release / "SHA256SUMS").read_text() + "0" * 64 + "  extra.deb\n")
    rejected = subprocess.run(
        ["gpg", "--verify", str(release / "SHA256SUMS.asc"), str(tampered)],
        capture_output=True, text=True, env=gnupg,
    )  # fmt: skip
    assert rejected.returncode != 0


@pytest.mark.timeout(1800)
def test_the_deb_installs_runs_and_uninstalls_cleanly(
    release: Path, tmp_path: Path, gemma_model: Path
) -> None:
    (deb,) = release.glob("lanterne_*.deb")
    info = subprocess.run(["dpkg-deb", "--info", str(deb)], capture_output=True, text=True)
    assert "Package: lanterne" in info.stdout and "libxcb-cursor0" in info.stdout
    if os.geteuid() != 0:  # no root: unpack where dpkg would install, and run from there
        root = tmp_path / "root"
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
        command = root / "opt" / "lanterne" / "lanterne"
    else:
        installed = subprocess.run(["dpkg", "-i", str(deb)], capture_output=True, text=True)
        assert installed.returncode == 0, installed.stderr
        root, command = Path("/"), Path("/usr/bin/lanterne")
    try:
        for shipped in (
            "usr/share/applications/org.lanterne.Lanterne.desktop",
            "usr/share/metainfo/org.lanterne.Lanterne.metainfo.xml",
            "usr/share/icons/hicolor/scalable/apps/org.lanterne.Lanterne.svg",
            "usr/share/doc/lanterne/examples/policy.toml",
        ):
            assert (root / shipped).is_file(), shipped
        env = {**os.environ, "LANTERNE_HOME": str(tmp_path / "home"), "LANGUAGE": "en"}
        shown = subprocess.run([str(command), "--version"], capture_output=True, text=True, env=env)
        assert shown.returncode == 0 and shown.stdout.startswith("lanterne ") and not shown.stderr
        docs = tmp_path / "docs"
        docs.mkdir()
        (docs / "backups.txt").write_text("Backups run nightly at 2 am to the NAS on floor 2.\n")
        added = subprocess.run(
            [str(command), "index", "add", str(docs), "--json"],
            capture_output=True, text=True, env=env, timeout=300,
        )  # fmt: skip
        assert added.returncode == 0 and json.loads(added.stdout)["indexed"] == 1
        asked = subprocess.run(
            [str(command), "ask", "When do backups run?", "--model", str(gemma_model), "--json"],
            capture_output=True, text=True, env=env, timeout=600,
        )  # fmt: skip
        assert asked.returncode == 0 and asked.stderr == ""
        answer = json.loads(asked.stdout)
        assert answer["answer"].strip() and answer["citations"]
    finally:
        if os.geteuid() == 0:
            removed = subprocess.run(["dpkg", "-r", "lanterne"], capture_output=True, text=True)
            assert removed.returncode == 0, removed.stderr
    if os.geteuid() == 0:
        assert not Path("/opt/lanterne").exists() and not Path("/usr/bin/lanterne").exists()
        assert not Path("/usr/share/applications/org.lanterne.Lanterne.desktop").exists()
