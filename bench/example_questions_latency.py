"""The welcome panel's example questions on large indexes: `example_questions` as the panel calls
it (the index opened, headings sampled, three questions made, the index closed), in French and in
English, on the synthetic indexes of `query_latency.py` (built once and cached by
`synthetic_index.py`). Target: p95 well under 100 ms, at a million passages too.

    .venv/bin/python bench/example_questions_latency.py [--sizes 10000,100000,1000000] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.synthetic_index import Section, cached_index, handbook_sections, schema_key
from lanterne.example_questions import example_questions
from lanterne.foundation.translation import set_language

TARGET_MS = 100.0


def measure(db: Path, language: str, rounds: int) -> dict[str, Any]:
    set_language(language)
    times = []
    questions: list[str] = []
    for _round in range(rounds):
        start = time.perf_counter()
        questions = example_questions(db, language)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {
        "language": language,
        "max_ms": round(times[-1], 1),
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[max(0, round(0.95 * len(times)) - 1)], 1),
        "questions": questions,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    key = schema_key()
    loaded: dict[str, list[list[Section]]] = {}

    def sections() -> dict[str, list[list[Section]]]:
        if not loaded:
            from bench.index_speed import handbook

            loaded.update(handbook_sections(handbook()))
        return loaded

    results = []
    for size in [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]:
        db, _build_s, _reused = cached_index(size, key, sections)
        for language in ("fr", "en"):
            results.append({"chunks": size, **measure(db, language, args.rounds)})
    if args.json:
        print(json.dumps({"target_p95_ms": TARGET_MS, "results": results}))
        return 0
    print(f"{'chunks':>9} {'lang':>4} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7}  questions")
    for r in results:
        print(
            f"{r['chunks']:>9} {r['language']:>4} {r['p50_ms']:>7} {r['p95_ms']:>7} "
            f"{r['max_ms']:>7}  {' | '.join(r['questions'])}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
