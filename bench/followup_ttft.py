"""Time to first token: a quick-ask with ~1,500 tokens of sources, then a follow-up turn.

    .venv/bin/python bench/followup_ttft.py [--model PATH] [--runs 3] [--json]

The follow-up is built as `Assistant.ask` builds it with `history`: the system prompt, the first
question with its sources and the answer, so llama.cpp's KV cache already holds that prefix and
only the new question is evaluated (the follow-up brings no new sources here). Target:
follow-up TTFT <= 20% of the first turn's.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from lanterne.assistant.prompt import PastTurn, Source, build_messages
from lanterne.engine.host import LoadRequest, ModelHost

# The repository root, for `bench.timing` (as in bench/engine_vs_llama_bench.py).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.models import gemma_test_model
from bench.prompts import PASSAGE
from bench.timing import timed_stream
from lanterne.engine.runtime import LocalModel, SamplingParams


def ttft(host: ModelHost, model: LocalModel, prompt: str) -> tuple[float, str]:
    timing = timed_stream(host, model, prompt, SamplingParams(max_tokens=24, temperature=0.0))
    return timing.ttft_s * 1000, timing.text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.model is None:
        args.model = gemma_test_model()
    host = ModelHost()
    model = host.load(LoadRequest(args.model, n_ctx=4096, n_threads=0)).result()
    firsts, follows = [], []
    context_tokens = 0
    for run in range(args.runs):
        # A different source set each run, so the first turn never benefits from the last run.
        sources = [
            Source(i, f"/docs/manuel-{run}.html", f"Section {i}", None, PASSAGE * 5)
            for i in range(1, 7)
        ]
        question = f"Question {run} : comment APT choisit-il un miroir ?"
        messages = build_messages(question, sources, "fr")
        prompt = model.render_chat(messages)
        context_tokens = model.count_tokens(prompt)
        first_ms, answer = ttft(host, model, prompt)
        # The follow-up as the pipeline builds it: the first exchange as history (with its
        # sources, as they were evaluated), then the new question. It brings no new sources
        # here, so the figure isolates what the KV cache saves.
        first_turn = PastTurn(question, answer, tuple(sources))
        follow = build_messages("Et pour les mises à jour de sécurité ?", [], "fr", [first_turn])
        follow_ms, _ = ttft(host, model, model.render_chat(follow))
        firsts.append(first_ms)
        follows.append(follow_ms)
    host.shutdown()
    result = {
        "model": str(args.model),
        "context_tokens": context_tokens,
        "first_turn_ttft_ms": statistics.median(firsts),
        "follow_up_ttft_ms": statistics.median(follows),
        "ratio": statistics.median(follows) / statistics.median(firsts),
        "raw": {"first": firsts, "follow_up": follows},
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{args.model.name}: first turn with {context_tokens} tokens of context "
            f"{result['first_turn_ttft_ms']:.0f} ms, follow-up {result['follow_up_ttft_ms']:.0f}"
            f" ms, ratio {result['ratio']:.2f} (target <= 0.20)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
