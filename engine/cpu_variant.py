"""Which of llama.cpp's CPU builds this machine runs: the fastest one that works here.

A build with runtime dispatch (`GGML_BACKEND_DL`, `GGML_CPU_ALL_VARIANTS`: installers and source
installs alike) ships one CPU library per instruction-set level (x64, haswell, skylakex,
icelake, zen4, sapphirerapids…), and ggml would load the one with the best score for the
features the CPU *advertises*. Advertised is not usable: a hypervisor can advertise AMX that it
does not enable, and the AMX variant then dies in its first quantized matrix product. So each
candidate, best first, is tried once in a child process on the built-in embedding model (Q4_0
weights, a batch of tokens: the code paths a real answer takes); the first that gives a sound
vector is used, a variant that crashes is skipped and the reason kept. The choice is cached per
machine (CPU and its features), llama.cpp version and set of variant files, in the user's cache
folder, so it costs about a second once.

`LANTERNE_CPU_VARIANT` names a variant to use without trying it (for support, and inside the
probe itself); `LANTERNE_CPU_PROBE_FAULT` (comma-separated variant names) makes those variants'
probes die as a faulting CPU would, to test the fallback.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import signal
import subprocess
import sys
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

import llama_cpp
import platformdirs
from filelock import FileLock

from lanterne.engine.ggml_api import BACKEND_PREFIX, BACKEND_SUFFIX, LIB_DIR
from lanterne.foundation.translation import _

VARIANT_ENV = "LANTERNE_CPU_VARIANT"
FAULT_ENV = "LANTERNE_CPU_PROBE_FAULT"
PROBE_TIMEOUT_S = 120


@dataclass(frozen=True)
class Skipped:
    variant: str
    error: str


@dataclass(frozen=True)
class CpuChoice:
    """The CPU library to load ("" and None: the build has a single CPU backend)."""

    variant: str
    path: Path | None
    how: str  # "only", "best", "fallback", "forced", "unverified"
    skipped: tuple[Skipped, ...] = ()

    @property
    def reason(self) -> str:
        """Why this variant, in the interface's language."""
        if self.how == "only":
            return _("This llama.cpp has a single CPU build.")
        if self.how == "forced":
            return _("Chosen with {env}.").format(env=VARIANT_ENV)
        if self.how == "unverified":
            return _("The fastest this processor advertises; not tried first.")
        if not self.skipped:
            return _("The fastest this processor supports; tried once and sound.")
        failed = "; ".join(f"{s.variant}: {s.error}" for s in self.skipped)
        return _("The fastest that works here: faster builds failed their test ({failed}).").format(
            failed=failed
        )

    def to_json(self) -> dict[str, object]:
        return {
            "variant": self.variant,
            "how": self.how,
            "reason": self.reason,
            "skipped": [asdict(s) for s in self.skipped],
        }


def variant_files(lib_dir: Path | None = None) -> list[Path]:
    """The CPU variant libraries of this llama.cpp (none in a build without dispatch), in
    llama_cpp/lib, where packaging/llama_wheel.py moves them from site-packages/bin."""
    folder = lib_dir if lib_dir is not None else LIB_DIR
    pattern = f"{BACKEND_PREFIX}cpu-*{BACKEND_SUFFIX}"
    return sorted(p for p in folder.glob(pattern) if p.is_file())


def variant_name(path: Path) -> str:
    """libggml-cpu-haswell.so -> haswell."""
    return path.stem.split("ggml-cpu-", 1)[-1]


_lock = threading.Lock()
_current: CpuChoice | None = None


def current() -> CpuChoice:
    """This process's choice, made (or read from the cache) on first use."""
    global _current
    with _lock:
        if _current is None:
            _current = choose()
        return _current


def choose(lib_dir: Path | None = None) -> CpuChoice:
    files = variant_files(lib_dir)
    if not files:
        return CpuChoice("", None, "only")
    forced = os.environ.get(VARIANT_ENV, "").strip()
    if forced:
        for path in files:
            if forced in (variant_name(path), str(path)):
                return CpuChoice(variant_name(path), path, "forced")
    cache = _cache_file(files)
    cache.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(cache) + ".lock", timeout=PROBE_TIMEOUT_S * 4):
        cached = _read_cache(cache, files)
        if cached is not None:
            return cached
        choice = _probe_all(files)
        if choice.how != "unverified":  # retried next time, once the probe can run
            cache.write_text(json.dumps(_cache_json(choice)), encoding="utf-8")
        return choice


