"""Cancel latency: from the Stop click (`cancel.set()`) to the end of the consumer's stream.

    .venv/bin/python bench/cancel_latency.py [--model PATH] [--trials 20] [--json]

Two phases, each with `--trials` stops at random moments: while the prompt (about 1,500 tokens
of sources) is evaluated, where llama.cpp's abort callback stops the graph, and while tokens are
generated, where the decode loop checks between tokens. Stops come from another thread, as the
GUI's Stop button does. Two figures per stop: `stream_ms`, until the consumer's iteration ends
(the GUI shows the answer as stopped), and `free_ms`, until the model thread can start the next
job. Target: p95 <= 100 ms.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import threading
import time
from pathlib import Path

# The repository root, for `bench.*` (as in bench/engine_vs_llama_bench.py).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.models import gemma_test_model
from bench.prompts import PASSAGE
from lanterne.engine.errors import GenerationCancelledError
from lanterne.engine.host import LoadRequest, ModelHost
from lanterne.engine.runtime import LocalModel, SamplingParams

TARGET_MS = 100.0


def stop_once(
    host: ModelHost, model: LocalModel, prompt: str, delay_s: float, max_tokens: int
) -> tuple[float, float, bool]:
    """One stream stopped after `delay_s`: (stream_ms, free_ms, stopped in time)."""
    cancel = threading.Event()
    set_at: list[float] = []

    def stop() -> None:
        set_at.append(time.perf_counter())
        cancel.set()

    timer = threading.Timer(delay_s, stop)
    params = SamplingParams(max_tokens=max_tokens, temperature=0.7, seed=1)
    timer.start()
    stopped = False
    try:
        for _piece in host.stream(model, prompt, params, cancel=cancel):
            pass
    except GenerationCancelledError:
        stopped = True
    ended = time.perf_counter()
    host.submit(lambda: None).result()
    free = time.perf_counter()
    timer.cancel()
    if not set_at:  # the answer finished before the stop: not a measurement
        return 0.0, 0.0, False
    return (ended - set_at[0]) * 1000.0, (free - set_at[0]) * 1000.0, stopped


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50": statistics.median(values),
        "p95": percentile(values, 0.95),
        "max": max(values),
        "n": len(values),
    }


def measure_phase(
    host: ModelHost,
    model: LocalModel,
    prompt: str,
    window_s: tuple[float, float],
    max_tokens: int,
    trials: int,
    rng: random.Random,
) -> dict[str, object]:
    stream: list[float] = []
    free: list[float] = []
    attempts = 0
    while len(stream) < trials and attempts < trials * 3:
        attempts += 1
        # Each stop starts from an empty cache, so the prompt is evaluated again in full.
        host.submit(model.forget_prompt).result()
        ms, free_ms, stopped = stop_once(host, model, prompt, rng.uniform(*window_s), max_tokens)
        if stopped:
            stream.append(ms)
            free.append(free_ms)
    return {"stream_ms": summary(stream), "free_ms": summary(free), "raw_stream_ms": stream}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.model is None:
        args.model = gemma_test_model()
    host = ModelHost()
    model = host.load(LoadRequest(args.model, n_ctx=4096, n_threads=0)).result()
    rng = random.Random(7)
    long_prompt = model.render_chat([{"role": "user", "content": PASSAGE * 40 + "Résume."}])
    short_prompt = model.render_chat([{"role": "user", "content": "Raconte une longue histoire."}])
    prompt_tokens = host.submit(lambda: model.count_tokens(long_prompt)).result()
    # How long the long prompt takes, so stops land inside its evaluation.
    host.submit(model.forget_prompt).result()
    started = time.perf_counter()
    for _piece in host.stream(model, long_prompt, SamplingParams(max_tokens=1)):
        pass
    prefill_s = time.perf_counter() - started
    result = {
        "model": str(args.model),
        "prompt_tokens": prompt_tokens,
        "prefill_s": prefill_s,
        "during_prompt": measure_phase(
            host, model, long_prompt, (0.05, 0.8 * prefill_s), 64, args.trials, rng
        ),
        "during_generation": measure_phase(
            host, model, short_prompt, (0.2, 2.0), 2000, args.trials, rng
        ),
        "target_p95_ms": TARGET_MS,
    }
    host.shutdown()
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    print(f"model {args.model.name}: prompt {prompt_tokens} tokens in {prefill_s:.2f} s")
    for phase in ("during_prompt", "during_generation"):
        data = result[phase]
        assert isinstance(data, dict)
        for key in ("stream_ms", "free_ms"):
            s = data[key]
            print(
                f"{phase:18} {key:9} p50 {s['p50']:6.1f} ms  p95 {s['p95']:6.1f} ms  "
                f"max {s['max']:6.1f} ms  (n={s['n']}; target p95 <= {TARGET_MS:g} ms)"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
