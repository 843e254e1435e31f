"""The tokens whose keys and values sit in llama.cpp's KV cache, and how to extend them.

A follow-up turn or a quick-ask with the same system prompt starts with tokens already
evaluated: only the part after the longest common prefix is decoded again. Any failure leaves
the cache empty rather than out of step with what this object believes it holds.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence

import llama_cpp

from lanterne.engine.errors import EngineError
from lanterne.translation import _

DECODE_ABORTED = 2  # llama_decode: the abort callback asked to stop
DECODE_NO_SLOT = 1  # llama_decode: no room left in the KV cache


class ContextFullError(EngineError):
    """The conversation no longer fits the model's context window."""


class DecodeAbortedError(EngineError):
    """llama.cpp stopped a decode because the abort callback asked it to."""


class PromptCache:
    def __init__(self, ctx: llama_cpp.llama_context_p, n_ctx: int, n_batch: int) -> None:
        self._ctx = ctx
        self._memory = llama_cpp.llama_get_memory(ctx)
        self.n_ctx = n_ctx
        self._n_batch = max(1, n_batch)
        self.tokens: list[int] = []
        self._one = (llama_cpp.llama_token * 1)()

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
        for start in range(reused, len(tokens), self._n_batch):
            chunk = list(tokens[start : start + self._n_batch])
            self._decode((llama_cpp.llama_token * len(chunk))(*chunk), chunk)
        return reused

    def append(self, token: int) -> None:
        """Decode one generated token after the cached ones."""
        if len(self.tokens) >= self.n_ctx:
            raise ContextFullError(_("The answer reached the end of the model's context."))
        self._one[0] = token
        self._decode(self._one, (token,))

    def clear(self) -> None:
        llama_cpp.llama_memory_clear(self._memory, True)
        self.tokens = []

    def _truncate(self, keep: int) -> None:
        if keep >= len(self.tokens):
            return
        if keep == 0 or not llama_cpp.llama_memory_seq_rm(self._memory, 0, keep, -1):
            # Some caches (recurrent layers, a sliding window kept small) cannot forget a tail.
            self.clear()
            return
        del self.tokens[keep:]

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