def _probe_all(files: list[Path]) -> CpuChoice:
    scores = _scores(files)
    ranked = sorted((p for p in files if scores.get(p.name, 0) > 0), key=lambda p: -scores[p.name])
    if not ranked:
        return CpuChoice("", None, "unverified")  # let ggml choose, as it would alone
    from lanterne.engine import builtin_embedder

    model = builtin_embedder.shipped_path()
    if builtin_embedder.problem(model) is not None:
        return CpuChoice(variant_name(ranked[0]), ranked[0], "unverified")
    skipped: list[Skipped] = []
    for path in ranked:
        error = _probe(path)
        if error is None:
            return CpuChoice(
                variant_name(path), path, "fallback" if skipped else "best", tuple(skipped)
            )
        skipped.append(Skipped(variant_name(path), error))
    # Nothing passed (a broken install rather than a CPU): ggml's own choice, with the reasons.
    return CpuChoice(variant_name(ranked[-1]), ranked[-1], "fallback", tuple(skipped))


def _child(args: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ}
    env.pop(VARIANT_ENV, None)
    frozen = getattr(sys, "frozen", False)  # the app's executable is the interpreter there
    command = ["--cpu-probe"] if frozen else ["-m", "lanterne.engine.cpu_probe"]
    return subprocess.run(
        [sys.executable, *command, *args],
        capture_output=True,
        text=True,
        timeout=PROBE_TIMEOUT_S,
        env=env,
        check=False,
    )


def _scores(files: list[Path]) -> dict[str, int]:
    """ggml's score of each variant for this CPU (0: needs features it lacks), read in a child:
    loading a variant library runs its code."""
    try:
        done = _child(["--scores", *map(str, files)])
        scores = json.loads(done.stdout) if done.returncode == 0 else {}
    except (subprocess.TimeoutExpired, ValueError, OSError):
        scores = {}
    return {str(k): int(v) for k, v in scores.items()}


def _probe(path: Path) -> str | None:
    """None if the variant embeds a passage soundly in a child process, else what went wrong."""
    try:
        done = _child(["--variant", str(path)])
    except subprocess.TimeoutExpired:
        return _("no answer after {s} s").format(s=PROBE_TIMEOUT_S)
    except OSError as exc:
        return str(exc)
    if done.returncode < 0:
        try:
            name = signal.Signals(-done.returncode).name
        except ValueError:
            name = str(-done.returncode)
        return _("killed by {signal}").format(signal=name)
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        return lines[-1] if lines else _("exit status {code}").format(code=done.returncode)
    return None


def _cache_file(files: list[Path]) -> Path:
    identity = "\n".join(
        [
            llama_cpp.__version__,
            platform.machine(),
            _cpu_identity(),
            *(f"{p.name}:{p.stat().st_size}" for p in files),
        ]
    )
    key = hashlib.sha256(identity.encode()).hexdigest()[:16]
    return platformdirs.user_cache_path("Lanterne", appauthor=False) / f"cpu-variant-{key}.json"


def _cpu_identity() -> str:
    """The processor and the features it advertises (what ggml's scores depend on)."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        wanted = ("model name", "flags", "Features", "CPU implementer", "CPU part")
        lines = cpuinfo.read_text(encoding="utf-8", errors="replace").split("\n\n")[0]
        return "\n".join(line for line in lines.splitlines() if line.startswith(wanted))
    return f"{platform.processor()} {platform.platform()}"


def _cache_json(choice: CpuChoice) -> dict[str, object]:
    return {
        "variant": choice.variant,
        "file": choice.path.name if choice.path else "",
        "how": choice.how,
        "skipped": [asdict(s) for s in choice.skipped],
    }


def _read_cache(cache: Path, files: list[Path]) -> CpuChoice | None:
    try:
        data = json.loads(cache.read_text(encoding="utf-8"))
        path = next(p for p in files if p.name == data["file"])
        skipped = tuple(Skipped(str(s["variant"]), str(s["error"])) for s in data["skipped"])
        return CpuChoice(str(data["variant"]), path, str(data["how"]), skipped)
    except (OSError, ValueError, KeyError, TypeError, StopIteration):
        return None
