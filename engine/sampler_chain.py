"""llama.cpp's own sampler chain, in the order that keeps sampling cheap for big vocabularies.

Top-k runs first: every later step (repeat penalty, top-p, temperature) then sees 40 candidates
instead of the whole vocabulary (262,144 entries for Gemma 3), which llama-cpp-python's order
spends about 0.7 ms a token on. The repeat penalty only counts generated tokens: penalising
the prompt would push answers away from the very words of the sources they quote.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING

import llama_cpp

from lanterne.foundation.translation import _

if TYPE_CHECKING:
    from lanterne.engine.runtime import SamplingParams

PENALTY_WINDOW = 64  # generated tokens the repeat penalty looks back over
_RANDOM_SEED = 0xFFFFFFFF  # LLAMA_DEFAULT_SEED: llama.cpp draws a seed itself


class GrammarError(ValueError):
    """llama.cpp could not parse a grammar."""


class SamplerChain:
    def __init__(
        self, params: SamplingParams, n_vocab: int, vocab: llama_cpp.llama_vocab_p | None = None
    ) -> None:
        chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
        if chain is None:
            raise MemoryError(_("llama.cpp could not create a sampler chain (out of memory?)."))
        self._chain: llama_cpp.llama_sampler_p | None = chain

        def add(sampler: llama_cpp.llama_sampler_p) -> None:
            llama_cpp.llama_sampler_chain_add(chain, sampler)

        if params.grammar:
            # First: every later step only sees tokens the grammar allows (JSON output).
            grammar = llama_cpp.llama_sampler_init_grammar(
                vocab, params.grammar.encode("utf-8"), b"root"
            )
            if not grammar:
                self.close()
                raise GrammarError(_("llama.cpp could not parse the output grammar."))
            add(grammar)

        if params.temperature <= 0:
            if params.repeat_penalty != 1.0:
                add(llama_cpp.llama_sampler_init_top_k(max(params.top_k, 1)))
                add(_penalties(n_vocab, params.repeat_penalty))
            add(llama_cpp.llama_sampler_init_greedy())
            return
        if params.top_k > 0:
            add(llama_cpp.llama_sampler_init_top_k(params.top_k))
        if params.repeat_penalty != 1.0:
            add(_penalties(n_vocab, params.repeat_penalty))
        if params.top_p < 1.0:
            add(llama_cpp.llama_sampler_init_top_p(params.top_p, 1))
        add(llama_cpp.llama_sampler_init_temp(params.temperature))
        seed = _RANDOM_SEED if params.seed is None else params.seed & 0xFFFFFFFF
        add(llama_cpp.llama_sampler_init_dist(seed))

    def sample(self, ctx: llama_cpp.llama_context_p) -> int:
        """The next token from the last logits of `ctx`; the chain also records it as accepted."""
        assert self._chain is not None, "sampler chain used after close()"
        return int(llama_cpp.llama_sampler_sample(self._chain, ctx, -1))

    def close(self) -> None:
        if self._chain is not None:
            llama_cpp.llama_sampler_free(self._chain)  # frees the samplers it holds too
            self._chain = None

    def __enter__(self) -> SamplerChain:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _penalties(n_vocab: int, repeat: float) -> llama_cpp.llama_sampler_p:
    sampler: llama_cpp.llama_sampler_p = llama_cpp.llama_sampler_init_penalties(
        n_vocab, PENALTY_WINDOW, repeat, 0.0, 0.0
    )
    return sampler
