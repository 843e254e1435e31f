"""llama.cpp's CPU build is chosen per machine: the fastest variant that runs soundly here, tried
in a child process, with a variant that faults skipped (and why) rather than crashing the app."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lanterne.engine import cpu_variant
from lanterne.engine.cpu_variant import CpuChoice, Skipped, variant_files, variant_name

DISPATCH = bool(variant_files())
needs_dispatch = pytest.mark.skipif(
    not DISPATCH, reason="this llama.cpp has a single CPU build (not built by dev.py)"
)


def test_variant_names_and_files(tmp_path: Path) -> None:
    for name in ("libggml-cpu-haswell.so", "libggml-cpu-x64.so", "libggml-base.so", "libllama.so"):
        (tmp_path / name).write_bytes(b"")
    if sys.platform != "win32":
        assert [variant_name(p) for p in variant_files(tmp_path)] == ["haswell", "x64"]
    assert cpu_variant.choose(tmp_path / "empty") == CpuChoice("", None, "only")


def test_reasons_say_what_was_skipped() -> None:
    chosen = CpuChoice("haswell", Path("x"), "fallback", (Skipped("icelake", "killed by SIGILL"),))
    assert "icelake: killed by SIGILL" in chosen.reason
    assert chosen.to_json()["skipped"] == [{"variant": "icelake", "error": "killed by SIGILL"}]


def _choose_in_child(cache: Path, **env: str) -> dict[str, object]:
    """A fresh process (a process loads llama.cpp's backends once), with its own cache folder."""
    code = (
        "import json; from lanterne.engine import cpu_variant, hardware;"
        "c = cpu_variant.current(); f = hardware.probe().cpu_features;"
        "print(json.dumps({**c.to_json(), 'features': list(f)}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "XDG_CACHE_HOME": str(cache), **env},
        check=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.slow
@needs_dispatch
def test_the_best_variant_is_tried_then_cached_and_a_faulting_one_is_skipped(
    tmp_path: Path,
) -> None:
    first = _choose_in_child(tmp_path / "a")
    assert first["how"] == "best" and first["skipped"] == []
    best = str(first["variant"])
    assert best in {variant_name(p) for p in variant_files()}
    assert first["features"]  # llama.cpp reports the loaded variant's instruction sets
    cached = list((tmp_path / "a" / "Lanterne").glob("cpu-variant-*.json"))
    assert len(cached) == 1 and json.loads(cached[0].read_text())["variant"] == best

    # The best variant now faults, as AMX code does where a hypervisor advertises AMX without
    # enabling it: the next best is used, and the reason says why.
    fallback = _choose_in_child(tmp_path / "b", LANTERNE_CPU_PROBE_FAULT=best)
    assert fallback["how"] == "fallback"
    assert fallback["variant"] != best
    assert fallback["skipped"] == [{"variant": best, "error": "killed by SIGILL"}]
    assert best in str(fallback["reason"])

    forced = _choose_in_child(tmp_path / "c", LANTERNE_CPU_VARIANT="x64")
    assert (forced["variant"], forced["how"]) == ("x64", "forced")
    assert not (tmp_path / "c" / "Lanterne").exists() or not list(
        (tmp_path / "c" / "Lanterne").glob("cpu-variant-*.json")
    )


@needs_dispatch
def test_ask_says_which_cpu_build_answered(gemma_model: Path) -> None:
    from support.cli import lanterne

    done = lanterne("ask", "Bonjour", "--no-docs", "--json", "--model", str(gemma_model))
    model = json.loads(done.stdout)["model"]
    assert model["cpu_variant"]["variant"] in {variant_name(p) for p in variant_files()}
    assert model["cpu_variant"]["reason"]


@pytest.mark.slow
@needs_dispatch
def test_the_app_entry_point_runs_the_probe() -> None:
    """A frozen app has no `python -m`: its own executable runs the probe."""
    from support.cli import lanterne

    files = [str(p) for p in variant_files()]
    done = lanterne("--cpu-probe", "--scores", *files)
    scores = json.loads(done.stdout)
    assert set(scores) == {Path(f).name for f in files}
    x64 = next(f for f in files if variant_name(Path(f)) == "x64")
    assert scores[Path(x64).name] > 0  # any x86-64 CPU runs the baseline
    assert lanterne("--cpu-probe", "--variant", x64).returncode == 0
