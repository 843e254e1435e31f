"""Answering a chat request, as events the HTTP layer turns into a response or a stream.

Two kinds of answer: the plain chat model with the client's own messages (rendered with the
model's chat template, or forwarded to the remote server), and `lanterne-documents`, which goes
through `Assistant.ask` like a question typed in the app (retrieval, house rules, language,
citations). Both run on a thread of the request's own and take the model's turn first
(core/model_gate.py); `cancel` is set when the client goes away. The model's reasoning comes
apart from the answer (`Reasoned`), as vLLM sends it: never inside the answer's text.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from lanterne.assistant.answer import Citation
from lanterne.assistant.house_rules import TrailingSpace
from lanterne.assistant.pipeline import Assistant, Finished, Retrieved, Thinking, Token
from lanterne.assistant.prompt import PastTurn
from lanterne.context import AppContext
from lanterne.engine.errors import GenerationCancelledError, NoModelConfiguredError
from lanterne.engine.json_grammar import schema_grammar
from lanterne.engine.reasoning import REASONING_EFFORTS, ReasoningEffort, Thought
from lanterne.engine.runtime import SamplingParams, Timings
from lanterne.engine.sampling import GENERIC, recommended
from lanterne.engine.text_stream import TextAssembler
from lanterne.foundation.settings import Settings, SettingsError
from lanterne.foundation.translation import _
from lanterne.model_gate import API
from lanterne.serve.chat_request import ChatRequest, Message
from lanterne.serve.errors import bad_request, context_too_long

_CHARS_PER_TOKEN = 3  # a server's tokenizer is not here: a pessimistic estimate, as responders'
_TOKENS_PER_MESSAGE = 8


@dataclass(frozen=True)
class Started:
    citations: list[dict[str, Any]] | None  # lanterne-documents: the sources, before the text


@dataclass(frozen=True)
class Piece:
    text: str


@dataclass(frozen=True)
class Reasoned:
    text: str  # a piece of the model's reasoning, before (or apart from) the answer


@dataclass(frozen=True)
class Ended:
    finish_reason: str  # "stop" or "length"
    timings: Timings
    citations: list[dict[str, Any]] | None  # with `cited`: which the answer refers to


RunEvent = Started | Reasoned | Piece | Ended


def citation_json(citation: Citation, cited: bool | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "number": citation.n,
        "path": citation.path,
        "page": citation.page,
        "line": citation.line,
        "heading": citation.heading,
        "snippet": citation.snippet,
    }
    if cited is not None:
        data["cited"] = cited
    return data


class _Trim:
    """The answer as clients expect it: without the space a model's first token often starts
    with, and without trailing whitespace (held back until text follows it)."""

    def __init__(self) -> None:
        self._began = False
        self._tail = TrailingSpace()

    def feed(self, piece: str) -> str:
        if not self._began:
            piece = piece.lstrip()
            self._began = bool(piece)
        return self._tail.feed(piece) if piece else ""


def _finish_reason(timings: Timings, max_tokens: int) -> str:
    """ "length" when the token limit or the context cut the answer: the local model says so;
    a server's count is compared with the limit."""
    if timings.sampled_tokens:
        return "length" if timings.cut_short else "stop"
    return "length" if timings.predicted_tokens >= max_tokens else "stop"


def run_chat(
    ctx: AppContext, request: ChatRequest, documents: bool, cancel: threading.Event
) -> Iterator[RunEvent]:
    """The answer's events, once the model's turn has come (429 raised at once if too many
    wait)."""
    with ctx.model_gate.hold(API, cancel):
        if documents:
            yield from _documents(ctx, request, cancel)
        elif ctx.settings.get_str("engine.backend") == "remote":
            yield from _remote(ctx.settings, request, cancel)
        else:
            yield from _local(ctx, request, cancel)


