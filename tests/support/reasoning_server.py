"""An OpenAI-compatible server whose model reasons before it answers, in each wire format.

llama-cpp-python's server (remote_server.py) sends no reasoning at all, and no model small
enough for the tests reasons; this HTTP server replays what the servers Lanterne meets send:
vLLM with a reasoning parser (`delta.reasoning_content`), newer vLLM and OpenRouter
(`delta.reasoning`, at times beside `reasoning_content` with the same text), servers that leave
`<think>…</think>` in the text (the tags cut across events, as tokens cut them), and a server
that ignores `stream: true`. Its reasoning quotes the question it was sent and cites source 1,
which its answer never does; every request body is kept for the test to read.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# model name -> how its reasoning travels
FORMATS = {
    "vllm-reasoner": "reasoning_content",
    "openrouter-reasoner": "reasoning",
    "both-fields": "both",
    "think-in-text": "think",
    "whole-reply": "message",
}
MASKED = "Zorglub"  # a name an organisation may mask: the reasoning says it
FACT = "quarante minutes"  # a fact the reasoning holds and the answer does not
PIECE = 5  # characters per event: tags and words are cut, as tokens cut them


def reasoning_for(question: str) -> str:
    return (
        f"On me demande : {question} La source [1] parle de {MASKED} ; la tarte cuit {FACT}. "
        "Les documents ne contiennent pas la température."
    )


def answer_for(sourced: bool) -> str:
    return "La tarte aux pommes cuit dans un four préchauffé." if sourced else "Bonjour."


def _question(messages: list[dict[str, Any]]) -> tuple[str, bool]:
    """The last user message's question (after "Question :" when sources precede it)."""
    content = str(messages[-1].get("content") or "")
    sourced = "<source>" in content
    found = re.search(r"Question\s?\u202f?:\s*(.*)\Z", content, re.DOTALL)
    return (found.group(1) if found else content).strip(), sourced


def _pieces(text: str) -> list[str]:
    return [text[i : i + PIECE] for i in range(0, len(text), PIECE)]


def _events(kind: str, reasoning: str, answer: str) -> list[dict[str, Any]]:
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
    if kind == "think":
        text = f"<think>\n{reasoning}\n</think>\n\n{answer}"
        deltas += [{"content": piece} for piece in _pieces(text)]
    else:
        for piece in _pieces(reasoning):
            if kind == "both":
                deltas.append({"reasoning_content": piece, "reasoning": piece, "content": None})
            else:
                deltas.append({kind: piece, "content": None})
        deltas += [{"content": piece} for piece in _pieces(answer)]
    events: list[dict[str, Any]] = [
        {"choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas
    ]
    events.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    usage = {"prompt_tokens": 40, "completion_tokens": len(deltas)}
    events.append({"choices": [], "usage": usage})
    return events


class ReasoningServer(ThreadingHTTPServer):
    requests: list[dict[str, Any]]


class _Handler(BaseHTTPRequestHandler):
    server: ReasoningServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        models = {"object": "list", "data": [{"id": name} for name in FORMATS]}
        self._send(200, "application/json", json.dumps(models).encode())

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(request)
        kind = FORMATS.get(str(request.get("model")))
        if kind is None:
            error = {"message": f"The model `{request.get('model')}` does not exist."}
            self._send(404, "application/json", json.dumps({"error": error}).encode())
            return
        question, sourced = _question(request["messages"])
        reasoning, answer = reasoning_for(question), answer_for(sourced)
        if kind == "message":  # a server that ignores `stream: true`
            message = {"role": "assistant", "content": answer, "reasoning_content": reasoning}
            reply = {"choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}
            self._send(200, "application/json", json.dumps(reply).encode())
            return
        events = _events(kind, reasoning, answer)
        lines = [f"data: {json.dumps(e, ensure_ascii=False)}\n\n" for e in events]
        self._send(200, "text/event-stream", "".join([*lines, "data: [DONE]\n\n"]).encode())


@contextlib.contextmanager
def reasoning_server() -> Iterator[ReasoningServer]:
    """The server on a free port of 127.0.0.1; its address is `url(server)`."""
    httpd = ReasoningServer(("127.0.0.1", 0), _Handler)
    httpd.requests = []
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def url(server: ReasoningServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"
