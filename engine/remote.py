"""A chat backend for any OpenAI-compatible server: vLLM, llama.cpp's server, Mistral, Azure OpenAI.

For teams that outgrow one machine: the model runs on a shared server and Lanterne streams the
answer from `POST {base}/v1/chat/completions` (Server-Sent Events) and lists models with
`GET {base}/v1/models`. The API key comes from the system keychain (`lanterne.engine.secrets`)
and never appears in a message or a log.

HTTP layer: `httpx2` (BSD-3-Clause), the maintained successor of httpx that huggingface-hub 2.x
already requires, so it adds no package to the bundle. It verifies TLS against the operating
system's trust store (truststore: corporate CAs work), honours proxy variables, is typed, and
parses event streams itself. The official `openai` SDK would bring pydantic, jiter, distro and
the original httpx for two endpoints whose wire format fits in this module.

Cancellation: see `remote_cancel.py`. Connections are not kept alive, so every request opens a
socket the watcher can see (one TCP/TLS handshake per answer, nothing next to generation time);
closing the connection also tells the server to stop generating. Errors: `remote_errors.py`.
The model's reasoning, apart from its answer: `remote_reasoning.py`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Generator, Iterator
from typing import Any

import httpx2

from lanterne.engine import secrets
from lanterne.engine.chat_template import Message
from lanterne.engine.errors import GenerationCancelledError
from lanterne.engine.generation import SamplingParams, Timings
from lanterne.engine.reasoning import Thought
from lanterne.engine.remote_cancel import CancelWatch
from lanterne.engine.remote_errors import (
    AuthenticationError,
    MalformedResponseError,
    ModelNotFoundError,
    RemoteError,
    ServerError,
    ServerTimeoutError,
    transport_error,
)
from lanterne.engine.remote_reasoning import ReplySplitter
from lanterne.foundation.server_address import normalize_base_url
from lanterne.foundation.translation import _

log = logging.getLogger(__name__)

MAX_DETAIL_CHARS = 300


_END_OF_STREAM: dict[str, Any] = {}  # yielded by _chunks once the server says the stream is over


class RemoteChatBackend:
    """Chat with a model on an OpenAI-compatible server.

    `api_key=None` reads the key stored for `base_url` in the keychain; `""` means the server
    needs none. `model=None` leaves the choice to a server that serves one model. `last_timings`
    describes the latest stream, so run one stream at a time per backend.
    """

    def __init__(
        self,
        base_url: str,
        model: str | None = None,
        *,
        timeout: float = 60.0,
        api_key: str | None = None,
    ) -> None:
        self.base_url = normalize_base_url(base_url)
        if not self.base_url.startswith(("http://", "https://")):
            raise RemoteError(
                _("The server address must start with http:// or https://: {url}").format(
                    url=self.base_url
                )
            )
        self._api_root = self.base_url + "/v1"
        self.model = model
        self.timeout = timeout
        self.last_timings: Timings | None = None
        self.last_reasoning = ""  # the latest stream's reasoning, whether it was yielded or not
        self.reasoning_format = "server"  # "think" once replies carried <think> in their text
        self._keychain_problem: str | None = None
        if api_key is None:
            try:
                api_key = secrets.get_api_key(self.base_url)
            except secrets.KeychainError as exc:
                # A server without a key must still work on a machine without a keychain; the
                # reason is kept for the message if the server turns out to want a key.
                self._keychain_problem = str(exc)
        self._api_key = api_key or None
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        self._client = httpx2.Client(
            headers=headers,
            timeout=httpx2.Timeout(timeout),
            limits=httpx2.Limits(max_keepalive_connections=0),
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> RemoteChatBackend:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _url(self, path: str) -> str:
        return f"{self._api_root}/{path}"

    def list_models(self) -> list[str]:
        """The model names the server accepts in `model`."""
        with self._translated():
            response = self._client.get(self._url("models"))
        if not response.is_success:
            raise self._status_error(response, chat=False)
        try:
            return [str(entry["id"]) for entry in response.json()["data"]]
        except (ValueError, KeyError, TypeError):
            raise MalformedResponseError(
                _("The server at {url} sent a model list Lanterne cannot read.").format(
                    url=self.base_url
                )
            ) from None

    def stream_chat(
        self,
        messages: list[Message],
        params: SamplingParams,
        cancel: threading.Event | None = None,
    ) -> Generator[str, None, None]:
        """Yield the answer's text as it arrives (the reasoning only in `last_reasoning`)."""
        with contextlib.closing(self.stream_reply(messages, params, cancel)) as parts:
            yield from (part for part in parts if isinstance(part, str))

    def stream_reply(
        self,
        messages: list[Message],
        params: SamplingParams,
        cancel: threading.Event | None = None,
    ) -> Generator[str | Thought, None, None]:
        """Yield the answer's text and the model's reasoning (`Thought`) as they arrive;
        `last_timings` and `last_reasoning` are set when the stream ends."""
        self.last_timings = None
        self.last_reasoning = ""
        reply = ReplySplitter()
        if cancel is not None and cancel.is_set():
            raise GenerationCancelledError(_("The answer was stopped."))
        watch = CancelWatch(cancel)
        start = time.perf_counter()
        first: float | None = None
        first_answer: float | None = None  # after any reasoning
        last: float | None = None
        pieces = 0
        usage: dict[str, Any] = {}
        server_timings: dict[str, Any] = {}
        try:
            with self._translated(watch), self._open_chat(messages, params, watch) as response:
                try:
                    complete = False
                    for chunk in self._chunks(response):
                        if chunk is _END_OF_STREAM:
                            complete = True
                            break
                        if cancel is not None and cancel.is_set():
                            raise GenerationCancelledError(_("The answer was stopped."))
                        complete = complete or _finish_reason(chunk)
                        if isinstance(chunk.get("usage"), dict):
                            usage = chunk["usage"]
                        if isinstance(chunk.get("timings"), dict):  # llama.cpp's server
                            server_timings = chunk["timings"]
                        parts = reply.feed(self._delta(chunk))
                        if parts:
                            last = time.perf_counter()
                            first = first or last
                            if any(isinstance(part, str) for part in parts):
                                first_answer = first_answer or last
                            pieces += 1
                            yield from parts
                    if complete:
                        yield from reply.flush()
                finally:
                    watch.finish()  # before the response closes its socket
            if watch.fired:  # the server closed a cut connection cleanly
                raise GenerationCancelledError(_("The answer was stopped."))
            if not complete:
                # llama-cpp-python's server, for one, closes a stream it failed in (a prompt
                # longer than its context) with no error event: an empty answer would mislead.
                raise ServerError(
                    _(
                        "The server at {url} ended the answer before finishing it; its log "
                        "should say why (a prompt longer than its context is a common cause)."
                    ).format(url=self.base_url)
                )
        finally:
            watch.finish()
            self.last_reasoning = reply.reasoning
            if reply.format != "server":
                self.reasoning_format = reply.format
            end = time.perf_counter()
            ttft_ms = ((first or end) - start) * 1000.0
            span_ms = (last - first) * 1000.0 if first is not None and last is not None else 0.0
            self.last_timings = Timings(
                prompt_tokens=int(
                    _number(usage.get("prompt_tokens"))
                    or _number(server_timings.get("prompt_n"))
                    or 0
                ),
                prompt_ms=_number(server_timings.get("prompt_ms")) or ttft_ms,
                # Without `usage`, count events: vLLM and llama.cpp send one per token.
                predicted_tokens=int(
                    _number(usage.get("completion_tokens"))
                    or _number(server_timings.get("predicted_n"))
                    or pieces
                ),
                predicted_ms=_number(server_timings.get("predicted_ms")) or span_ms,
                ttft_ms=ttft_ms,
                first_answer_ms=((first_answer or end) - start) * 1000.0,
            )

    def _chat_body(self, messages: list[Message], params: SamplingParams) -> dict[str, Any]:
        # Only fields every OpenAI-compatible server knows: strict ones (OpenAI, Mistral) answer
        # 400 to top_k or repeat_penalty.
        body: dict[str, Any] = {
            "messages": messages,
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
        }
        if self.model is not None:
            body["model"] = self.model
        if params.seed is not None:
            body["seed"] = params.seed
        return body

    @contextlib.contextmanager
    def _open_chat(
        self, messages: list[Message], params: SamplingParams, watch: CancelWatch
    ) -> Iterator[httpx2.Response]:
        body = self._chat_body(messages, params)
        for attempt in range(2):
            with self._client.stream(
                "POST",
                self._url("chat/completions"),
                json=body,
                headers={"Accept": "text/event-stream"},
                extensions={"trace": watch.trace},
            ) as response:
                if response.is_success:
                    yield response
                    return
                response.read()
                if (
                    attempt == 0
                    and response.status_code in (400, 422)
                    and "stream_options" in response.text
                ):
                    # Older servers reject `stream_options`; usage is then simply not reported.
                    log.info("%s rejects stream_options; retrying without it", self.base_url)
                    body.pop("stream_options")
                    continue
                raise self._status_error(response, chat=True)

    def _chunks(self, response: httpx2.Response) -> Iterator[dict[str, Any]]:
        content_type = response.headers.get("content-type", "").partition(";")[0].strip().lower()
        if content_type == "application/json":
            # A server that ignores `stream: true` sends the whole completion at once.
            response.read()
            yield self._parse_json(response.text)
            yield _END_OF_STREAM
            return
        for event in httpx2.EventSource(response):
            data = event.data.strip()
            if data == "[DONE]":
                yield _END_OF_STREAM
                return
            if data:
                chunk = self._parse_json(data)
                if "error" in chunk:  # vLLM and llama.cpp report mid-stream failures this way
                    raise ServerError(
                        _("The server at {url} stopped the answer with an error: {detail}").format(
                            url=self.base_url, detail=self._scrub(_error_text(chunk))
                        )
                    )
                yield chunk

    def _parse_json(self, text: str) -> dict[str, Any]:
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if not isinstance(value, dict):
            raise MalformedResponseError(
                _(
                    "The server at {url} sent an answer that is not OpenAI-compatible JSON: {data}"
                ).format(url=self.base_url, data=self._scrub(text))
            )
        return value

    def _delta(self, chunk: dict[str, Any]) -> dict[str, Any]:
        """The chunk's delta (or, from a server that does not stream, its whole message)."""
        choices = chunk.get("choices")
        if not choices:  # the usage-only chunk at the end
            return {}
        choice = choices[0] if isinstance(choices, list) else None
        delta = (
            (choice.get("delta") or choice.get("message") or {})
            if isinstance(choice, dict)
            else None
        )
        if not isinstance(delta, dict):
            raise MalformedResponseError(
                _("The server at {url} sent an answer in an unexpected shape.").format(
                    url=self.base_url
                )
            )
        return delta

    def _scrub(self, text: str) -> str:
        """Server text fit for a message: short, on one line, and without the key."""
        text = " ".join(text.split())
        if self._api_key:
            text = text.replace(self._api_key, "[hidden]")
        return text if len(text) <= MAX_DETAIL_CHARS else text[:MAX_DETAIL_CHARS] + "…"

    def _status_error(self, response: httpx2.Response, *, chat: bool) -> RemoteError:
        status = response.status_code
        url = self.base_url
        try:
            detail = self._scrub(_error_text(response.json()))
        except ValueError:
            detail = self._scrub(response.text)
        detail = detail or response.reason_phrase
        if status in (401, 403):
            # The server's own text is left out: some echo part of the key.
            if not self._api_key:
                message = _(
                    "The server at {url} requires an API key and none is stored for it. Add the "
                    "server's key in Lanterne's settings."
                ).format(url=url)
                if self._keychain_problem:
                    message += " " + self._keychain_problem
                return AuthenticationError(message)
            if status == 401:
                return AuthenticationError(
                    _(
                        "The server at {url} rejected the API key (HTTP 401): it is wrong or has "
                        "expired. Store the right key for this server in Lanterne's settings."
                    ).format(url=url)
                )
            return AuthenticationError(
                _(
                    "The server at {url} refused access (HTTP 403): this API key is not allowed "
                    "to use this model or endpoint."
                ).format(url=url)
            )
        if status == 404:
            return self._not_found_error(chat=chat, detail=detail)
        if status in (408, 504):
            return ServerTimeoutError(
                _("The server at {url} timed out (HTTP {status}). Try again later.").format(
                    url=url, status=status
                )
            )
        if status >= 500:
            return ServerError(
                _("The server at {url} failed (HTTP {status}): {detail}").format(
                    url=url, status=status, detail=detail
                )
            )
        return ServerError(
            _("The server at {url} rejected the request (HTTP {status}): {detail}").format(
                url=url, status=status, detail=detail
            )
        )

    def _not_found_error(self, *, chat: bool, detail: str) -> RemoteError:
        url = self.base_url
        if chat and self.model is not None:
            try:
                available: list[str] | None = self.list_models()
            except RemoteError:
                available = None
            if available is not None and self.model not in available:
                return ModelNotFoundError(
                    _(
                        "The server at {url} has no model named “{model}”. Available models: "
                        "{names}."
                    ).format(url=url, model=self.model, names=", ".join(available) or _("none"))
                )
            if available is None:
                return ModelNotFoundError(
                    _(
                        "The server at {url} answered 404 Not Found: either it has no model "
                        "named “{model}”, or the address is not that of an OpenAI-compatible "
                        "server ({detail})."
                    ).format(url=url, model=self.model, detail=detail)
                )
        path = "/v1/chat/completions" if chat else "/v1/models"
        return ModelNotFoundError(
            _(
                "The server at {url} has no {path} endpoint (HTTP 404). Check the address: it "
                "should be the part before /v1 of an OpenAI-compatible server."
            ).format(url=url, path=path)
        )

    @contextlib.contextmanager
    def _translated(self, watch: CancelWatch | None = None) -> Iterator[None]:
        """httpx2's exceptions become sentences that say which server and what to check."""
        try:
            yield
        except httpx2.HTTPError as exc:
            if watch is not None and watch.fired:
                raise GenerationCancelledError(_("The answer was stopped.")) from None
            raise transport_error(exc, self.base_url, self.timeout) from exc


def _finish_reason(chunk: dict[str, Any]) -> bool:
    """Whether the chunk says the answer is over (servers that send no "[DONE]" still say this)."""
    choices = chunk.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return False
    return bool(choices[0].get("finish_reason"))


def _error_text(payload: Any) -> str:
    """The message in OpenAI's `{"error": {"message"}}`, FastAPI's `{"detail"}` and the like."""
    if isinstance(payload, dict):
        for key in ("error", "detail", "message", "msg"):
            if key in payload:
                return _error_text(payload[key])
    if isinstance(payload, list) and payload:
        return _error_text(payload[0])
    return str(payload) if payload is not None else ""


def _number(value: Any) -> float | None:
    """A JSON number, or None for anything else (a server extension we cannot vouch for)."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
