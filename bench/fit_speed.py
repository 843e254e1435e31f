"""The catalog's expected generation speed against the speed measured on this machine.

    .venv/bin/python bench/fit_speed.py [--runs 5] [--json]

`lanterne models list|recommend` print "~N tok/s expected" for files not downloaded yet
(`engine/speed_estimate.py`: bytes read per token over the measured RAM bandwidth, times
`CPU_EFFICIENCY`). Here the same estimate is made for the test models, from their real headers
and the planner's plan, and compared with their measured decode speed: the ratio
measured / expected is what `CPU_EFFICIENCY` should be multiplied by to be exact here.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.models import gemma_test_model, moe_bench_model
from lanterne.engine.gguf_header import read_summary
from lanterne.engine.hardware import probe
from lanterne.engine.host import LoadRequest, ModelHost
from lanterne.engine.offload import default_threads, plan_offload
from lanterne.engine.runtime import SamplingParams
from lanterne.engine.speed_estimate import (
    CPU_EFFICIENCY,
    bytes_per_token,
    ram_bandwidth,
    tokens_per_second,
)

TOKENS = 64


def measure(path: Path, runs: int) -> dict[str, object]:
    hardware = probe()
    summary = read_summary(path)
    plan = plan_offload(summary, hardware, 1024)
    expected = tokens_per_second(summary, plan, hardware)
    ram, vram = bytes_per_token(summary, plan)
    host = ModelHost()
    try:
        model = host.load(LoadRequest(path, n_ctx=1024, n_threads=default_threads())).result()
        params = SamplingParams(max_tokens=TOKENS, temperature=0.0)
        speeds = []
        for _run in range(runs + 1):  # the first warms the caches up
            host.submit(model.forget_prompt).result()
            "".join(host.stream(model, "The history of the printing press", params))
            assert model.last_timings is not None
            speeds.append(model.last_timings.tokens_per_second)
        measured = statistics.median(speeds[1:])
    finally:
        host.shutdown()
    return {
        "model": path.name,
        "plan": plan.description,
        "bytes_per_token_ram": ram,
        "bytes_per_token_vram": vram,
        "expected_tok_s": round(expected, 1),
        "measured_tok_s": round(measured, 1),
        "measured_over_expected": round(measured / expected, 2) if expected else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    bandwidth = ram_bandwidth()
    rows = [measure(path, args.runs) for path in (gemma_test_model(), moe_bench_model())]
    report = {
        "ram_bandwidth_gb_s": round(bandwidth / 1e9, 1),
        "cpu_efficiency": CPU_EFFICIENCY,
        "threads": default_threads(),
        "models": rows,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(
        f"RAM bandwidth (memmove, read + write): {report['ram_bandwidth_gb_s']} GB/s; "
        f"CPU_EFFICIENCY {CPU_EFFICIENCY}; {report['threads']} threads"
    )
    print(f"{'model':44}{'MB/token':>10}{'expected':>10}{'measured':>10}{'ratio':>8}")
    for r in rows:
        mb = (int(r["bytes_per_token_ram"]) + int(r["bytes_per_token_vram"])) / 1e6  # type: ignore[call-overload]
        print(
            f"{r['model']:44}{mb:>10.0f}{r['expected_tok_s']:>10}{r['measured_tok_s']:>10}"
            f"{r['measured_over_expected']:>8}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