def _local(ctx: AppContext, request: ChatRequest, cancel: threading.Event) -> Iterator[RunEvent]:
    model = ctx.host.load(ctx.assistant.load_request()).result()
    effort = _effort(ctx.settings, request)

    def prepare() -> tuple[str, int]:  # llama.cpp's objects stay on the model's thread
        prompt = model.render_chat(request.messages, reasoning=effort)  # reshaped, never raises
        return prompt, model.count_tokens(prompt)

    prompt, prompt_tokens = ctx.host.submit(prepare).result()
    room = model.n_ctx - prompt_tokens
    wanted = request.max_tokens
    if room < 1 or (wanted is not None and wanted > room):
        raise context_too_long(
            _(
                "This model's context holds {ctx} tokens; the messages take {prompt} and "
                "{answer} were asked for the answer. Shorten the messages or ask for less."
            ).format(ctx=model.n_ctx, prompt=prompt_tokens, answer=wanted or 1)
        )
    params = recommended(
        model.info,
        max_tokens=wanted or room,
        temperature=ctx.settings.get_float("model.temperature"),
    )
    params = _with_request(params, request)
    if request.schema is not None:
        params = replace(params, grammar=schema_grammar(request.schema))
    yield Started(None)
    stops = model.stop_markers() + request.stop
    pieces = ctx.host.stream(model, prompt, params, cancel=cancel, stop=stops, reasoning=True)
    trim, thought = _Trim(), _Trim()
    try:
        for piece in pieces:
            if isinstance(piece, Thought):
                if reasoned := thought.feed(piece.text):
                    yield Reasoned(reasoned)
            elif shown := trim.feed(piece):
                yield Piece(shown)
    finally:
        pieces.close()
    timings = model.last_timings
    assert timings is not None, "a finished stream has its timings"
    yield Ended(_finish_reason(timings, params.max_tokens), timings, None)


def _effort(settings: Settings, request: ChatRequest) -> ReasoningEffort:
    """The request's `reasoning_effort` where the organisation does not fix answer.reasoning."""
    chosen = settings.get_str("answer.reasoning")
    if request.reasoning is not None and not settings.is_locked("answer.reasoning"):
        chosen = request.reasoning
    return next((e for e in REASONING_EFFORTS if e == chosen), "low")


def _with_request(params: SamplingParams, request: ChatRequest) -> SamplingParams:
    if request.temperature is not None:
        params = replace(params, temperature=request.temperature)
    if request.top_p is not None:
        params = replace(params, top_p=request.top_p)
    if request.seed is not None:
        params = replace(params, seed=request.seed)
    return params


def _remote(
    settings: Settings, request: ChatRequest, cancel: threading.Event
) -> Iterator[RunEvent]:
    """The client's messages forwarded to the configured server (the same one the app uses);
    stop strings are applied here, as a server may not know them."""
    from lanterne.engine.remote import RemoteChatBackend

    if request.schema is not None:
        raise bad_request(
            _("JSON output needs the local model: llama.cpp's grammars."), "response_format"
        )
    url = settings.get_str("remote.url")
    if not url:
        raise NoModelConfiguredError(_("The remote backend is chosen but no server is set."))
    settings.check_remote(url)
    text = "\n".join(m["content"] for m in request.messages)
    estimate = len(text) // _CHARS_PER_TOKEN + _TOKENS_PER_MESSAGE * len(request.messages)
    room = settings.get_int("remote.context_size") - estimate
    if room < 1:
        raise context_too_long(
            _("The server's context holds {ctx} tokens; the messages take about {prompt}.").format(
                ctx=settings.get_int("remote.context_size"), prompt=estimate
            )
        )
    temperature = request.temperature
    if temperature is None:
        chosen = settings.get_float("model.temperature")
        temperature = chosen if chosen >= 0 else GENERIC.params.temperature
    params = SamplingParams(
        max_tokens=request.max_tokens or room,
        temperature=temperature,
        top_p=request.top_p if request.top_p is not None else GENERIC.params.top_p,
        seed=request.seed,
    )
    backend = RemoteChatBackend(url, settings.get_str("remote.model") or None)
    try:
        yield Started(None)
        stops = TextAssembler(request.stop)
        trim, thought = _Trim(), _Trim()
        # The reasoning of earlier turns stays here, as the app's own answers do (responders.py).
        messages = [
            {k: v for k, v in m.items() if k != "reasoning_content"} for m in request.messages
        ]
        pieces = backend.stream_reply(messages, params, cancel)
        try:
            for piece in pieces:
                if isinstance(piece, Thought):
                    if reasoned := thought.feed(piece.text):
                        yield Reasoned(reasoned)
                    continue
                if shown := trim.feed(stops.feed(piece.encode("utf-8"))):
                    yield Piece(shown)
                if stops.stopped:
                    break
        finally:
            pieces.close()
        if rest := trim.feed(stops.flush()):
            yield Piece(rest)
        timings = backend.last_timings
        assert timings is not None, "a finished stream has its timings"
        reason = "stop" if stops.stopped else _finish_reason(timings, params.max_tokens)
        yield Ended(reason, timings, None)
    finally:
        backend.close()


