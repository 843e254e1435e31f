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
    """Row buffers with spare capacity, filled up to `size`: a refresh that brings a batch of new
    vectors writes them in place instead of copying the whole matrix (384 MB at a million)."""

    model: str
    last_id: int = 0
    deleted_seen: int = 0
    size: int = 0
    chunk_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    q: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.int8))
    scales: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    mean: np.ndarray | None = None
    bits: np.ndarray | None = None

    def append(self, ids: np.ndarray, scales: np.ndarray, q: np.ndarray) -> None:
        start, stop = self.size, self.size + len(ids)
        if self.q.shape[1:] != q.shape[1:]:
            self.q = np.zeros((0, q.shape[1]), np.int8)
        self.chunk_ids = _room(self.chunk_ids, stop)
        self.scales = _room(self.scales, stop)
        self.q = _room(self.q, stop)
        self.chunk_ids[start:stop] = ids
        self.scales[start:stop] = scales
        self.q[start:stop] = q
        self.size = stop


def _room(buffer: np.ndarray, rows: int) -> np.ndarray:
    """`buffer`, or a copy with room for at least `rows` rows (doubling, so appends are cheap)."""
    if len(buffer) >= rows:
        return buffer
    bigger = np.empty((max(rows, 2 * len(buffer), 1024), *buffer.shape[1:]), buffer.dtype)
    bigger[: len(buffer)] = buffer
    return bigger


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
                or deleted - current.deleted_seen > max(1000, current.size // 5)
            ):
                current = _Loaded(model=model, deleted_seen=deleted)
            rows = db.execute(
                "SELECT id, chunk_id, scale, vector FROM vectors WHERE model = ? AND id > ? "
                "ORDER BY id",
                [model, current.last_id],
            ).fetchall()
            if rows:
                current.append(
                    np.fromiter((r[1] for r in rows), np.int64, len(rows)),
                    np.fromiter((r[2] for r in rows), np.float32, len(rows)),
                    np.frombuffer(b"".join(r[3] for r in rows), np.int8).reshape(len(rows), -1),
                )
                current.last_id = int(rows[-1][0])
                if current.size * current.q.shape[1] > EXACT_LIMIT:
                    _add_bits(current, len(rows))
            self._loaded = current
            return current.size

    def search(self, query: np.ndarray, n: int) -> list[tuple[int, float]]:
        """(chunk id, cosine) of the n nearest vectors, best first; ids may include chunks
        deleted since the last refresh (the caller's join drops them)."""
        loaded = self._loaded
        if loaded is None or not loaded.size or n <= 0:
            return []
        size = loaded.size  # a refresh may append meanwhile: read up to what was there
        chunk_ids, q, scales = loaded.chunk_ids[:size], loaded.q[:size], loaded.scales[:size]
        query = np.asarray(query, np.float32)
        if loaded.bits is not None and loaded.mean is not None:
            wanted = max(500, 40 * n)
            bits = loaded.bits[:size]
            candidates = _hamming_nearest(bits, _signs(query - loaded.mean), wanted)
            scores = (q[candidates].astype(np.float32) @ query) * scales[candidates]
        else:
            candidates = np.arange(size)
            scores = np.empty(size, np.float32)
            for start in range(0, size, BLOCK_ROWS):
                stop = min(start + BLOCK_ROWS, size)
                block = q[start:stop].astype(np.float32)
                scores[start:stop] = (block @ query) * scales[start:stop]
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top])]
        return [(int(chunk_ids[candidates[i]]), float(scores[i])) for i in top]


def _signs(vectors: np.ndarray) -> np.ndarray:
    return np.packbits(np.atleast_2d(vectors) > 0, axis=1)


def _add_bits(loaded: _Loaded, added: int) -> None:
    """Sign bits for the last `added` rows (for all rows, and the mean, the first time)."""
    size, width = loaded.size, (loaded.q.shape[1] + 7) // 8
    if loaded.bits is None or loaded.mean is None:
        total = np.zeros(loaded.q.shape[1], np.float64)
        for start in range(0, size, BLOCK_ROWS):
            stop = min(start + BLOCK_ROWS, size)
            total += (
                loaded.q[start:stop].astype(np.float32) * loaded.scales[start:stop, None]
            ).sum(0)
        loaded.mean = (total / size).astype(np.float32)
        loaded.bits = np.zeros((0, width), np.uint8)
        added = size
    loaded.bits = _room(loaded.bits, size)
    for start in range(size - added, size, BLOCK_ROWS):
        stop = min(start + BLOCK_ROWS, size)
        block = loaded.q[start:stop].astype(np.float32) * loaded.scales[start:stop, None]
        loaded.bits[start:stop] = _signs(block - loaded.mean)


def _hamming_nearest(bits: np.ndarray, query_bits: np.ndarray, wanted: int) -> np.ndarray:
    width = bits.shape[1]
    if width % 8 == 0:
        words = bits.view(np.uint64)
        distance = np.bitwise_count(words ^ query_bits.view(np.uint64)).sum(axis=1, dtype=np.int32)
    else:
        distance = np.bitwise_count(bits ^ query_bits).sum(axis=1, dtype=np.int32)
    wanted = min(wanted, len(distance))
    return np.argpartition(distance, wanted - 1)[:wanted]
