"""`lanterne serve` gives a model's reasoning where vLLM does: `message.reasoning_content`, and
`delta.reasoning_content` chunks in a stream, never inside `content`. The served model is a
reasoning server (tests/support/reasoning_server.py) behind engine.backend=remote, and
Lanterne's own remote backend reads the reasoning back from `lanterne serve` over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from lanterne.context import AppContext
from lanterne.engine.reasoning import Thought
from lanterne.engine.remote import RemoteChatBackend
from lanterne.engine.runtime import SamplingParams
from lanterne.foundation.settings import Settings
from lanterne.serve import access
from lanterne.serve.server import ApiServer
from support.reasoning_server import (
    ReasoningServer,
    answer_for,
    reasoning_for,
    reasoning_server,
    url,
)

TOKEN = "test-token-" + "r" * 20
MODEL = "openrouter-reasoner"  # sends `delta.reasoning`: served as vLLM's reasoning_content
# Answering from the documents searches them with the built-in embedder (a model).
DOCUMENTS = pytest.param("lanterne-documents", marks=pytest.mark.model, id="lanterne-documents")
QUESTION = "Combien de temps cuit la tarte aux pommes ?"


@pytest.fixture
def upstream() -> Iterator[ReasoningServer]:
    with reasoning_server() as running:
        yield running


@pytest.fixture
def served(
    upstream: ReasoningServer, docs_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ApiServer]:
    monkeypatch.setenv(access.TOKEN_ENV, TOKEN)
    settings = Settings()
    settings.set("engine.backend", "remote")
    settings.set("remote.url", url(upstream))
    settings.set("remote.model", MODEL)
    ctx = AppContext(settings)
    indexer = ctx.indexer()
    indexer.add_folder(docs_folder)
    indexer.store.close()
    server = ApiServer(ctx, port=0)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        ctx.close()


@pytest.fixture
def api(served: ApiServer) -> Iterator[httpx2.Client]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx2.Client(base_url=served.url + "/v1", headers=headers, timeout=60) as client:
        yield client


def _body(model: str, content: str, **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": content}], **extra}


def _chunks(response: httpx2.Response) -> list[dict[str, Any]]:
    lines = [line.removeprefix("data: ") for line in response.iter_lines() if line]
    assert lines[-1] == "[DONE]"
    return [json.loads(line) for line in lines[:-1]]


@pytest.mark.parametrize("model", [MODEL, DOCUMENTS])
def test_a_completion_has_its_reasoning_apart(api: httpx2.Client, model: str) -> None:
    response = api.post("/chat/completions", json=_body(model, QUESTION))
    assert response.status_code == 200, response.text
    message = response.json()["choices"][0]["message"]
    documents = model == "lanterne-documents"
    assert message["content"] == answer_for(sourced=documents)
    assert message["reasoning_content"] == reasoning_for(QUESTION)


@pytest.mark.parametrize("model", [MODEL, DOCUMENTS])
def test_a_stream_sends_reasoning_chunks_before_the_answer(api: httpx2.Client, model: str) -> None:
    with api.stream("POST", "/chat/completions", json=_body(model, QUESTION, stream=True)) as r:
        assert r.status_code == 200
        deltas = [c["choices"][0]["delta"] for c in _chunks(r) if c["choices"]]
    assert deltas[0] == {"role": "assistant", "content": ""}
    thought = [d["reasoning_content"] for d in deltas if "reasoning_content" in d]
    text = [d["content"] for d in deltas if d.get("content")]
    assert "".join(thought) == reasoning_for(QUESTION)
    assert "".join(text) == answer_for(sourced=model == "lanterne-documents")
    last_thought = max(i for i, d in enumerate(deltas) if "reasoning_content" in d)
    first_text = min(i for i, d in enumerate(deltas) if d.get("content"))
    assert last_thought < first_text
    assert all(set(d) in ({"content"}, {"reasoning_content"}) for d in deltas[1:-1])


def test_earlier_reasoning_sent_back_is_read_not_forwarded(
    api: httpx2.Client, upstream: ReasoningServer
) -> None:
    body = _body(MODEL, "Et ensuite ?")
    body["messages"][:0] = [
        {"role": "user", "content": "Bonjour ?"},
        {"role": "assistant", "content": "Bonjour.", "reasoning_content": "Je salue."},
    ]
    assert api.post("/chat/completions", json=body).status_code == 200
    assert upstream.requests[-1]["messages"][1] == {"role": "assistant", "content": "Bonjour."}
    refused = api.post("/chat/completions", json={**body, "reasoning_effort": "extreme"})
    assert refused.status_code == 400
    assert refused.json()["error"]["param"] == "reasoning_effort"
    assert api.post("/chat/completions", json={**body, "reasoning_effort": "high"}).is_success


def test_lanterne_reads_the_reasoning_back_from_lanterne_serve(served: ApiServer) -> None:
    """Lanterne's remote backend pointed at `lanterne serve`: a second Lanterne whose server is
    this one gets the reasoning apart, as it does from vLLM."""
    with RemoteChatBackend(served.url, MODEL, api_key=TOKEN) as backend:
        parts = list(
            backend.stream_reply([{"role": "user", "content": QUESTION}], SamplingParams())
        )
        assert backend.reasoning_format == "server"
    assert "".join(p.text for p in parts if isinstance(p, Thought)) == reasoning_for(QUESTION)
    assert "".join(p for p in parts if isinstance(p, str)) == answer_for(sourced=False)
