"""Embeds the chunks that have no vector yet for the configured model, batch by batch.

Runs after the lexical index, on a background thread: the lexical index is searchable at once and
the vectors follow. Each batch is one transaction; the queue is the set of chunks without a vector,
so a crash or `kill -9` loses at most the batch in flight and never duplicates one. Between
batches it waits while the chat model is answering, so it never slows an answer being read. What
the user is likely to search first goes first: files changed this past week, then the folder
added last.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from lanterne.indexer.embedding import TextEmbedder, model_key
from lanterne.indexer.store import IndexStore, PendingChunk
from lanterne.indexer.vectors import quantize
from lanterne.indexer.word_neighbours import embed_index_words

BATCH = 16
RECENT_NS = 7 * 24 * 3600 * 10**9  # files changed this past week are embedded first
# Batches taken from one look for waiting chunks (a scan of the index); a chunk changed meanwhile
# is skipped when its vector is written (the text check), and found again by the next look.
PREFETCH_BATCHES = 16


@dataclass(frozen=True)
class EmbeddingProgress:
    embedded: int  # chunks with a vector from this model
    total: int  # all chunks


def _never_busy() -> None:
    return None


class EmbeddingWorker:
    def __init__(
        self,
        store: IndexStore,
        embedder: TextEmbedder,
        *,
        batch: int = BATCH,
        wait_turn: Callable[[], object] = _never_busy,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.model = model_key(embedder)
        self.batch = batch
        self.wait_turn = wait_turn

    def progress(self) -> EmbeddingProgress:
        return EmbeddingProgress(*self.store.vector_counts(self.model))

    def run(
        self,
        stop: threading.Event | None = None,
        on_batch: Callable[[EmbeddingProgress], None] | None = None,
    ) -> int:
        """Embed until no chunk is left (or `stop` is set); returns how many were embedded."""
        done = 0
        queue: list[PendingChunk] = []
        self.store.remember_vector_model(self.model, self.embedder.path, self.embedder.name)
        while stop is None or not stop.is_set():
            self.wait_turn()
            if not queue:  # finding what waits scans the index: once per several batches
                recent = time.time_ns() - RECENT_NS
                queue = self.store.chunks_to_embed(
                    self.model, self.batch * PREFETCH_BATCHES, recent_after_ns=recent
                )
            todo, queue = queue[: self.batch], queue[self.batch :]
            if not todo:
                # Every passage has this model's vectors: an earlier model's, kept for search
                # while these were computed, can go.
                self.store.drop_vectors_except(self.model)
                embed_index_words(self.store, self.embedder, stop, self.wait_turn)
                break
            vectors = self.embedder.embed_documents([c.embedding_text for c in todo])
            q, scales = quantize(vectors)
            self.store.write_vectors(
                self.model, todo, [float(s) for s in scales], [row.tobytes() for row in q]
            )
            done += len(todo)
            if on_batch is not None:
                on_batch(self.progress())
        return done
