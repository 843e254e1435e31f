"""A question's words that no passage holds, searched by words also under the index's own word
nearest in meaning: "sauvegarde" over an English manual also looks for "backup".

Words alone cannot cross languages, and the built-in embedding model crosses them only
roughly; its nearest neighbour for a single word is often the translation. Only words the index
lacks are expanded (a word it holds already finds its passages, in either language), and only
by a neighbour close enough (cosine >= THRESHOLD) from words that at least two passages hold
(fewer are mostly names and typos). The index's words are counted and embedded by the
embedding worker after the passages (a few seconds per thousand passages), once per model.

Chosen on the tuning questions (bench/retrieval_quality.py: the handbook and the first
held-out set, cross-lingual settings): French questions over the English handbook 0.700 ->
0.750 recall@5, over the Developer's Reference PDFs 0.750 -> 0.844; the threshold changed
nothing between 0.80 and 0.88 there. 0.87 because a single word's neighbours are close together
(sauvegarde: backup 0.885, copies 0.863) and a word with no translation in the index lands
below it (imprimante: copies 0.861).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lanterne.foundation.stemming import STOP_WORDS, words
from lanterne.indexer.embedding import TextEmbedder, model_key
from lanterne.indexer.store import IndexStore
from lanterne.indexer.vectors import quantize

MIN_LENGTH = 3
MIN_PASSAGES = 2
MAX_WORDS = 100_000  # the most widespread words only: 40 MB of int8 vectors in memory at most
THRESHOLD = 0.87
BATCH = 256


def index_words(text: str) -> list[str]:
    """The words worth a neighbour: alphabetic, three letters or more, not function words."""
    return [w for w in words(text) if len(w) >= MIN_LENGTH and w.isalpha() and w not in STOP_WORDS]


def embed_index_words(
    store: IndexStore,
    embedder: TextEmbedder,
    stop: threading.Event | None = None,
    wait_turn: Callable[[], object] | None = None,
) -> int:
    """Count the words of passages added since the last call, then embed those not embedded
    yet with this model (waiting for `wait_turn` between batches); returns how many."""
    store.count_new_words(index_words)
    model = model_key(embedder)
    done = 0
    while stop is None or not stop.is_set():
        todo = store.words_to_embed(model, MIN_PASSAGES, BATCH, MAX_WORDS)
        if not todo:
            break
        if wait_turn is not None:
            wait_turn()
        q, _scales = quantize(embedder.embed_queries(todo))  # a cosine needs no scale
        store.write_word_vectors(model, todo, [row.tobytes() for row in q])
        done += len(todo)
    return done


@dataclass
class _Matrix:
    words: list[str]
    rows: np.ndarray  # int8, one row per word
    weights: np.ndarray  # float32: 1 / each row's norm, so (rows @ v) * weights is the cosine


_BLOCK = 8192
_matrices: dict[tuple[str, str], _Matrix] = {}  # (index file, model) -> its words' vectors
_lock = threading.Lock()


def _matrix(store: IndexStore, model: str) -> _Matrix:
    """The index's word vectors, loaded once per process, and again once a tenth more (or
    fewer) have been embedded: not at every search while the worker adds them."""
    count = int(
        store.db.execute("SELECT COUNT(*) FROM word_vectors WHERE model = ?", [model]).fetchone()[0]
    )
    key = (str(store.path), model)
    with _lock:
        cached = _matrices.get(key)
        if cached is not None and abs(count - len(cached.words)) <= len(cached.words) // 10:
            return cached
        names, blobs = store.word_vectors(model)
        rows = np.zeros((0, 0), np.int8)
        weights = np.zeros(0, np.float32)
        if names:
            rows = np.frombuffer(b"".join(blobs), np.int8).reshape(len(names), -1)
            norms = np.linalg.norm(rows.astype(np.float32), axis=1)
            weights = 1.0 / np.maximum(norms, 1e-9)
        _matrices[key] = _Matrix(names, rows, weights)
        return _matrices[key]


def neighbours(store: IndexStore, embedder: TextEmbedder, question: str) -> list[str]:
    """For each word of the question that no passage holds, the index's nearest word in
    meaning, when one is close enough."""
    asked = list(dict.fromkeys(index_words(question)))
    known = store.known_words(asked)
    missing = [w for w in asked if w not in known]
    if not missing:
        return []
    matrix = _matrix(store, model_key(embedder))
    if not matrix.words:
        return []
    columns = embedder.embed_queries(missing).astype(np.float32).T
    similarities = np.concatenate(  # by blocks: a float copy of 100k rows would be 150 MB
        [
            (matrix.rows[i : i + _BLOCK].astype(np.float32) @ columns).T
            * matrix.weights[i : i + _BLOCK]
            for i in range(0, len(matrix.words), _BLOCK)
        ],
        axis=1,
    )
    found = []
    for row in similarities:
        best = int(np.argmax(row))
        if row[best] >= THRESHOLD and matrix.words[best] not in found:
            found.append(matrix.words[best])
    return found
