"""Chat completions and their stream chunks in the exact shape OpenAI's clients parse
(`openai.types.chat.ChatCompletion`, `ChatCompletionChunk`, `CompletionUsage`).

`lanterne-documents` adds one field to each choice, `citations` (number, path, page, line,
heading, snippet; `cited` once the answer is complete): in a stream, on the first chunk and
again on the last. Clients that do not know the field ignore it.

The model's reasoning goes where vLLM puts it: `message.reasoning_content` (null without any),
and in a stream `delta.reasoning_content` chunks before the answer's; never in `content`.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from lanterne.engine.runtime import Timings
from lanterne.serve.chat_runs import Ended


def completion_id() -> str:
    return "chatcmpl-" + secrets.token_hex(12)


def usage(timings: Timings) -> dict[str, Any]:
    # The local model counts every token it sampled; a server reports its own count.
    completion = timings.sampled_tokens or timings.predicted_tokens
    return {
        "prompt_tokens": timings.prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": timings.prompt_tokens + completion,
        # Prompt tokens found already evaluated in the model's cache (a shared system prompt).
        "prompt_tokens_details": {"cached_tokens": timings.reused_tokens},
    }


class ChunkWriter:
    """The Server-Sent Events of one streamed completion."""

    def __init__(self, model: str, include_usage: bool) -> None:
        self.id = completion_id()
        self.created = int(time.time())
        self.model = model
        self.include_usage = include_usage

    def _event(self, choices: list[dict[str, Any]], **extra: Any) -> bytes:
        data: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": None,
            "choices": choices,
        }
        if self.include_usage:
            data["usage"] = None
        data.update(extra)
        return b"data: " + json.dumps(data, ensure_ascii=False).encode("utf-8") + b"\n\n"

    @staticmethod
    def _choice(
        delta: dict[str, Any],
        finish: str | None = None,
        citations: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        if citations is not None:
            choice["citations"] = citations
        return choice

    def first(self, citations: list[dict[str, Any]] | None) -> bytes:
        return self._event([self._choice({"role": "assistant", "content": ""}, None, citations)])

    def piece(self, text: str) -> bytes:
        return self._event([self._choice({"content": text})])

    def reasoning(self, text: str) -> bytes:
        return self._event([self._choice({"reasoning_content": text})])

    def last(self, ended: Ended) -> bytes:
        events = self._event([self._choice({}, ended.finish_reason, ended.citations)])
        if self.include_usage:
            events += self._event([], usage=usage(ended.timings))
        return events + b"data: [DONE]\n\n"

    @staticmethod
    def error(body: dict[str, Any]) -> bytes:
        """An error after the stream began: OpenAI's clients raise it as an APIError."""
        return b"data: " + json.dumps(body, ensure_ascii=False).encode("utf-8") + b"\n\n"


def completion(
    model: str,
    text: str,
    ended: Ended,
    citations: list[dict[str, Any]] | None,
    reasoning: str = "",
) -> dict[str, Any]:
    message = {"role": "assistant", "content": text, "refusal": None}
    choice: dict[str, Any] = {
        "index": 0,
        "message": message | {"reasoning_content": reasoning or None},
        "logprobs": None,
        "finish_reason": ended.finish_reason,
    }
    if citations is not None:
        choice["citations"] = citations
    return {
        "id": completion_id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": None,
        "choices": [choice],
        "usage": usage(ended.timings),
    }