def _history(messages: list[Message]) -> tuple[str, list[PastTurn]]:
    """The question (the last message, a user's) and the earlier question-answer pairs; the
    client's system messages are left out: the organisation's instructions govern this model."""
    if messages[-1]["role"] != "user" or not messages[-1]["content"].strip():
        raise bad_request(
            _("lanterne-documents answers the last message, which must be the user's question."),
            "messages",
        )
    turns: list[PastTurn] = []
    question: str | None = None
    for message in messages[:-1]:
        if message["role"] == "user":
            question = message["content"]
        elif message["role"] == "assistant" and question is not None:
            reasoning = message.get("reasoning_content", "")
            turns.append(PastTurn(question, message["content"], reasoning=reasoning))
            question = None
    return messages[-1]["content"], turns


def _request_settings(settings: Settings, request: ChatRequest) -> Settings:
    """The app's settings, with the request's answer length and temperature where the
    organisation does not fix them."""
    chosen = settings.copy()
    for key, value in (
        ("model.max_answer_tokens", request.max_tokens),
        ("model.temperature", request.temperature),
        ("answer.reasoning", request.reasoning),
    ):
        if value is not None and not chosen.is_locked(key):
            try:
                chosen.set(key, value)
            except SettingsError as exc:
                raise bad_request(str(exc)) from None
    return chosen


def _documents(
    ctx: AppContext, request: ChatRequest, cancel: threading.Event
) -> Iterator[RunEvent]:
    question, history = _history(request.messages)
    settings = _request_settings(ctx.settings, request)
    assistant = Assistant(settings, ctx.host, ctx.index_path)
    events = assistant.ask(
        question,
        cancel=cancel,
        history=history,
        schema=request.schema,
        filters=request.filters,
    )
    trim, thought = _Trim(), _Trim()
    try:
        for event in events:
            if isinstance(event, Retrieved):
                yield Started([citation_json(c) for c in event.citations])
            elif isinstance(event, Thinking):
                if reasoned := thought.feed(event.text):
                    yield Reasoned(reasoned)
            elif isinstance(event, Token):
                if shown := trim.feed(event.text):
                    yield Piece(shown)
            elif isinstance(event, Finished):
                answer = event.answer
                if answer.stopped and cancel.is_set():
                    raise GenerationCancelledError(_("The answer was stopped."))
                limit = settings.get_int("model.max_answer_tokens")
                cited = [citation_json(c, c.n in answer.cited) for c in answer.citations]
                yield Ended(_finish_reason(answer.timings, limit), answer.timings, cited)
    finally:
        close = getattr(events, "close", None)
        if close is not None:  # the pipeline's generator: its `finally` lets the model go
            close()
