"""Embedding throughput: Lanterne's in-process embedder against llama.cpp's `llama-embedding`.

    .venv/bin/python bench/embedding_speed.py [--passages N] [--threads T] [--reps R] [--json]

The same GGUF (multilingual-e5-small Q4_0, the built-in model, same bytes) embeds the same
passages: the first N/2 passages of the French and of the English handbook, chunked by Lanterne,
with the model's passage prompt and whitespace made single spaces (as the embedder does), so
both engines see identical text. `llama-embedding` is built from the llama.cpp that
llama-cpp-python vendors (bench/llama_bench_build.py) and run with the same threads and batch
size as Lanterne's embedder (context = batch = micro-batch = 512, the model's context).

Figures: passages/s and tokens/s for each, excluding model loading (Lanterne: the embedding
calls, in the worker's batches of 16; llama.cpp: its own `prompt eval time`, and its wall time
less a one-passage run's, which both exclude loading), and the ratio Lanterne / llama.cpp.
From it, the handbook's indexing time with embeddings: lexical time (bench/index_speed.py)
plus chunks / passages-per-second.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# The repository root (for `bench.*`) and tests/ (for `support.e5_gguf`).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.index_speed import handbook
from bench.llama_bench_build import ensure_llama_tool
from bench.models import embedding_model
from lanterne.engine import cpu_variant
from lanterne.engine.embedder import MAX_CONTEXT, Embedder, normalise, prompts_for
from lanterne.indexer.chunker import chunk_document
from lanterne.indexer.embedding_worker import BATCH
from lanterne.indexer.extract import extract
from lanterne.indexer.store import PendingChunk

_PROMPT_EVAL = re.compile(r"prompt eval time =\s*([\d.]+) ms /\s*(\d+) tokens")


def passages(count: int) -> list[str]:
    """Handbook passages as the embedding worker sends them (heading line, then text)."""
    html = handbook()
    out: list[str] = []
    for edition in ("fr-FR", "en-US"):
        taken = 0
        for page in sorted((html / edition).glob("*.html")):
            for chunk in chunk_document(extract(page, page.read_bytes())):
                if taken == count // 2:
                    break
                pending = PendingChunk(0, chunk.heading, chunk.text)
                out.append(pending.embedding_text)
                taken += 1
            if taken == count // 2:
                break
    return out


def time_lanterne(texts: list[str], threads: int) -> dict[str, Any]:
    embedder = Embedder(embedding_model(), n_threads=threads)
    try:
        embedder.embed_documents(texts[:2])  # first call allocates buffers
        tokens = sum(
            len(embedder._llm.tokenize((embedder.prompts.document + normalise(t)).encode()))
            for t in texts
        )
        start = time.perf_counter()
        for i in range(0, len(texts), BATCH):
            embedder.embed_documents(texts[i : i + BATCH])
        seconds = time.perf_counter() - start
        prompt = embedder.prompts.document
    finally:
        embedder.close()
    return {
        "seconds": round(seconds, 2),
        "tokens": tokens,
        "passages_per_s": round(len(texts) / seconds, 2),
        "tokens_per_s": round(tokens / seconds, 1),
        "prompt": prompt,
    }


def run_llama_embedding(binary: Path, lines: list[str], threads: int) -> tuple[float, str]:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8", delete=False) as f:
        f.write("\n".join(lines))
        prompt_file = f.name
    size = str(min(512, MAX_CONTEXT))
    cmd = [
        str(binary),
        "-m",
        str(embedding_model()),
        "-f",
        prompt_file,
        "-t",
        str(threads),
        "-tb",
        str(threads),
        "-c",
        size,
        "-b",
        size,
        "-ub",
        size,
        "-ngl",
        "0",
        "--embd-normalize",
        "2",
        "-v",  # llama.cpp prints its perf counters (prompt eval time) only when verbose
    ]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    Path(prompt_file).unlink()
    if done.returncode != 0:
        raise SystemExit(f"llama-embedding failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds, done.stderr


def time_llama(texts: list[str], threads: int, prompt: str) -> dict[str, Any]:
    binary, _info = ensure_llama_tool("llama-embedding")
    lines = [prompt + normalise(t) for t in texts]
    load_only, _ = run_llama_embedding(binary, lines[:1], threads)
    wall, log = run_llama_embedding(binary, lines, threads)
    found = _PROMPT_EVAL.findall(log)
    eval_ms, tokens = (float(found[-1][0]), int(found[-1][1])) if found else (0.0, 0)
    compute = eval_ms / 1000 if eval_ms else wall - load_only
    return {
        "wall_s": round(wall, 2),
        "one_passage_wall_s": round(load_only, 2),
        "prompt_eval_s": round(eval_ms / 1000, 2),
        "tokens": tokens,
        "passages_per_s": round(len(texts) / compute, 2),
        "passages_per_s_by_wall": round(len(texts) / max(wall - load_only, 1e-9), 2),
        "tokens_per_s": round(tokens / compute, 1) if tokens else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--passages", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reps", type=int, default=3, help="interleaved pairs (median shown)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    texts = passages(args.passages)
    # Interleaved pairs, the order alternating: this machine's speed drifts by tens of percent
    # over minutes, and one side timed after the other would carry the drift as a ratio.
    prompt = prompts_for(embedding_model().name).document
    pairs = []
    for rep in range(args.reps):
        if rep % 2 == 0:
            lanterne = time_lanterne(texts, args.threads)
            llama = time_llama(texts, args.threads, prompt)
        else:
            llama = time_llama(texts, args.threads, prompt)
            lanterne = time_lanterne(texts, args.threads)
        pairs.append((lanterne["passages_per_s"] / llama["passages_per_s"], lanterne, llama))
    ratios = sorted(ratio for ratio, _l, _r in pairs)
    _ratio, lanterne, llama = sorted(pairs, key=lambda pair: pair[0])[len(pairs) // 2]
    report = {
        "model": embedding_model().name,
        "lanterne_cpu_variant": cpu_variant.current().to_json(),
        "llama_embedding_cpu": "native (-march=native)",
        "passages": len(texts),
        "threads": args.threads,
        "lanterne": lanterne,
        "llama_embedding": llama,
        "ratio_passages_per_s": round(lanterne["passages_per_s"] / llama["passages_per_s"], 3),
        "pair_ratios": [round(r, 3) for r in ratios],
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{len(texts)} handbook passages, {embedding_model().name}, {args.threads} threads")
    variant = report["lanterne_cpu_variant"]
    print(
        f"  CPU code: llama-embedding -march=native; Lanterne "
        f"{variant['variant'] or 'single CPU build'} ({variant['how']})"
    )
    print(
        f"  Lanterne          {lanterne['passages_per_s']:7.2f} passages/s "
        f"{lanterne['tokens_per_s']:8.1f} tokens/s ({lanterne['tokens']} tokens)"
    )
    print(
        f"  llama-embedding   {llama['passages_per_s']:7.2f} passages/s "
        f"{llama['tokens_per_s'] or 0:8.1f} tokens/s ({llama['tokens']} tokens; by wall time "
        f"{llama['passages_per_s_by_wall']:.2f} passages/s)"
    )
    print(
        f"  ratio Lanterne / llama.cpp, median of {len(ratios)} interleaved pairs (shown): "
        f"{report['ratio_passages_per_s']:.3f}; all pairs {report['pair_ratios']}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
