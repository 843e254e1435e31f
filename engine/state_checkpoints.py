"""Copies of a recurrent model's state at a few points of the cached sequence.

A KV cache can forget its tail (`llama_memory_seq_rm`), but a Mamba or short-convolution state
is one running summary: it cannot go back a token. So for hybrid and recurrent models the state
is copied at points worth returning to (near the end of a prompt, now and then in an answer),
and a follow-up that shares the cache only up to some point goes back to the copy before it.

The copies use llama.cpp's partial sequence state (`LLAMA_STATE_SEQ_FLAGS_PARTIAL_ONLY`, what
llama-server's context checkpoints use): only the recurrent (or sliding-window) part, whose
size does not grow with the conversation, while the full-attention layers keep their own cache,
which can be cut. A copy is therefore only valid while the cache still holds the tokens it was
taken after: `PromptCache` drops the copies past any point it cuts back to.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass

import llama_cpp

PARTIAL = llama_cpp.LLAMA_STATE_SEQ_FLAGS_PARTIAL_ONLY
SEQ = 0  # Lanterne keeps one conversation in the cache: sequence 0
MAX_COUNT = 4
# A Granite 4.0 H copy is ~56 MiB (36 Mamba-2 layers of 128 x 3072 float32 states): three of
# them, the prompt's and the two latest of the answer. An LFM2 copy is a few hundred kB.
MAX_BYTES = 192 * 1024 * 1024


def needs_checkpoints(ctx: llama_cpp.llama_context_p) -> bool:
    """Whether the model keeps a state that cannot drop its last tokens (Mamba, LFM2 convs)."""
    model = llama_cpp.llama_get_model(ctx)
    if model is None:
        return False
    return bool(llama_cpp.llama_model_is_recurrent(model)) or bool(
        llama_cpp.llama_model_is_hybrid(model)
    )


@dataclass(frozen=True)
class Checkpoint:
    n_tokens: int  # the state after the cache's first `n_tokens` tokens
    data: ctypes.Array[ctypes.c_uint8]

    @property
    def size(self) -> int:
        return len(self.data)


class StateCheckpoints:
    """At most `max_count` copies and `max_bytes` in all, ordered by position.

    Positions only grow while the cache is extended, and copies past a cut are dropped, so the
    list is in the order the copies were taken, and the oldest is the nearest the start.
    """

    def __init__(
        self, ctx: llama_cpp.llama_context_p, max_count: int = MAX_COUNT, max_bytes: int = MAX_BYTES
    ) -> None:
        self._ctx = ctx
        self.max_count = max(1, max_count)
        self.max_bytes = max_bytes
        self._items: list[Checkpoint] = []
        self._keep: int | None = None  # a position the eviction spares (the prompt's copy)

    @property
    def positions(self) -> list[int]:
        return [c.n_tokens for c in self._items]

    @property
    def total_bytes(self) -> int:
        return sum(c.size for c in self._items)

    def take(self, n_tokens: int, *, keep: bool = False) -> bool:
        """Copy the current state as the one after `n_tokens` tokens; False when it is not kept.

        `keep` marks the copy eviction spares while others remain (the end of the latest
        prompt: a follow-up whose history was rewritten still shares that far).
        """
        if n_tokens <= 0:
            return False
        if self._items and self._items[-1].n_tokens == n_tokens:
            if keep:
                self._keep = n_tokens
            return True
        size = int(llama_cpp.llama_state_seq_get_size_ext(self._ctx, SEQ, PARTIAL))
        if size <= 0 or size > self.max_bytes:
            return False
        spare = self._make_room(size, keep)
        # An evicted copy's buffer of the same size is written over: no new allocation.
        data = spare if spare is not None and len(spare) == size else (ctypes.c_uint8 * size)()
        written = int(llama_cpp.llama_state_seq_get_data_ext(self._ctx, data, size, SEQ, PARTIAL))
        if written != size:
            return False
        self._items.append(Checkpoint(n_tokens, data))
        if keep:
            self._keep = n_tokens
        return True

    def best(self, limit: int) -> Checkpoint | None:
        """The copy nearest the end that lies within the first `limit` tokens."""
        for checkpoint in reversed(self._items):
            if checkpoint.n_tokens <= limit:
                return checkpoint
        return None

    def restore(self, checkpoint: Checkpoint) -> bool:
        """Put the recurrent state back as it was; the caller cuts the attention cache."""
        size = checkpoint.size
        read = llama_cpp.llama_state_seq_set_data_ext(
            self._ctx, checkpoint.data, size, SEQ, PARTIAL
        )
        return int(read) != 0

    def drop_after(self, n_tokens: int) -> None:
        """Forget the copies taken past `n_tokens`: the cache no longer holds their tokens."""
        self._items = [c for c in self._items if c.n_tokens <= n_tokens]
        if self._keep is not None and self._keep > n_tokens:
            self._keep = None

    def clear(self) -> None:
        self._items = []
        self._keep = None

    def _make_room(self, size: int, keep: bool) -> ctypes.Array[ctypes.c_uint8] | None:
        """Evict until a copy of `size` bytes fits; return the last evicted buffer.

        The oldest copies go first, but not the prompt's while others remain (unless the new
        copy is a prompt's: it takes that role). The new copy always gets its place.
        """
        spare = None
        while self._items and (
            len(self._items) >= self.max_count or self.total_bytes + size > self.max_bytes
        ):
            spared = None if keep else self._keep
            victim = next((c for c in self._items if c.n_tokens != spared), self._items[0])
            self._items.remove(victim)
            if victim.n_tokens == self._keep:
                self._keep = None
            spare = victim.data
        return spare
