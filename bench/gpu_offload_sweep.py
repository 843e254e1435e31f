"""The planner's MoE offload against a hand sweep of expert-on-CPU layer counts, on a real GPU.

    .venv/bin/python bench/gpu_offload_sweep.py --model MOE.gguf [--ctx 8192] [--step 4]
        [-p 512] [-n 128] [--json] [--allow-cpu]

For N = 0, step, 2*step, ... n_layer, the model is loaded with the experts of its first N layers
in RAM (everything else on the GPU, as `PlanOverrides(cpu_expert_layers=N)` asks), then a prompt
of -p tokens is evaluated and -n tokens generated; loads that run out of GPU memory are recorded
as such. The planner's own choice runs the same way. Reported: tokens/s for each N, the best, the
planner's, and planner / best for generation (target >= 0.90) and prompt processing.

Needs a GPU that llama.cpp was built for (CUDA, Metal, Vulkan). `--allow-cpu` runs the sweep on
a CPU-only machine to check the script itself; the figures then say nothing about the planner.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

# The repository root, for `bench.prompts` (as in bench/engine_vs_llama_bench.py).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.prompts import exact_prompt
from lanterne.engine.errors import EngineError
from lanterne.engine.gguf_header import read_summary
from lanterne.engine.hardware import probe
from lanterne.engine.offload import PlanOverrides
from lanterne.engine.runtime import LocalModel, SamplingParams

TARGET = 0.90


@dataclass(frozen=True)
class Point:
    requested: int | None  # expert layers asked to stay on the CPU; None: the planner's choice
    cpu_expert_layers: int  # as the plan applied them (0 on a CPU-only machine)
    pp: float  # tokens/s, from llama.cpp's counters
    tg: float
    vram_planned: int
    error: str = ""


def measure(
    path: Path, ctx: int, overrides: PlanOverrides | None, prompt_tokens: int, gen: int
) -> tuple[Point, LocalModel | None]:
    forced = overrides.cpu_expert_layers if overrides else None
    try:
        model = LocalModel.load(path, n_ctx=ctx, overrides=overrides)
    except EngineError as exc:
        return Point(forced, -1, 0.0, 0.0, 0, str(exc)), None
    try:
        prompt = exact_prompt(model, prompt_tokens)
        params = SamplingParams(max_tokens=gen, temperature=0.0, repeat_penalty=1.0)
        list(model.stream(prompt, SamplingParams(max_tokens=4)))  # warm-up
        model.forget_prompt()
        list(model.stream(prompt, params))
        t = model.last_timings
        assert t is not None
        pp = t.prompt_tokens * 1000.0 / t.prompt_ms if t.prompt_ms else 0.0
        applied = len(model.plan.cpu_expert_layers)
        point = Point(forced, applied, pp, t.tokens_per_second, model.plan.vram_needed)
        return point, model
    except EngineError as exc:
        return Point(forced, -1, 0.0, 0.0, 0, str(exc)), model


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--ctx", type=int, default=8192)
    parser.add_argument("--step", type=int, default=4)
    parser.add_argument("-p", "--prompt", type=int, default=512)
    parser.add_argument("-n", "--gen", type=int, default=128)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--allow-cpu", action="store_true")
    args = parser.parse_args()
    hardware = probe()
    if not hardware.gpus and not args.allow_cpu:
        print("No GPU found through llama.cpp's backends: nothing to sweep.", file=sys.stderr)
        return 2
    summary = read_summary(args.model)
    if summary.n_expert <= 1:
        print(f"{args.model.name} is not a mixture-of-experts model.", file=sys.stderr)
        return 2

    def run(overrides: PlanOverrides | None) -> Point:
        started = time.perf_counter()
        point, model = measure(args.model, args.ctx, overrides, args.prompt, args.gen)
        if model is not None:
            model.close()
        label = "planner" if overrides is None else f"N={overrides.cpu_expert_layers}"
        outcome = point.error or f"pp {point.pp:.1f} tg {point.tg:.2f} tok/s"
        print(
            f"[sweep] {label}: {outcome} ({time.perf_counter() - started:.0f} s)", file=sys.stderr
        )
        return point

    planner = run(None)
    counts = sorted({*range(0, summary.n_layer + 1, args.step), summary.n_layer})
    sweep = [run(PlanOverrides(cpu_expert_layers=n)) for n in counts]
    ran = [p for p in sweep if not p.error]
    best_tg = max(ran, key=lambda p: p.tg, default=None)
    best_pp = max(ran, key=lambda p: p.pp, default=None)
    result = {
        "model": str(args.model),
        "gpus": [f"{g.description} ({g.free_bytes / 1024**3:.1f} GB free)" for g in hardware.gpus],
        "n_layer": summary.n_layer,
        "ctx": args.ctx,
        "planner": planner.__dict__,
        "sweep": [p.__dict__ for p in sweep],
        "best_tg": best_tg.__dict__ if best_tg else None,
        "tg_ratio": planner.tg / best_tg.tg if best_tg and best_tg.tg else None,
        "pp_ratio": planner.pp / best_pp.pp if best_pp and best_pp.pp else None,
        "target": TARGET,
    }
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        gpus = ", ".join(g.description for g in hardware.gpus) or "CPU only"
        print(f"{args.model.name} on {gpus}:")
        for p in sweep:
            figures = p.error or f"pp {p.pp:8.1f}  tg {p.tg:7.2f} tok/s"
            print(
                f"  experts of {p.requested} layers on CPU"
                f" (applied {p.cpu_expert_layers}): {figures}"
            )
        print(
            f"  planner ({planner.cpu_expert_layers} layers): pp {planner.pp:.1f} tg "
            f"{planner.tg:.2f}; tg ratio to best {result['tg_ratio']} (target >= {TARGET})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
