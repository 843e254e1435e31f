"""Time to first token: a quick-ask with ~1,500 tokens of sources, then a follow-up turn.

    .venv/bin/python bench/followup_ttft.py [--model PATH|NAME ...] [--runs 3] [--json]

The follow-up is built as `Assistant.ask` builds it with `history`: the system prompt, the first
question with its sources and the answer, so llama.cpp's cache already holds that prefix and
only the new part is evaluated (the follow-up brings no new sources here). Target: follow-up
TTFT <= 20% of the first turn's.

`--model` takes a GGUF path, `gemma` (the test suite's Gemma 3 270M, the default) or `tiny-KEY`
for a random-weight test model written into a temporary folder: a key of
`tests/support/tiny_archs` (`tiny-granitehybrid`, `tiny-lfm2moe`: the family's tokenizer and
template), or `tiny-hybrid` for `tests/support/tiny_hybrid.py` (Granite 4.0 H's layers with a
small vocabulary). On the hybrids (Mamba-2 or short convolutions beside attention) a follow-up
goes back to a copy of the recurrent state (`engine/state_checkpoints.py`). Give `--model`
several times to measure each in one run. Each run waits for a quiet machine; runs during
which other processes took CPU anyway are left out of the headline figures.
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lanterne.assistant.prompt import PastTurn, Source, build_messages
from lanterne.engine.host import LoadRequest, ModelHost

# The repository root, for `bench.timing` (as in bench/engine_vs_llama_bench.py).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.models import gemma_test_model
from bench.prompts import PASSAGE
from bench.quiet import ForeignLoad, wait_for_quiet
from bench.timing import timed_stream
from lanterne.engine.runtime import LocalModel, SamplingParams

PROMPT_TOKENS = 1650  # the first turn: ~1,500 tokens of sources, as a quick-ask retrieves
N_SOURCES = 6
GREEDY = SamplingParams(max_tokens=24, temperature=0.0)
QUIET_CORES = 0.3  # other processes' CPU use above which a run is marked disturbed


def ttft(host: ModelHost, model: LocalModel, prompt: str) -> tuple[float, str, int]:
    """Milliseconds to the first piece, the answer, and the prompt tokens found cached."""
    timing = timed_stream(host, model, prompt, GREEDY)
    reused = model.last_timings.reused_tokens if model.last_timings else 0
    return timing.ttft_s * 1000, timing.text, reused


def tiny_writer(key: str) -> Callable[[Path], Path]:
    """The tests' writer of a random-weight model: `support.tiny_archs` (the family's real
    tokenizer and template) where it has a spec for `key` (in `SPECS` or a module's `SPEC`),
    else `support.tiny_hybrid` for `hybrid` and `granitehybrid` (a small vocabulary, ChatML)."""
    folder = Path(__file__).resolve().parent.parent / "tests" / "support" / "tiny_archs"
    if key != "hybrid" and folder.is_dir():
        specs = dict(getattr(importlib.import_module("support.tiny_archs"), "SPECS", {}))
        for module_path in sorted(folder.glob("*.py")):
            module = importlib.import_module(f"support.tiny_archs.{module_path.stem}")
            spec = getattr(module, "SPEC", None)
            if spec is not None:
                specs.setdefault(spec.key, spec)
        if key in specs:
            return lambda path: specs[key].write(path, 0)
    if key in ("hybrid", "granitehybrid"):
        from support.tiny_hybrid import write_tiny_hybrid_gguf

        return write_tiny_hybrid_gguf
    raise SystemExit(f"no tiny {key} model in tests/support (tiny_archs/, tiny_hybrid.py)")


def resolve(name: str, scratch: Path) -> Path:
    if name == "gemma":
        return gemma_test_model()
    if name.startswith("tiny-"):
        return tiny_writer(name.removeprefix("tiny-"))(scratch / f"{name}.gguf")
    return Path(name)


def first_turn(model: LocalModel, run: int) -> tuple[str, list[Source], str]:
    """The question, its sources and the rendered prompt: as many passages as keep the prompt
    within PROMPT_TOKENS for this model's tokenizer (5 a source for Gemma, 1,622 tokens), and
    different each run so the first turn never benefits from the last run's cache."""
    question = f"Question {run} : comment APT choisit-il un miroir ?"

    def build(repeats: int) -> tuple[list[Source], str]:
        sources = [
            Source(i, f"/docs/manuel-{run}.html", f"Section {i}", None, PASSAGE * repeats)
            for i in range(1, N_SOURCES + 1)
        ]
        return sources, model.render_chat(build_messages(question, sources, "fr"))

    repeats = 1
    while model.count_tokens(build(repeats + 1)[1]) <= PROMPT_TOKENS:
        repeats += 1
    return (question, *build(repeats))


def measure(path: Path, runs: int) -> dict[str, Any]:
    host = ModelHost()
    model = host.load(LoadRequest(path, n_ctx=4096, n_threads=0)).result()
    firsts, follows, reused, foreign = [], [], [], []
    context_tokens = follow_tokens = 0
    try:
        for run in range(runs):
            question, sources, prompt = first_turn(model, run)
            context_tokens = model.count_tokens(prompt)
            wait_for_quiet(QUIET_CORES, patience=60)
            load = ForeignLoad()
            first_ms, answer, _ = ttft(host, model, prompt)
            # The follow-up as the pipeline builds it: the first exchange as history (with its
            # sources, as they were evaluated), then the new question. It brings no new sources
            # here, so the figure isolates what the cache saves.
            turn = PastTurn(question, answer, tuple(sources))
            follow = build_messages("Et pour les mises à jour de sécurité ?", [], "fr", [turn])
            follow_prompt = model.render_chat(follow)
            follow_tokens = model.count_tokens(follow_prompt)
            follow_ms, _, cached = ttft(host, model, follow_prompt)
            firsts.append(first_ms)
            follows.append(follow_ms)
            reused.append(cached)
            foreign.append(load.cores())
    finally:
        host.shutdown()
    # Runs during which other processes took CPU are left out of the headline (all are kept
    # when none was quiet); the ratio is taken within each run, first turn and follow-up being
    # measured a moment apart.
    quiet = [i for i in range(runs) if foreign[i] < QUIET_CORES] or list(range(runs))
    return {
        "model": str(path),
        "architecture": model.info.architecture,
        "context_tokens": context_tokens,
        "follow_up_tokens": follow_tokens,
        "follow_up_reused_tokens": statistics.median(reused),
        "first_turn_ttft_ms": statistics.median(firsts[i] for i in quiet),
        "follow_up_ttft_ms": statistics.median(follows[i] for i in quiet),
        "ratio": statistics.median(follows[i] / firsts[i] for i in quiet),
        "quiet_runs": len(quiet) if any(f < QUIET_CORES for f in foreign) else 0,
        "raw": {
            "first": firsts,
            "follow_up": follows,
            "reused": reused,
            "foreign_cores": foreign,
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", action="append", help="a GGUF path, gemma or tiny-ARCH")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="lanterne-followup-") as scratch:
        paths = [resolve(name, Path(scratch)) for name in args.model or ["gemma"]]
        for path in paths:
            results.append(measure(path, args.runs))
    if args.json:
        print(json.dumps(results if len(results) > 1 else results[0], indent=2))
        return 0
    for result in results:
        print(
            f"{Path(result['model']).name} ({result['architecture']}): first turn with "
            f"{result['context_tokens']} tokens of context {result['first_turn_ttft_ms']:.0f} ms,"
            f" follow-up ({result['follow_up_tokens']} tokens, "
            f"{result['follow_up_reused_tokens']:.0f} cached) "
            f"{result['follow_up_ttft_ms']:.0f} ms, ratio {result['ratio']:.2f} (target <= 0.20;"
            f" {result['quiet_runs']} of {len(result['raw']['first'])} runs undisturbed)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
