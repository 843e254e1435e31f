"""Dense search latency and memory at 10k, 100k and 1M vectors, and the query embedding's time.

    .venv/bin/python bench/vector_latency.py [--sizes 10000,100000,1000000] [--json]

Embedding a million real chunks would take hours on 2 cores, and the search's cost does not
depend on what the vectors mean, only on their number, dimensions and spread. So the vectors are
384-dimension, drawn around 2,000 centres (clustered like real embeddings, where sign bits must
still find the right neighbours), stored through the real `vectors` table as int8, loaded by the
real `VectorIndex`, and searched; recall@10 of the search against an exact float32 scan is
reported with the time. The query embedding (multilingual-e5-small GGUF, the same model the
retrieval-quality benchmark uses) is timed on its own: it is paid once per question whatever
the index size.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from lanterne.engine.embedder import Embedder
from lanterne.foundation.database import transaction
from lanterne.indexer.store import IndexStore
from lanterne.indexer.vectors import VectorIndex, quantize

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.models import embedding_model

DIM = 384
QUERIES = 40


def clustered(rng: np.random.Generator, n: int) -> np.ndarray:
    centres = rng.normal(size=(2000, DIM)).astype(np.float32)
    out = np.empty((n, DIM), np.float32)
    for start in range(0, n, 100_000):
        stop = min(n, start + 100_000)
        block = centres[rng.integers(0, 2000, stop - start)]
        block += 0.7 * rng.normal(size=block.shape).astype(np.float32)
        out[start:stop] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def measure(n: int, work: Path) -> dict[str, object]:
    rng = np.random.default_rng(n)
    data = clustered(rng, n)
    store = IndexStore(work / f"v{n}.sqlite3")
    q, scales = quantize(data)
    with transaction(store.db):
        store.db.conn.executemany(
            "INSERT INTO vectors (chunk_id, model, scale, vector) VALUES (?, 'bench', ?, ?)",
            ((i + 1, float(scales[i]), q[i].tobytes()) for i in range(n)),
        )
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    index = VectorIndex()
    start = time.perf_counter()
    index.refresh(store.db, "bench")
    load_s = time.perf_counter() - start
    queries = data[rng.integers(0, n, QUERIES)] + 0.2 * rng.normal(size=(QUERIES, DIM))
    queries = (queries / np.linalg.norm(queries, axis=1, keepdims=True)).astype(np.float32)
    index.search(queries[0], 10)  # warm-up
    times, recalls = [], []
    for query in queries:
        start = time.perf_counter()
        found = index.search(query, 50)
        times.append((time.perf_counter() - start) * 1000)
        exact = set((np.argsort(-(data @ query))[:10] + 1).tolist())
        recalls.append(len(exact & {i for i, _s in found[:10]}) / 10)
    store.close()
    times.sort()
    return {
        "vectors": n,
        "load_s": round(load_s, 2),
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[int(0.95 * (len(times) - 1))], 2),
        "recall_at_10": round(float(np.mean(recalls)), 3),
        "rss_growth_mb": round(
            (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024, 1
        ),
    }


def query_embedding_ms() -> dict[str, float]:
    embedder = Embedder(embedding_model())
    questions = ["Comment empêcher la mise à jour d'un paquet ?", "How do I set up a firewall?"]
    embedder.embed_query(questions[0])
    times = []
    for i in range(20):
        start = time.perf_counter()
        embedder.embed_query(questions[i % 2])
        times.append((time.perf_counter() - start) * 1000)
    embedder.close()
    return {"p50_ms": round(statistics.median(times), 2), "max_ms": round(max(times), 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        rows = [measure(n, Path(tmp)) for n in sizes]
    embedding = query_embedding_ms()
    report = {"search": rows, "query_embedding": embedding}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(
        f"{'vectors':>9} {'load s':>7} {'p50 ms':>7} {'p95 ms':>7} {'recall@10':>9} {'+RSS MB':>8}"
    )
    for r in rows:
        print(
            f"{r['vectors']:>9} {r['load_s']:>7} {r['p50_ms']:>7} {r['p95_ms']:>7} "
            f"{r['recall_at_10']:>9} {r['rss_growth_mb']:>8}"
        )
    print(
        "query embedding (multilingual-e5-small): "
        f"p50 {embedding['p50_ms']} ms, max {embedding['max_ms']} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
