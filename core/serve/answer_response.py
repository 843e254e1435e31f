"""One chat answer over HTTP: generated on a thread, sent as it comes, stopped when the client
goes away.

The answer's events come from a thread of the request's own (model turns and llama.cpp calls
block); they cross to the server's event loop through a queue. Meanwhile the ASGI `receive`
channel is watched: `http.disconnect` (or a send that fails) sets the cancel event the model
checks at every token, so a closed stream stops the generation within a token's time.

Nothing is sent before the first piece of text: any error until then (busy, context too long,
no model) is a proper HTTP error status; an error after it is an SSE `error` event.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from lanterne.foundation.translation import _
from lanterne.serve.chat_runs import Ended, Piece, Reasoned, RunEvent, Started
from lanterne.serve.errors import ApiError, api_error
from lanterne.serve.openai_format import ChunkWriter, completion

log = logging.getLogger("lanterne.serve")
Produce = Callable[[threading.Event], Iterator[RunEvent]]
_END = object()


class Answers:
    """The answers being written, so that stopping the server stops them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cancels: set[threading.Event] = set()

    def add(self, cancel: threading.Event) -> None:
        with self._lock:
            self._cancels.add(cancel)

    def discard(self, cancel: threading.Event) -> None:
        with self._lock:
            self._cancels.discard(cancel)

    def cancel_all(self) -> None:
        with self._lock:
            for cancel in self._cancels:
                cancel.set()


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def _produce_on_thread(
    produce: Produce, cancel: threading.Event, loop: asyncio.AbstractEventLoop
) -> asyncio.Queue[object]:
    queue: asyncio.Queue[object] = asyncio.Queue()

    def put(item: object) -> None:
        try:
            loop.call_soon_threadsafe(queue.put_nowait, item)
        except RuntimeError:  # the server's loop has ended: nobody is listening
            cancel.set()

    def work() -> None:
        events = produce(cancel)
        try:
            for event in events:
                put(event)
                if cancel.is_set():
                    break
        except BaseException as exc:
            put(_Failure(exc))
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                try:
                    close()  # leaves the model's turn, stops a generation still running
                except BaseException as exc:
                    log.debug("closing an answer failed: %s", exc)
            put(_END)

    threading.Thread(target=work, name="lanterne-api-answer", daemon=True).start()
    return queue


class AnswerResponse(Response):
    def __init__(
        self,
        produce: Produce,
        model: str,
        *,
        stream: bool,
        include_usage: bool,
        answers: Answers,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status_code=200)
        self._produce = produce
        self._model = model
        self._stream = stream
        self._include_usage = include_usage
        self._answers = answers
        self._extra_headers = headers or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cancel = threading.Event()
        self._answers.add(cancel)
        loop = asyncio.get_running_loop()
        queue = _produce_on_thread(self._produce, cancel, loop)

        async def watch() -> None:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    cancel.set()
                    queue.put_nowait(_END)  # wake the sender: nothing more will be read
                    return

        watcher = asyncio.ensure_future(watch())
        try:
            await self._send_answer(queue, send, cancel)
        except OSError:  # the client went away while a chunk was being sent
            pass
        finally:
            cancel.set()
            watcher.cancel()
            self._answers.discard(cancel)

    async def _send_answer(
        self, queue: asyncio.Queue[object], send: Send, cancel: threading.Event
    ) -> None:
        writer = ChunkWriter(self._model, self._include_usage)
        started: Started | None = None
        text: list[str] = []
        reasoning: list[str] = []
        began = False  # whether the response's head has gone
        while True:
            item = await queue.get()
            if cancel.is_set() and item is _END:
                break
            if item is _END:
                if not began:  # ended without an answer or an error: say so, never hang
                    failed = ApiError(500, _("Lanterne failed to answer."), kind="server_error")
                    await self._send_error(send, failed)
                break
            if isinstance(item, _Failure):
                error = api_error(item.error)
                if began:
                    await self._send_body(send, writer.error(error.body()), more=False)
                else:
                    await self._send_error(send, error)
                return
            if isinstance(item, Started):
                started = item
                continue
            citations = started.citations if started is not None else None
            if self._stream:
                if not began:
                    began = True
                    await self._send_head(send, "text/event-stream")
                    await self._send_body(send, writer.first(citations))
                if isinstance(item, Piece):
                    await self._send_body(send, writer.piece(item.text))
                elif isinstance(item, Reasoned):
                    await self._send_body(send, writer.reasoning(item.text))
                elif isinstance(item, Ended):
                    await self._send_body(send, writer.last(item), more=False)
                    return
            elif isinstance(item, Piece):
                text.append(item.text)
            elif isinstance(item, Reasoned):
                reasoning.append(item.text)
            elif isinstance(item, Ended):
                body = completion(
                    self._model, "".join(text), item, item.citations, "".join(reasoning)
                )
                await self._send_json(send, 200, body)
                return
        if began:
            await self._send_body(send, b"", more=False)

    async def _send_head(self, send: Send, content_type: str, status: int = 200) -> None:
        headers = [(b"content-type", content_type.encode("latin-1"))]
        if content_type == "text/event-stream":
            headers += [(b"cache-control", b"no-cache"), (b"x-accel-buffering", b"no")]
        headers += [
            (k.lower().encode("latin-1"), v.encode("latin-1"))
            for k, v in self._extra_headers.items()
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})

    @staticmethod
    async def _send_body(send: Send, body: bytes, more: bool = True) -> None:
        message: Message = {"type": "http.response.body", "body": body, "more_body": more}
        await send(message)

    async def _send_json(self, send: Send, status: int, body: dict[str, Any]) -> None:
        await self._send_head(send, "application/json", status)
        await self._send_body(send, json.dumps(body, ensure_ascii=False).encode("utf-8"), False)

    async def _send_error(self, send: Send, error: ApiError) -> None:
        self._extra_headers = {**self._extra_headers, **error.headers}
        await self._send_json(send, error.status, error.body())
