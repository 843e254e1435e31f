"""Nearest-neighbour search over chunk embeddings in plain numpy, without SQLite extensions.

Python builds without loadable SQLite extensions are common (macOS's system Python, this project's
CI), so vectors live in an ordinary table as int8 with one scale per vector (a quarter of float32,
and cosine rankings barely move) and are searched in memory. Up to a few million numbers the scan
is exact; beyond, one bit per dimension (sign around the corpus mean) picks candidates by Hamming
distance, and those are re-scored exactly: a million 384-dimension vectors cost 48 MB of bits.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
import sqlite_utils

EXACT_LIMIT = 24_000_000  # vectors x dimensions scanned exactly; above, bits pick candidates
BLOCK_ROWS = 32_768


def quantize(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of float vectors -> (int8 rows, float32 scale per row)."""
    peak = np.abs(vectors).max(axis=1)
    scales = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    q = np.clip(np.rint(vectors / scales[:, None]), -127, 127).astype(np.int8)
    return q, scales


@dataclass
class _Loaded:
    model: str
    last_id: int = 0
    deleted_seen: int = 0
    chunk_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    q: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.int8))
    scales: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    mean: np.ndarray | None = None
    bits: np.ndarray | None = None


class VectorIndex:
    """The vectors of one model, kept in step with the table by cheap incremental refreshes."""

    def __init__(self) -> None:
        self._loaded: _Loaded | None = None
        self._lock = threading.Lock()

    def refresh(self, db: sqlite_utils.Database, model: str) -> int:
        """Load vectors added since the last call (all of them on a model change or after many
        deletions); returns how many are loaded."""
        with self._lock:
            deleted = int(
                db.execute("SELECT deleted FROM vector_changes WHERE id = 1").fetchone()[0]
            )
            current = self._loaded
            if (
                current is None
                or current.model != model
                or deleted - current.deleted_seen > max(1000, len(current.chunk_ids) // 5)
            ):
                current = _Loaded(model=model, deleted_seen=deleted)
            rows = db.execute(
                "SELECT id, chunk_id, scale, vector FROM vectors WHERE model = ? AND id > ? "
                "ORDER BY id",
                [model, current.last_id],
            ).fetchall()
            if rows:
                ids = np.fromiter((r[1] for r in rows), np.int64, len(rows))
                scales = np.fromiter((r[2] for r in rows), np.float32, len(rows))
                q = np.frombuffer(b"".join(r[3] for r in rows), np.int8).reshape(len(rows), -1)
                if len(current.chunk_ids):
                    current.chunk_ids = np.concatenate([current.chunk_ids, ids])
                    current.q = np.vstack([current.q, q])
                    current.scales = np.concatenate([current.scales, scales])
                else:
                    current.chunk_ids, current.q, current.scales = ids, q, scales
                current.last_id = int(rows[-1][0])
                if current.q.size > EXACT_LIMIT:
                    _add_bits(current, len(rows))
            self._loaded = current
            return len(current.chunk_ids)

    def search(self, query: np.ndarray, n: int) -> list[tuple[int, float]]:
        """(chunk id, cosine) of the n nearest vectors, best first; ids may include chunks
        deleted since the last refresh (the caller's join drops them)."""
        loaded = self._loaded
        if loaded is None or not len(loaded.chunk_ids) or n <= 0:
            return []
        query = np.asarray(query, np.float32)
        if loaded.bits is not None and loaded.mean is not None:
            wanted = max(500, 40 * n)
            candidates = _hamming_nearest(loaded.bits, _signs(query - loaded.mean), wanted)
            scores = (loaded.q[candidates].astype(np.float32) @ query) * loaded.scales[candidates]
        else:
            candidates = np.arange(len(loaded.chunk_ids))
            scores = np.empty(len(candidates), np.float32)
            for start in range(0, len(candidates), BLOCK_ROWS):
                stop = min(start + BLOCK_ROWS, len(candidates))
                block = loaded.q[start:stop].astype(np.float32)
                scores[start:stop] = (block @ query) * loaded.scales[start:stop]
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top])]
        return [(int(loaded.chunk_ids[candidates[i]]), float(scores[i])) for i in top]


def _signs(vectors: np.ndarray) -> np.ndarray:
    return np.packbits(np.atleast_2d(vectors) > 0, axis=1)


def _add_bits(loaded: _Loaded, added: int) -> None:
    if loaded.bits is None or loaded.mean is None:
        dequantized_mean = np.zeros(loaded.q.shape[1], np.float64)
        for start in range(0, len(loaded.q), BLOCK_ROWS):
            block = loaded.q[start : start + BLOCK_ROWS].astype(np.float32)
            dequantized_mean += (block * loaded.scales[start : start + BLOCK_ROWS, None]).sum(0)
        loaded.mean = (dequantized_mean / len(loaded.q)).astype(np.float32)
        added = len(loaded.q)
        loaded.bits = np.zeros((0, (loaded.q.shape[1] + 7) // 8), np.uint8)
    parts = []
    for start in range(len(loaded.q) - added, len(loaded.q), BLOCK_ROWS):
        stop = min(start + BLOCK_ROWS, len(loaded.q))
        block = loaded.q[start:stop].astype(np.float32) * loaded.scales[start:stop, None]
        parts.append(_signs(block - loaded.mean))
    loaded.bits = np.vstack([loaded.bits, *parts])


def _hamming_nearest(bits: np.ndarray, query_bits: np.ndarray, wanted: int) -> np.ndarray:
    width = bits.shape[1]
    if width % 8 == 0:
        words = bits.view(np.uint64)
        distance = np.bitwise_count(words ^ query_bits.view(np.uint64)).sum(axis=1, dtype=np.int32)
    else:
        distance = np.bitwise_count(bits ^ query_bits).sum(axis=1, dtype=np.int32)
    wanted = min(wanted, len(distance))
    return np.argpartition(distance, wanted - 1)[:wanted]
