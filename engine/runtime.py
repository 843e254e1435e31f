"""One GGUF model loaded in this process with llama-cpp-python.

Not thread-safe, like llama.cpp's context: `ModelHost` gives it a thread of its own. Prompts are
rendered with the model's own chat template, and timings come from llama.cpp's perf counters so
they match what llama.cpp's tools report.
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import llama_cpp

from lanterne.engine import ggml_api, llama_log
from lanterne.engine.chat_template import (
    TURN_MARKERS,
    ChatTemplate,
    Message,
    allow_broken_templates,
)
from lanterne.engine.errors import GenerationCancelledError, ModelLoadError
from lanterne.engine.generation import SamplingParams, Timings
from lanterne.engine.gguf_header import read_summary
from lanterne.engine.hardware import Hardware, probe
from lanterne.engine.model_info import ModelInfo
from lanterne.engine.offload import OffloadPlan, PlanOverrides, plan_offload
from lanterne.engine.prompt_cache import DecodeAbortedError, PromptCache
from lanterne.engine.reasoning import (
    END,
    Piece,
    ReasoningEffort,
    Thought,
    detect_format,
    make_splitter,
)
from lanterne.engine.reasoning import markers as reasoning_markers
from lanterne.engine.sampler_chain import SamplerChain
from lanterne.engine.tensor_overrides import expert_patterns, overriding_tensors
from lanterne.engine.text_stream import TextAssembler
from lanterne.foundation.translation import _

__all__ = ["TURN_MARKERS", "LocalModel", "Message", "SamplingParams", "Timings"]

_NO_ABORT = llama_cpp.ggml_abort_callback(0)  # a NULL function pointer: no abort check
_CONTROL = llama_cpp.LLAMA_TOKEN_ATTR_CONTROL | llama_cpp.LLAMA_TOKEN_ATTR_UNKNOWN


def _load_llama(path: Path, plan: OffloadPlan) -> tuple[llama_cpp.Llama, object]:
    """Create the Llama the plan describes; the second value must live as long as the model."""
    ggml_api.load_backends()
    kv_type = llama_cpp.GGML_TYPE_Q8_0 if plan.kv_type == "q8_0" else None
    with (
        llama_log.explained_load_failure(path),
        overriding_tensors(expert_patterns(plan.cpu_expert_layers)) as keep,
    ):
        llm = llama_cpp.Llama(
            model_path=str(path),
            n_ctx=plan.n_ctx,
            n_threads=plan.n_threads,
            n_threads_batch=plan.n_threads,
            n_gpu_layers=plan.n_gpu_layers,
            n_batch=plan.n_batch,
            n_ubatch=plan.n_ubatch,
            flash_attn=plan.flash_attn,
            offload_kqv=plan.kv_on_gpu or plan.n_gpu_layers == 0,
            type_k=kv_type,
            type_v=kv_type,
            verbose=False,
        )
    return llm, keep


class LocalModel:
    def __init__(self, llm: llama_cpp.Llama, info: ModelInfo, plan: OffloadPlan) -> None:
        self._llm = llm
        self.info = info
        self.plan = plan
        self.reasoning_format = detect_format(info.chat_template)
        self._template = ChatTemplate(
            info.chat_template,
            bos=self._token_text(llm.token_bos()),
            eos=self._token_text(llm.token_eos()),
            model=info.name,
            fmt=self.reasoning_format,
        )
        self.last_reasoning = ""
        self.last_timings: Timings | None = None
        self._keep_alive: object = None  # tensor override array: llama.cpp holds its pointers
        self._abort_flag: threading.Event | None = None
        self._abort_callback = llama_cpp.ggml_abort_callback(self._should_abort)
        self._vocab = llama_cpp.llama_model_get_vocab(llm.model)
        self._n_vocab = int(llama_cpp.llama_vocab_n_tokens(self._vocab))
        self._pieces: dict[int, tuple[bytes, bool]] = {}  # token -> (text, is a control token)
        self._cache = PromptCache(llm.ctx, int(llm.n_ctx()), plan.n_batch)

    @classmethod
    def load(
        cls,
        path: Path,
        *,
        n_ctx: int = 4096,
        n_threads: int = 0,
        overrides: PlanOverrides | None = None,
        hardware: Hardware | None = None,
    ) -> LocalModel:
        """Read the header, plan the offload, then load: a model that cannot fit fails first."""
        path = path.expanduser()
        llama_log.install()
        allow_broken_templates()
        summary = read_summary(path)
        hardware = hardware or probe()
        if n_threads > 0:
            overrides = replace(overrides or PlanOverrides(), n_threads=n_threads)
        plan = plan_offload(summary, hardware, n_ctx, overrides)
        try:
            llm, keep = _load_llama(path, plan)
        except ModelLoadError as exc:
            if plan.backend == "cpu":
                raise
            # A GPU backend that fails to initialise (driver, out of memory): run on the CPU
            # rather than not at all, and say why.
            cpu = plan_offload(summary, replace(hardware, gpus=()), n_ctx, overrides)
            plan = replace(
                cpu,
                description=cpu.description
                + " "
                + _("The GPU could not be used: {error}").format(error=exc),
            )
            llm, keep = _load_llama(path, plan)
        info = ModelInfo.from_summary(summary)
        model = cls(llm, info, plan)
        model._keep_alive = keep
        return model

    def _should_abort(self, _data: object) -> bool:
        flag = self._abort_flag
        return flag is not None and flag.is_set()

    def _set_abort(self, on: bool) -> None:
        callback = self._abort_callback if on else _NO_ABORT
        llama_cpp.llama_set_abort_callback(self._llm.ctx, callback, None)

    def close(self) -> None:
        """Free the weights now: a Llama left to the garbage collector can fail at exit."""
        self._llm.close()

    @property
    def n_ctx(self) -> int:
        return int(self._llm.n_ctx())

    def _token_text(self, token: int) -> str:
        return str(self._llm._model.token_get_text(token)) if token >= 0 else ""

    @property
    def template_problem(self) -> str | None:
        """Why the model's chat template is not used (in words), or None when it is."""
        return self._template.problem

    def render_chat(self, messages: list[Message], reasoning: ReasoningEffort = "low") -> str:
        """The prompt text as the model was trained to see a conversation: reshaped to what its
        template accepts, a past answer's "reasoning_content" where the template reads it, and
        the template's reasoning switch set for `reasoning`. Without a usable template, a plain
        labelled layout any model can follow."""
        return self._template.render(messages, reasoning)

    def stop_markers(self) -> list[str]:
        """Text that means the model has finished its turn and started another."""
        return self._template.stop_markers()

    def tokenize(self, text: str) -> list[int]:
        """Tokens of a rendered prompt, without a BOS that llama-cpp-python adds itself."""
        tokens: list[int] = self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)
        bos = self._llm.token_bos()
        while tokens and tokens[0] == bos:
            tokens = tokens[1:]
        return tokens

    def count_tokens(self, text: str) -> int:
        """Tokens the model will actually evaluate for `text`, BOS included."""
        return len(self.tokenize(text)) + int(self._adds_bos)

    @property
    def _adds_bos(self) -> bool:
        return bool(self._llm._model.add_bos_token()) and self._llm.token_bos() >= 0

    def forget_prompt(self) -> None:
        """Empty the KV cache, so the next prompt is evaluated in full (benchmarks, tests)."""
        self._cache.clear()

    @property
    def cached_tokens(self) -> list[int]:
        """The tokens llama.cpp holds keys and values for, in order."""
        return list(self._cache.tokens)

    def _piece(self, token: int, shown: frozenset[bytes]) -> bytes:
        """The token's text; a control token's only when it is in `shown` (the format's markers
        and the stop strings' pieces), so no other control token ever reaches the answer."""
        known = self._pieces.get(token)
        if known is None:
            size = 64
            while True:
                buffer = ctypes.create_string_buffer(size)
                n = llama_cpp.llama_token_to_piece(self._vocab, token, buffer, size, 0, True)
                if n >= 0:
                    break
                size = -n
            control = bool(llama_cpp.llama_vocab_get_attr(self._vocab, token) & _CONTROL)
            known = self._pieces[token] = (buffer.raw[:n], control)
        piece, control = known
        if control and not any(piece in s for s in shown):
            return b""
        return piece

    def _ends_turn(self, token: int) -> bool:
        """End of generation, except harmony's `<|end|>`, which closes the analysis channel
        (llama.cpp keeps it an end token when a vocabulary lacks <|return|> or <|call|>)."""
        if not llama_cpp.llama_vocab_is_eog(self._vocab, token):
            return False
        return not (self.reasoning_format == "harmony" and self._token_text(token) == END)

    def stream(
        self,
        prompt: str,
        params: SamplingParams,
        *,
        cancel: threading.Event | None = None,
        stop: list[str] | None = None,
        on_reasoning: Callable[[str], None] | None = None,
    ) -> Iterator[str]:
        """Yield the answer's text pieces as the model produces them; reasoning pieces go to
        `on_reasoning`, and `last_reasoning` and `last_timings` are set at the end.

        Control tokens are never part of the text, except the reasoning format's markers, which
        the splitter reads and drops, and stop strings' (a turn marker ends the answer). The
        turn ends at the family's end token, or where harmony's final message ends.

        The loop is Lanterne's own rather than create_completion's, which re-decodes the whole
        answer at every token and samples the full vocabulary. `cancel` stops within a token
        while generating, and within a graph node while the prompt is evaluated (llama.cpp's
        abort callback, installed for the prefill only: ggml calls it hundreds of times a
        token, too often for Python during generation).
        """
        tokens = self.tokenize(prompt)
        if self._adds_bos:
            tokens = [self._llm.token_bos(), *tokens]
        self.last_timings = None
        self.last_reasoning = ""
        ctx = self._llm.ctx
        llama_cpp.llama_perf_context_reset(ctx)
        start = time.perf_counter()
        first: float | None = None
        reused = 0
        token = -1
        sampled = 0
        cut_short = False
        prefill: llama_cpp.llama_perf_context_data | None = None
        text = TextAssembler(stop or [])
        splitter = make_splitter(self.reasoning_format, prompt)
        shown = frozenset(
            m.encode("utf-8") for m in (*reasoning_markers(self.reasoning_format), *(stop or []))
        )
        thoughts: list[str] = []
        answered: float | None = None

        def answer(items: list[Piece]) -> Iterator[str]:
            nonlocal answered
            for item in items:
                if isinstance(item, Thought):
                    thoughts.append(item.text)
                    if on_reasoning is not None:
                        on_reasoning(item.text)
                    continue
                if answered is None:
                    answered = time.perf_counter()
                yield item

        self._abort_flag = cancel
        self._set_abort(cancel is not None)
        try:
            with SamplerChain(params, self._n_vocab, self._vocab) as sampler:
                try:
                    reused = self._cache.evaluate(tokens)
                except DecodeAbortedError as exc:
                    raise GenerationCancelledError(str(exc)) from exc
                finally:
                    self._set_abort(False)
                for n in range(params.max_tokens):
                    if cancel is not None and cancel.is_set():
                        raise GenerationCancelledError(_("The answer was stopped."))
                    if n:
                        self._cache.append(token)
                    token = sampler.sample(ctx)
                    sampled += 1
                    if first is None:
                        first = time.perf_counter()
                        # The prompt's decode is counted once its logits are read; a prompt of
                        # one new token counts as "eval" there, so generation is told apart here.
                        prefill = llama_cpp.llama_perf_context(ctx)
                    if self._ends_turn(token):
                        break
                    piece = text.feed(self._piece(token, shown))
                    if piece:
                        yield from answer(splitter.feed(piece))
                    if text.stopped or splitter.done:
                        break
                    if len(self._cache.tokens) >= self.n_ctx:
                        cut_short = True
                        break  # the context is full: the answer ends here
                else:
                    cut_short = params.max_tokens > 0
                rest = text.flush()
                yield from answer([*splitter.feed(rest), *splitter.flush()])
        finally:
            self._set_abort(False)
            self._abort_flag = None
            perf = llama_cpp.llama_perf_context(ctx)
            end = time.perf_counter()
            if prefill is None:
                prefill = perf
            self.last_reasoning = "".join(thoughts)
            self.last_timings = Timings(
                prompt_tokens=len(tokens),
                prompt_ms=float(prefill.t_p_eval_ms + prefill.t_eval_ms),
                predicted_tokens=int(perf.n_eval - prefill.n_eval),
                predicted_ms=float(perf.t_eval_ms - prefill.t_eval_ms),
                ttft_ms=((first or end) - start) * 1000.0,
                reused_tokens=reused,
                sampled_tokens=sampled,
                cut_short=cut_short,
                first_answer_ms=((answered or end) - start) * 1000.0,
            )
