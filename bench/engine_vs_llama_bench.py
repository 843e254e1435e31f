"""Lanterne's in-process engine against llama.cpp's own `llama-bench`, same llama.cpp, same run.

    .venv/bin/python bench/engine_vs_llama_bench.py [--models gemma,moe] [--model PATH]
        [-p 256] [-n 64] [-r 15] [-t THREADS] [--greedy] [--breakdown] [--profile DIR]
        [--reference-libs built|installed] [--max-foreign 0.1] [--sdist PATH] [--json]

The reference is `llama-bench` built from the llama.cpp vendored in the installed
llama-cpp-python's sdist (`bench/llama_bench_build.py`, cached in ~/.cache/lanterne-bench/;
`--reference-libs installed` runs it on the very .so files Lanterne loads instead). Both sides
load the same GGUF with the same threads and context settings (flash attention off, as
`LocalModel.load` leaves it; batch 512).

Noise. The two sides are interleaved one repetition at a time (llama-bench `-r 1`, then one
Lanterne run, the order alternating), each pair after a second in which the machine was quiet.
With llama.cpp's threads on every core, another process taking even part of one core makes
them wait for each other at every barrier of the graph, and a decode gets several times (up to
100x) slower, on either side. So the CPU used by other processes during each run is measured
(/proc/stat minus this process and its children), and pairs where it exceeds `--max-foreign`
cores are reported but not counted; `-r` undisturbed pairs are collected (at most
`--max-pairs` tried). The headline ratio is the median of the paired ratios; the ratio of the
medians and of the best runs are printed beside it, with the spread of the paired ratios.

* pp (prompt processing): a prompt of exactly `-p` evaluated tokens, from an empty KV cache.
  llama-bench: `-p P -n 0`. Lanterne: `ModelHost.stream` with a text of P tokens.
* tg (text generation): `-n` tokens generated after that prompt. llama-bench:
  `-p 0 -n N -d P` (generation at depth P, where Lanterne generates). Lanterne: the same
  stream, with Lanterne's default sampling (`SamplingParams()`: top-k 40, top-p 0.95,
  temperature 0.2, repeat penalty 1.1; seeded), or greedy with `--greedy`. llama-bench
  samples nothing: it feeds random tokens.

Lanterne is reported two ways:

* wall: what the consumer of `ModelHost.stream` sees (the CLI or GUI thread). pp = P / time to
  the first piece (tokenizing, the prompt's decode, the first sampling, the queue hop); tg =
  (generated - 1) / (end - first piece). **The headline ratios use these.**
* perf: llama.cpp's own counters for the same runs (`llama_perf_context`: time inside
  `llama_decode` only), i.e. what `LocalModel.last_timings` reports.

The models (`--models`): `gemma` is the Gemma 3 270M Q4_K_M GGUF of the test suite, `moe` a
random-weight qwen3moe of Qwen3-30B-A3B's proportions (`tests/support/moe_shapes.py`, about
420 MB, written once into ~/.cache/lanterne-bench/models/). `--model PATH` adds any GGUF.

`--breakdown` then peels the layers under `ModelHost.stream` off one at a time (LocalModel.stream
on the model thread, llama-cpp-python's create_completion, its generate loop, a bare eval loop
with no sampling) and prints, per generated token, the time inside llama_decode and outside it.
`--profile DIR` writes cProfile statistics of the model thread during Lanterne's runs.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import llama_cpp

from lanterne.engine import cpu_variant
from lanterne.engine.host import LoadRequest, ModelHost
from lanterne.engine.offload import default_threads
from lanterne.engine.runtime import LocalModel, SamplingParams

# The repository root (for `bench.llama_bench_build`) and tests/ (for `support.moe_shapes`).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.decode_breakdown import breakdown, fresh_context, on_model_thread
from bench.llama_bench_build import ensure_llama_bench
from bench.models import gemma_test_model, moe_bench_model
from bench.prompts import TEXT, exact_prompt
from bench.quiet import ForeignLoad, wait_for_quiet
from support.moe_shapes import QWEN3_30B_A3B_MINI

SEED = 1234


def say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --- llama-bench --------------------------------------------------------------------------


def llama_bench(binary: Path, model: Path, args: list[str], env: dict[str, str]) -> list[float]:
    """tokens/s of each repetition of the one test that `args` describe."""
    cmd = [str(binary), "-m", str(model), "-o", "json", *args]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    tests = json.loads(out.stdout)
    if len(tests) != 1:
        raise RuntimeError(f"expected one llama-bench test, got {len(tests)}")
    return [float(x) for x in tests[0]["samples_ts"]]


def reference_run(
    binary: Path, model: Path, *, p: int, n: int, threads: int, env: dict[str, str]
) -> tuple[float, float, float]:
    """One llama-bench repetition of pp and of tg (at depth p): tokens/s of each, and the
    foreign load (cores) during them."""
    common = ["-t", str(threads), "-r", "1", "-fa", "0", "-b", "512", "-ub", "512"]
    load = ForeignLoad()
    (pp,) = llama_bench(binary, model, ["-p", str(p), "-n", "0", *common], env)
    (tg,) = llama_bench(binary, model, ["-p", "0", "-n", str(n), "-d", str(p), *common], env)
    return pp, tg, load.cores()


# --- Lanterne -----------------------------------------------------------------------------


@dataclass
class Run:
    """One Lanterne run (tokens/s), and the llama-bench repetition paired with it."""

    pp_wall: float
    tg_wall: float
    pp_perf: float
    tg_perf: float
    prompt_evaluated: int
    generated: int
    foreign_cores: float
    pp_ref: float = 0.0
    tg_ref: float = 0.0
    ref_foreign_cores: float = 0.0
    waited_s: float = 0.0

    def clean(self, threshold: float) -> bool:
        return max(self.foreign_cores, self.ref_foreign_cores) < threshold


def perf_counts(model: LocalModel) -> tuple[int, int]:
    perf = llama_cpp.llama_perf_context(model._llm.ctx)
    return int(perf.n_p_eval), int(perf.n_eval)


def lanterne_run(host: ModelHost, model: LocalModel, prompt: str, params: SamplingParams) -> Run:
    on_model_thread(host, lambda: fresh_context(model))
    load = ForeignLoad()
    start = time.perf_counter()
    first = 0.0
    for _piece in host.stream(model, prompt, params):
        if not first:
            first = time.perf_counter()
    end = time.perf_counter()
    timings = model.last_timings
    assert timings is not None
    n_p_eval, n_eval = on_model_thread(host, lambda: perf_counts(model))
    # create_completion samples the last token without evaluating it: generated = n_eval + 1.
    generated = n_eval + 1
    return Run(
        pp_wall=n_p_eval / (first - start),
        tg_wall=(generated - 1) / (end - first),
        pp_perf=n_p_eval * 1000.0 / timings.prompt_ms,
        tg_perf=n_eval * 1000.0 / timings.predicted_ms,
        prompt_evaluated=n_p_eval,
        generated=generated,
        foreign_cores=load.cores(),
    )


# --- Breakdown ---------------------------------------------------------------------------


def spread(values: list[float]) -> dict[str, float]:
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def measure_model(
    path: Path,
    binary: Path,
    args: argparse.Namespace,
    env: dict[str, str],
) -> dict[str, Any]:
    p, n, threads = args.prompt, args.gen, args.threads
    params = (
        SamplingParams(max_tokens=n, temperature=0.0, repeat_penalty=1.0, seed=SEED)
        if args.greedy
        else SamplingParams(max_tokens=n, seed=SEED)
    )
    host = ModelHost()
    model: LocalModel = host.load(LoadRequest(path, n_ctx=p + n, n_threads=threads)).result()
    profiler = cProfile.Profile() if args.profile else None
    runs: list[Run] = []
    try:
        prompt = on_model_thread(host, lambda: exact_prompt(model, p))
        say(f"{path.name}: warm-up, then interleaved repetitions until {args.reps} clean ones")
        lanterne_run(host, model, prompt, params)
        while sum(r.clean(args.max_foreign) for r in runs) < args.reps:
            if len(runs) >= args.max_pairs:
                say(f"{path.name}: giving up after {len(runs)} pairs (too busy a machine)")
                break
            waited = wait_for_quiet(args.max_foreign, args.patience)
            ours_first = len(runs) % 2 == 0
            if not ours_first:
                pp_ref, tg_ref, ref_load = reference_run(
                    binary, path, p=p, n=n, threads=threads, env=env
                )
            if profiler is not None:
                on_model_thread(host, profiler.enable)
            run = lanterne_run(host, model, prompt, params)
            if profiler is not None:
                on_model_thread(host, profiler.disable)
            if ours_first:
                pp_ref, tg_ref, ref_load = reference_run(
                    binary, path, p=p, n=n, threads=threads, env=env
                )
            run.pp_ref, run.tg_ref, run.ref_foreign_cores, run.waited_s = (
                pp_ref,
                tg_ref,
                ref_load,
                waited,
            )
            runs.append(run)
            say(
                f"{path.name} pair {len(runs)}: pp {run.pp_wall:.1f} vs {pp_ref:.1f}, "
                f"tg {run.tg_wall:.1f} vs {tg_ref:.1f} tok/s; others used "
                f"{run.foreign_cores:.2f} / {ref_load:.2f} cores"
                + ("" if run.clean(args.max_foreign) else " (disturbed: not counted)")
            )
        parts = None
        if args.breakdown:
            say(f"{path.name}: breakdown")
            parts = breakdown(
                host,
                model,
                prompt,
                params,
                args.breakdown_reps,
                args.max_foreign,
                args.patience,
                TEXT,
            )
        if profiler is not None:
            args.profile.mkdir(parents=True, exist_ok=True)
            out = args.profile / f"{path.stem}.pstats"
            profiler.dump_stats(out)
            say(f"profile of the model thread: {out}")
        architecture = model.info.architecture
    finally:
        host.shutdown()

    clean = [r for r in runs if r.clean(args.max_foreign)]
    if len(clean) < 3:
        say(f"warning: {path.name}: only {len(clean)} undisturbed pairs; using all {len(runs)}")
        clean = runs

    def values(name: str) -> list[float]:
        return [float(getattr(r, name)) for r in clean]

    result: dict[str, Any] = {
        "model": str(path),
        "architecture": architecture,
        "llama_bench": {"pp": spread(values("pp_ref")), "tg": spread(values("tg_ref"))},
        "lanterne_wall": {"pp": spread(values("pp_wall")), "tg": spread(values("tg_wall"))},
        "lanterne_perf": {"pp": spread(values("pp_perf")), "tg": spread(values("tg_perf"))},
        "prompt_tokens_evaluated": sorted({r.prompt_evaluated for r in runs}),
        "generated_tokens": sorted({r.generated for r in runs}),
        "pairs": {"counted": len(clean), "total": len(runs)},
        "runs": [asdict(r) for r in runs],
    }
    for kind in ("pp", "tg"):
        ref = values(f"{kind}_ref")
        for way in ("wall", "perf"):
            ours = values(f"{kind}_{way}")
            paired = [a / b for a, b in zip(ours, ref, strict=True)]
            result[f"{kind}_ratio_{way}"] = {
                "paired_median": statistics.median(paired),
                "paired_min": min(paired),
                "paired_max": max(paired),
                "of_medians": statistics.median(ours) / statistics.median(ref),
                "of_best": max(ours) / max(ref),
            }
    if parts is not None:
        reference = statistics.median(values("tg_ref"))
        parts["llama-bench tg (same pairs as above)"] = {"wall": reference, "decode": reference}
        result["breakdown_tg_tok_s"] = parts
    if result["generated_tokens"] != [n]:
        say(f"warning: {path.name} generated {result['generated_tokens']} tokens, not {n}")
    if result["prompt_tokens_evaluated"] != [p]:
        say(f"warning: {path.name} evaluated {result['prompt_tokens_evaluated']} prompt tokens")
    return result


def model_paths(args: argparse.Namespace) -> list[Path]:
    paths: list[Path] = []
    for name in args.models.split(","):
        if name == "gemma":
            paths.append(gemma_test_model())
        elif name == "moe":
            start = time.perf_counter()
            path = moe_bench_model()
            say(f"MoE model: {path} ({time.perf_counter() - start:.1f} s)")
            paths.append(path)
        elif name:
            raise SystemExit(f"unknown model {name!r}: use gemma, moe or --model PATH")
    paths += args.model
    return paths


def print_table(report: dict[str, Any]) -> None:
    cfg = report["config"]
    print(
        f"llama-bench from llama-cpp-python {cfg['llama_cpp_python']}'s llama.cpp"
        f" ({cfg['reference_libs']} libraries; build took {cfg['llama_bench_build_s']:.0f} s),"
        f" {cfg['threads']} threads,"
        f" pp{cfg['prompt']}, tg{cfg['gen']} at depth {cfg['prompt']}, median of undisturbed"
        f" pairs, sampling: {cfg['sampling']}, load average {cfg['load_average'][0]:.2f}"
    )
    variant = cfg["lanterne_cpu_variant"]
    print(
        f"CPU code: llama-bench {cfg['llama_bench_cpu']} (-march=native); Lanterne"
        f" {variant['variant'] or 'single CPU build'} ({variant['how']})"
    )
    for m in report["models"]:
        print(
            f"\n{Path(m['model']).name} ({m['architecture']}): {m['pairs']['counted']} of"
            f" {m['pairs']['total']} pairs undisturbed"
        )
        print(f"{'tokens/s: median [min-max]':36}{'pp':>24}{'tg':>24}")
        for label, key in (
            ("llama-bench", "llama_bench"),
            ("Lanterne, wall (consumer)", "lanterne_wall"),
            ("Lanterne, perf (llama_decode)", "lanterne_perf"),
        ):
            cells = [
                f"{s['median']:.1f} [{s['min']:.1f}-{s['max']:.1f}]"
                for s in (m[key]["pp"], m[key]["tg"])
            ]
            print(f"{label:36}{cells[0]:>24}{cells[1]:>24}")
        for way in ("wall", "perf"):
            pp, tg = m[f"pp_ratio_{way}"], m[f"tg_ratio_{way}"]
            cells = [
                f"{r['paired_median']:.3f} [{r['paired_min']:.2f}-{r['paired_max']:.2f}]"
                for r in (pp, tg)
            ]
            print(f"{'ratio ' + way + ' / llama-bench, paired':36}{cells[0]:>24}{cells[1]:>24}")
            for label, key in (("of medians", "of_medians"), ("of best runs", "of_best")):
                print(f"{'  ' + label:36}{pp[key]:>24.3f}{tg[key]:>24.3f}")
        parts = m.get("breakdown_tg_tok_s")
        if parts:
            print(
                f"{'tg breakdown, medians':44}{'tok/s':>8}{'ms/token':>10}"
                f"{'in decode':>11}{'outside':>9}"
            )
            for name, rate in sorted(parts.items(), key=lambda kv: -kv[1]["wall"]):
                ms, decode_ms = 1000.0 / rate["wall"], 1000.0 / rate["decode"]
                print(
                    f"  {name:42}{rate['wall']:>8.1f}{ms:>10.2f}{decode_ms:>11.2f}"
                    f"{ms - decode_ms:>9.2f}"
                )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", default="gemma,moe", help="comma-separated: gemma, moe")
    parser.add_argument("--model", type=Path, action="append", default=[], help="another GGUF")
    parser.add_argument("-p", "--prompt", type=int, default=256, help="prompt tokens (pp)")
    parser.add_argument("-n", "--gen", type=int, default=64, help="generated tokens (tg)")
    parser.add_argument(
        "-r", "--reps", type=int, default=15, help="undisturbed interleaved pairs wanted"
    )
    parser.add_argument("--max-pairs", type=int, default=60, help="give up after this many")
    parser.add_argument(
        "--max-foreign",
        type=float,
        default=0.1,
        help="a pair is disturbed when other processes used this many cores during it",
    )
    parser.add_argument(
        "--patience", type=float, default=60.0, help="seconds to wait for a quiet machine"
    )
    parser.add_argument("-t", "--threads", type=int, default=default_threads())
    parser.add_argument("--greedy", action="store_true", help="greedy instead of the defaults")
    parser.add_argument("--breakdown", action="store_true", help="time the layers under stream")
    parser.add_argument("--breakdown-reps", type=int, default=5)
    parser.add_argument("--profile", type=Path, help="write cProfile stats of the model thread")
    parser.add_argument("--sdist", type=Path, help="a local llama-cpp-python sdist to build from")
    parser.add_argument(
        "--reference-libs",
        choices=("built", "installed"),
        default="built",
        help="llama-bench with its own libllama/ggml (built) or the installed llama-cpp-python's",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    binary, build = ensure_llama_bench(sdist=args.sdist)
    env = dict(os.environ)
    if args.reference_libs == "installed":
        # llama-bench has a RUNPATH (not an RPATH): LD_LIBRARY_PATH wins, so it runs on the very
        # .so files Lanterne loads; same source and version, hence the same ABI.
        libs = Path(llama_cpp.__file__).parent / "lib"
        env["LD_LIBRARY_PATH"] = f"{libs}{os.pathsep}{env.get('LD_LIBRARY_PATH', '')}"
    say(f"llama-bench: {binary} ({args.reference_libs} libraries)")
    models = [measure_model(path, binary, args, env) for path in model_paths(args)]
    report = {
        "config": {
            "llama_cpp_python": llama_cpp.__version__,
            "llama_bench": str(binary),
            "llama_bench_build_s": build.build_seconds,
            "llama_bench_cmake_flags": build.cmake_flags,
            "reference_libs": args.reference_libs,
            "system_info": llama_cpp.llama_print_system_info().decode(),
            # Which CPU code each side ran: the reference is compiled for this CPU
            # (-march=native); Lanterne loads the variant engine/cpu_variant.py chose.
            "llama_bench_cpu": "native" if "-DGGML_NATIVE=ON" in build.cmake_flags else "?",
            "lanterne_cpu_variant": cpu_variant.current().to_json(),
            "threads": args.threads,
            "prompt": args.prompt,
            "gen": args.gen,
            "reps": args.reps,
            "max_foreign_cores": args.max_foreign,
            "sampling": "greedy" if args.greedy else "Lanterne defaults",
            "flash_attn": False,
            "moe_shape": asdict(QWEN3_30B_A3B_MINI),
            "load_average": os.getloadavg(),
        },
        "models": models,
    }
    if args.profile:
        for m in models:
            stats = pstats.Stats(
                str(args.profile / f"{Path(m['model']).stem}.pstats"), stream=sys.stderr
            )
            say(f"top of the profile for {Path(m['model']).name}:")
            stats.sort_stats("tottime").print_stats(12)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_table(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
