"""Who writes the answer: the model in this process, or one on an OpenAI-compatible server.

Both take the same fitted conversation and stream text, the answer's pieces (str) with the
model's reasoning (`Thought`) beside them; the pipeline does not care which. The local one renders
the model's own chat template and counts real tokens; a server applies its template itself, so
only an estimate of the prompt's size is possible there (see `_estimate`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Protocol

from lanterne.assistant.answer import Citation
from lanterne.assistant.budget import FittedPrompt, Messages, fit_prompt
from lanterne.assistant.engine_info import EngineInfo
from lanterne.assistant.prompt import DEFAULT_STYLE, AnswerStyle, PastTurn
from lanterne.engine import cpu_variant
from lanterne.engine.host import ModelHost
from lanterne.engine.reasoning import ReasoningEffort, Thought
from lanterne.engine.remote import RemoteChatBackend
from lanterne.engine.remote_errors import RemoteError
from lanterne.engine.runtime import LocalModel, SamplingParams, Timings
from lanterne.engine.sampling import GENERIC, recommended
from lanterne.foundation.translation import _

_PROMPT_MARGIN = 16  # tokens kept free besides the answer budget
_CHARS_PER_TOKEN = 3  # pessimistic for French and English with today's tokenizers
_TOKENS_PER_MESSAGE = 8  # role markers a chat template adds around each message


class Responder(Protocol):
    info: EngineInfo

    def sampling(self, max_tokens: int, temperature: float) -> SamplingParams: ...

    def fit(
        self,
        question: str,
        citations: Sequence[Citation],
        language: str,
        history: Sequence[PastTurn],
        max_tokens: int,
        style: AnswerStyle = DEFAULT_STYLE,
    ) -> FittedPrompt: ...

    def stream(
        self, fitted: FittedPrompt, params: SamplingParams, cancel: threading.Event | None
    ) -> Iterator[str | Thought]: ...

    def timings(self) -> Timings: ...

    def close(self) -> None:
        """Let go of what the answer needed; the loaded model stays for the next question."""


class LocalResponder:
    def __init__(
        self, host: ModelHost, model: LocalModel, reasoning: ReasoningEffort = "low"
    ) -> None:
        self._host = host
        self._model = model
        self._reasoning = reasoning
        cpu = cpu_variant.current()
        description = model.plan.description
        if cpu.variant:
            description += "\n" + _("llama.cpp's {variant} CPU build: {reason}").format(
                variant=cpu.variant, reason=cpu.reason
            )
        self.info = EngineInfo(
            backend="local",
            name=model.info.name,
            summary=model.plan.summary,
            description=description,
            model=model.info,
            plan=model.plan,
            cpu=cpu,
            reasoning_format=model.reasoning_format,
        )

    def sampling(self, max_tokens: int, temperature: float) -> SamplingParams:
        return recommended(self._model.info, max_tokens=max_tokens, temperature=temperature)

    def _render(self, messages: Messages) -> str:
        # The engine reshapes what a template refuses (a system turn, two user turns in a row)
        # and falls back to a plain layout for a broken template: rendering does not raise.
        return self._model.render_chat(messages, reasoning=self._reasoning)

    def fit(
        self,
        question: str,
        citations: Sequence[Citation],
        language: str,
        history: Sequence[PastTurn],
        max_tokens: int,
        style: AnswerStyle = DEFAULT_STYLE,
    ) -> FittedPrompt:
        model = self._model

        def measure(messages: Messages) -> tuple[str, int]:
            prompt = self._render(messages)
            return prompt, model.count_tokens(prompt)

        budget = model.n_ctx - max_tokens - _PROMPT_MARGIN
        # Tokenizing runs on the model's thread: llama.cpp's objects are not shared.
        job = self._host.submit(
            lambda: fit_prompt(question, citations, language, history, budget, measure, style)
        )
        return job.result()

    def stream(
        self, fitted: FittedPrompt, params: SamplingParams, cancel: threading.Event | None
    ) -> Iterator[str | Thought]:
        stop = self._model.stop_markers()
        return self._host.stream(
            self._model, fitted.prompt, params, cancel=cancel, stop=stop, reasoning=True
        )

    def timings(self) -> Timings:
        timings = self._model.last_timings
        assert timings is not None, "timings asked for before an answer was streamed"
        return timings

    def close(self) -> None:
        pass  # the model stays loaded on its thread for the next question


class RemoteResponder:
    def __init__(self, backend: RemoteChatBackend, context_size: int) -> None:
        self._backend = backend
        self._context_size = context_size
        name = backend.model or _one_model(backend)
        self.info = EngineInfo(
            backend="remote",
            name=name,
            summary=_("on {server}").format(server=backend.base_url),
            description=_("Answers come from the server {server}, model {name}.").format(
                server=backend.base_url, name=name
            ),
            server=backend.base_url,
            reasoning_format="server",
        )

    def sampling(self, max_tokens: int, temperature: float) -> SamplingParams:
        params = GENERIC.params
        chosen = temperature if temperature >= 0 else params.temperature
        return SamplingParams(max_tokens=max_tokens, temperature=chosen, top_p=params.top_p)

    def fit(
        self,
        question: str,
        citations: Sequence[Citation],
        language: str,
        history: Sequence[PastTurn],
        max_tokens: int,
        style: AnswerStyle = DEFAULT_STYLE,
    ) -> FittedPrompt:
        budget = self._context_size - max_tokens - _PROMPT_MARGIN
        return fit_prompt(question, citations, language, history, budget, _estimate, style)

    def stream(
        self, fitted: FittedPrompt, params: SamplingParams, cancel: threading.Event | None
    ) -> Iterator[str | Thought]:
        # Earlier turns' reasoning stays here: strict servers refuse unknown message keys, and
        # templates drop the reasoning of finished turns anyway.
        messages = [
            {k: v for k, v in m.items() if k != "reasoning_content"} for m in fitted.messages
        ]
        yield from self._backend.stream_reply(messages, params, cancel)
        self.info = replace(self.info, reasoning_format=self._backend.reasoning_format)

    def timings(self) -> Timings:
        timings = self._backend.last_timings
        assert timings is not None, "timings asked for before an answer was streamed"
        return timings

    def close(self) -> None:
        self._backend.close()


def _estimate(messages: Messages) -> tuple[str, int]:
    """An upper estimate of the tokens a server will count: its tokenizer is not available here."""
    text = "\n".join(m["content"] for m in messages)
    return text, len(text) // _CHARS_PER_TOKEN + _TOKENS_PER_MESSAGE * len(messages)


def _one_model(backend: RemoteChatBackend) -> str:
    """The model a server serves when none was named; asking also proves the server is there."""
    models = backend.list_models()
    if len(models) > 1:
        raise RemoteError(
            _("The server {server} offers several models; choose one of: {models}.").format(
                server=backend.base_url, models=", ".join(models)
            )
        )
    return models[0] if models else _("the server's default model")
