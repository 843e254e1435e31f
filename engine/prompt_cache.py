"""The tokens whose keys and values sit in llama.cpp's KV cache, and how to extend them.

A follow-up turn or a quick-ask with the same system prompt starts with tokens already
evaluated: only the part after the longest common prefix is decoded again. Any failure leaves
the cache empty rather than out of step with what this object believes it holds.

Hybrid and recurrent models (Granite 4.0 H, LFM2, Nemotron-H) cannot cut their cache back: their
state is copied near the end of each prompt and now and then in an answer, `COPY_INTERVAL`
tokens apart at least (`state_checkpoints`), and a prompt that shares less than the whole cache
goes back to the nearest copy before the point where it differs. Attention-only models take no
copies.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence

import llama_cpp

from lanterne.engine.errors import EngineError
from lanterne.engine.state_checkpoints import MAX_BYTES, MAX_COUNT, StateCheckpoints
from lanterne.engine.state_checkpoints import needs_checkpoints as _needs_checkpoints
from lanterne.foundation.translation import _

DECODE_ABORTED = 2  # llama_decode: the abort callback asked to stop
DECODE_NO_SLOT = 1  # llama_decode: no room left in the KV cache
# Tokens between two state copies: a follow-up whose history differs near the end of the last
# answer (a stop string, a token split differently) evaluates at most this many again. A copy
# of a prompt splits its evaluation in two batches: one weight pass more, not worth it for a
# follow-up of a few words.
COPY_INTERVAL = 64
# Prompt tokens after the prompt's copy: one small batch more, whatever the model.
PROMPT_TAIL = 16


class ContextFullError(EngineError):
    """The conversation no longer fits the model's context window."""


class DecodeAbortedError(EngineError):
    """llama.cpp stopped a decode because the abort callback asked it to."""


class PromptCache:
    def __init__(
        self,
        ctx: llama_cpp.llama_context_p,
        n_ctx: int,
        n_batch: int,
        *,
        max_checkpoints: int = MAX_COUNT,
        checkpoint_bytes: int = MAX_BYTES,
    ) -> None:
        self._ctx = ctx
        self._memory = llama_cpp.llama_get_memory(ctx)
        self.n_ctx = n_ctx
        self._n_batch = max(1, n_batch)
        self.tokens: list[int] = []
        self._one = (llama_cpp.llama_token * 1)()
        self.checkpoints = StateCheckpoints(ctx, max_checkpoints, checkpoint_bytes)
        self._checkpointing = _needs_checkpoints(ctx)

    def evaluate(self, tokens: Sequence[int]) -> int:
        """Hold exactly `tokens`, with logits for the last one; return how many were reused."""
        if not tokens:
            raise ValueError(_("An empty prompt cannot be evaluated."))
        if len(tokens) > self.n_ctx:
            raise ContextFullError(
                _("The prompt has {n} tokens; the model's context holds {ctx}.").format(
                    n=len(tokens), ctx=self.n_ctx
                )
            )
        reused = _common_prefix(self.tokens, tokens)
        if reused == len(tokens):
            reused -= 1  # the last token is decoded again: its logits pick the next one
        self._truncate(reused)
        reused = len(self.tokens)
        if not self._checkpointing:
            self._decode_span(tokens, len(tokens))
            return reused
        # A copy a few tokens before the end serves a re-ask of the same prompt (its last token
        # must be decoded again for its logits), a follow-up whose history drops the tail of
        # the generation prompt (Qwen3.5's empty <think></think>), and one that extends it.
        mark = max(reused, len(tokens) - PROMPT_TAIL)
        if mark - self._last_copy() >= COPY_INTERVAL:
            self._decode_span(tokens, mark)
            self.checkpoints.take(mark, keep=True)
        self._decode_span(tokens, len(tokens))
        return reused

    def append(self, token: int) -> None:
        """Decode one generated token after the cached ones."""
        if len(self.tokens) >= self.n_ctx:
            raise ContextFullError(_("The answer reached the end of the model's context."))
        self._one[0] = token
        self._decode(self._one, (token,))
        if self._checkpointing and len(self.tokens) - self._last_copy() >= COPY_INTERVAL:
            self.checkpoints.take(len(self.tokens))

    def clear(self) -> None:
        llama_cpp.llama_memory_clear(self._memory, True)
        self.tokens = []
        self.checkpoints.clear()

    def _last_copy(self) -> int:
        positions = self.checkpoints.positions
        return positions[-1] if positions else 0

    def _decode_span(self, tokens: Sequence[int], end: int) -> None:
        for start in range(len(self.tokens), end, self._n_batch):
            chunk = list(tokens[start : min(start + self._n_batch, end)])
            self._decode((llama_cpp.llama_token * len(chunk))(*chunk), chunk)

    def _truncate(self, keep: int) -> None:
        if keep >= len(self.tokens):
            return
        if keep > 0 and llama_cpp.llama_memory_seq_rm(self._memory, 0, keep, -1):
            self._cut(keep)
            return
        # Recurrent layers cannot forget a tail: go back to the nearest copy of their state.
        checkpoint = self.checkpoints.best(keep) if keep > 0 else None
        if (
            checkpoint is not None
            and self.checkpoints.restore(checkpoint)
            and llama_cpp.llama_memory_seq_rm(self._memory, 0, checkpoint.n_tokens, -1)
        ):
            self._cut(checkpoint.n_tokens)
            return
        if keep > 0:
            # A cache that refuses to be cut yet was not known as recurrent: copy its state
            # from now on, so the next turn can go back.
            self._checkpointing = True
        self.clear()

    def _cut(self, keep: int) -> None:
        del self.tokens[keep:]
        self.checkpoints.drop_after(keep)

    def _decode(self, array: ctypes.Array[ctypes.c_int32], tokens: Sequence[int]) -> None:
        batch = llama_cpp.llama_batch_get_one(array, len(tokens))
        status = int(llama_cpp.llama_decode(self._ctx, batch))
        if status == 0:
            self.tokens.extend(tokens)
            return
        self.clear()  # part of the batch may be in the cache: start clean next time
        if status == DECODE_ABORTED:
            raise DecodeAbortedError(_("The answer was stopped."))
        if status == DECODE_NO_SLOT:
            raise ContextFullError(_("The model's context is full."))
        raise EngineError(
            _("llama.cpp could not evaluate the prompt (error {code}).").format(code=status)
        )


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n
