"""Build llama.cpp's own tools (`llama-bench`, `llama-embedding`) from the llama.cpp that
llama-cpp-python vendors.

    .venv/bin/python bench/llama_bench_build.py [--target llama-embedding] [--rebuild]

`engine_vs_llama_bench.py` calls `ensure_llama_bench()`, `embedding_speed.py` calls
`ensure_llama_tool("llama-embedding")`; run this file alone to build (or find) a binary and print
its path. The reference must be the *same* llama.cpp as the one Lanterne
runs in-process, so the source is the PyPI sdist of the installed llama-cpp-python version
(`vendor/llama.cpp` inside it), and the flags are those the installed build was made with:
pip builds the sdist with scikit-build-core and no CMAKE_ARGS (see `dev.py`), and the sdist's
CMakeLists.txt sets shared libraries, the common library and no curl. So: Release (`-O3`),
`BUILD_SHARED_LIBS=ON`, `GGML_NATIVE=ON` (`-march=native`, llama.cpp's default), OpenMP on
(llama.cpp's default; the installed `libggml-cpu.so` links libgomp), Ninja when present
(scikit-build-core's choice). Only the requested target is built (the libraries are shared).

Everything lives in ~/.cache/lanterne-bench/llama-bench-<version>/ (never in the repository):
the sdist, its extracted source, the build tree, and `build-info-<target>.json` with the build
time.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tarfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import llama_cpp

VERSION: str = llama_cpp.__version__
CACHE = Path.home() / ".cache" / "lanterne-bench" / f"llama-bench-{VERSION}"
SDIST_NAME = f"llama_cpp_python-{VERSION}.tar.gz"

CMAKE_FLAGS = (
    "-DCMAKE_BUILD_TYPE=Release",
    "-DBUILD_SHARED_LIBS=ON",
    "-DLLAMA_BUILD_COMMON=ON",
    "-DLLAMA_BUILD_TOOLS=ON",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=ON",  # llama-embedding is an example; only asked targets build
    "-DLLAMA_BUILD_SERVER=OFF",
    "-DLLAMA_CURL=OFF",
    "-DGGML_NATIVE=ON",
    "-DGGML_OPENMP=ON",
)


@dataclass(frozen=True)
class BuildInfo:
    version: str
    binary: str
    build_seconds: float
    configure_seconds: float
    jobs: int
    generator: str
    cmake_flags: list[str]
    built_at: str

    @classmethod
    def read(cls, path: Path) -> BuildInfo:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(**data)


def say(message: str) -> None:
    print(f"[llama-bench build] {message}", file=sys.stderr, flush=True)


def run(cmd: list[str], cwd: Path | None = None) -> None:
    say("$ " + " ".join(cmd))
    subprocess.run(cmd, cwd=cwd, check=True)


def get_sdist(given: Path | None = None) -> Path:
    """The sdist given on the command line, or the cached one, or a fresh `pip download`."""
    for candidate in (given, CACHE / SDIST_NAME):
        if candidate is not None and candidate.is_file():
            say(f"sdist: {candidate}")
            return candidate
    if given is not None:
        raise SystemExit(f"no such sdist: {given}")
    CACHE.mkdir(parents=True, exist_ok=True)
    say(f"downloading the llama-cpp-python {VERSION} sdist from PyPI")
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            f"llama-cpp-python=={VERSION}",
            "-d",
            str(CACHE),
        ]
    )
    found = CACHE / SDIST_NAME
    if not found.is_file():
        raise SystemExit(f"pip download did not produce {found}")
    return found


def extract(sdist: Path) -> Path:
    source = CACHE / "src"
    tree = source / f"llama_cpp_python-{VERSION}"
    if (tree / "vendor" / "llama.cpp" / "CMakeLists.txt").is_file():
        say(f"source already extracted: {tree}")
        return tree
    say(f"extracting {sdist.name} into {source}")
    source.mkdir(parents=True, exist_ok=True)
    with tarfile.open(sdist) as archive:
        archive.extractall(source, filter="data")
    if not (tree / "vendor" / "llama.cpp" / "CMakeLists.txt").is_file():
        raise SystemExit(f"{sdist} has no vendor/llama.cpp")
    return tree


def binary_path(target: str = "llama-bench") -> Path:
    return CACHE / "build" / "bin" / target


def ensure_llama_bench(
    *, rebuild: bool = False, jobs: int = 2, sdist: Path | None = None
) -> tuple[Path, BuildInfo]:
    """The llama-bench binary (built once, then cached) and how it was built."""
    return ensure_llama_tool("llama-bench", rebuild=rebuild, jobs=jobs, sdist=sdist)


def ensure_llama_tool(
    target: str, *, rebuild: bool = False, jobs: int = 2, sdist: Path | None = None
) -> tuple[Path, BuildInfo]:
    """One of llama.cpp's tools (built once, then cached) and how it was built."""
    info_path = CACHE / f"build-info-{target}.json"
    binary = binary_path(target)
    if not rebuild and binary.is_file() and info_path.is_file():
        info = BuildInfo.read(info_path)
        say(f"cached: {binary} (built in {info.build_seconds:.0f} s on {info.built_at})")
        return binary, info
    for tool in ("cmake", "c++"):
        if shutil.which(tool) is None:
            raise SystemExit(f"building llama-bench needs `{tool}` on PATH")
    tree = extract(get_sdist(sdist))
    build = CACHE / "build"
    if rebuild and build.exists():
        shutil.rmtree(build)
    generator = "Ninja" if shutil.which("ninja") else "Unix Makefiles"
    flags = [*CMAKE_FLAGS]
    start = time.perf_counter()
    run(
        [
            "cmake",
            "-S",
            str(tree / "vendor" / "llama.cpp"),
            "-B",
            str(build),
            "-G",
            generator,
            *flags,
        ]
    )
    configured = time.perf_counter()
    run(["cmake", "--build", str(build), "--target", target, "-j", str(jobs)])
    end = time.perf_counter()
    if not binary.is_file():
        raise SystemExit(f"the build did not produce {binary}")
    info = BuildInfo(
        version=VERSION,
        binary=str(binary),
        build_seconds=round(end - start, 1),
        configure_seconds=round(configured - start, 1),
        jobs=jobs,
        generator=generator,
        cmake_flags=flags,
        built_at=time.strftime("%Y-%m-%d %H:%M:%S"),
    )
    info_path.write_text(json.dumps(asdict(info), indent=2) + "\n", encoding="utf-8")
    say(f"built {binary} in {info.build_seconds:.0f} s (configure {info.configure_seconds:.0f} s)")
    return binary, info


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--target", default="llama-bench", help="llama-bench, llama-embedding, ...")
    parser.add_argument("--rebuild", action="store_true", help="build again from scratch")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--sdist", type=Path, help=f"a local {SDIST_NAME} (else pip downloads it)")
    args = parser.parse_args()
    binary, info = ensure_llama_tool(
        args.target, rebuild=args.rebuild, jobs=args.jobs, sdist=args.sdist
    )
    print(binary)
    print(json.dumps(asdict(info), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
