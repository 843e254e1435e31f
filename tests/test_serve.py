"""`lanterne serve`: a real uvicorn server on a free port, called over HTTP with httpx2, answering
with the real Gemma test model and from a small indexed folder; its token, CORS, errors in
OpenAI's shape, the model's turns (priority, 429) and a closed stream stopping the model."""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import numpy as np
import pytest

from lanterne.context import AppContext
from lanterne.engine.activity import GENERATION
from lanterne.foundation.settings import Settings
from lanterne.model_gate import API, KEYBOARD
from lanterne.serve import access
from lanterne.serve.server import ApiServer

pytestmark = pytest.mark.model

TOKEN = "test-token-" + "x" * 20
TESTS = Path(__file__).resolve().parent
DOCS = {
    "cuisine/tarte.txt": "La tarte aux pommes cuit quarante minutes dans un four préchauffé à "
    "180 degrés. Il faut éplucher les pommes avant de les couper en lamelles.\n",
    "debian/install.md": "# Installing Debian\n\n## Partitioning\n\nGuided partitioning "
    "creates a root partition and a swap partition; LVM lets you resize volumes later.\n",
}


@pytest.fixture(scope="module")
def served(gemma_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    """One server for the module: Gemma as the chat model, a small folder indexed."""
    home = tmp_path_factory.mktemp("serve-home")
    folder = tmp_path_factory.mktemp("serve-docs")
    for rel, text in DOCS.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text, encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LANTERNE_HOME", str(home))
        mp.setenv(access.TOKEN_ENV, TOKEN)
        settings = Settings()
        settings.set("model.path", str(gemma_model))
        settings.set("model.context_size", 1024)
        settings.set("model.max_answer_tokens", 24)
        ctx = AppContext(settings)
        indexer = ctx.indexer()
        indexer.add_folder(folder)
        indexer.store.close()
        server = ApiServer(ctx, port=0)
        server.start()
        yield server
        server.stop()
        ctx.close()


@pytest.fixture
def api(served: ApiServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[httpx2.Client]:
    monkeypatch.setenv(access.TOKEN_ENV, TOKEN)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx2.Client(base_url=served.url + "/v1", headers=headers, timeout=120) as client:
        yield client


def ctx_of(server: ApiServer) -> AppContext:
    return server._ctx


def chat_body(server: ApiServer, content: str, **extra: Any) -> dict[str, Any]:
    model = Path(ctx_of(server).settings.get_str("model.path")).stem
    return {"model": model, "messages": [{"role": "user", "content": content}], **extra}


def sse(response: httpx2.Response) -> list[Any]:
    """The events of a stream: JSON objects, then the string "[DONE]"."""
    events: list[Any] = []
    for line in response.iter_lines():
        if line.startswith("data: "):
            data = line.removeprefix("data: ")
            events.append(data if data == "[DONE]" else json.loads(data))
    return events


def test_models_lists_the_chat_model_documents_and_the_embedding_model(
    served: ApiServer, api: httpx2.Client
) -> None:
    data = api.get("/models").json()
    ids = [m["id"] for m in data["data"]]
    assert data["object"] == "list"
    assert ids == ["gemma-3-270m-q4_k_m", "lanterne-documents", "multilingual-e5-small"]
    assert all(m["object"] == "model" and m["owned_by"] == "lanterne" for m in data["data"])


def test_every_endpoint_needs_the_token_which_never_reaches_the_log(
    served: ApiServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="lanterne.serve")
    wrong = "wrong-" + "y" * 30
    with httpx2.Client(base_url=served.url + "/v1", timeout=30) as client:
        for headers in ({}, {"Authorization": f"Bearer {wrong}"}, {"Authorization": TOKEN}):
            for method, path in (("GET", "/models"), ("POST", "/chat/completions")):
                response = client.request(method, path, headers=headers, json={})
                assert response.status_code == 401, (headers, path)
                error = response.json()["error"]
                assert error["code"] == "invalid_api_key" and error["message"]
                assert response.headers["www-authenticate"] == "Bearer"
        assert client.post("/embeddings", json={}).status_code == 401
        assert client.get("/nowhere").status_code == 401  # before anything is said of paths
    assert "refused GET /v1/models" in caplog.text
    assert wrong not in caplog.text and TOKEN not in caplog.text


def test_browser_pages_get_cors_only_from_allowed_origins(
    served: ApiServer, api: httpx2.Client
) -> None:
    origin, other = "https://intranet.example.org", "https://evil.example.com"
    preflight = {"Origin": origin, "Access-Control-Request-Method": "POST"}
    settings = ctx_of(served).settings
    assert api.get("/models", headers={"Origin": origin}).status_code == 200
    assert (
        "access-control-allow-origin" not in api.get("/models", headers={"Origin": origin}).headers
    )
    refused = httpx2.options(served.url + "/v1/chat/completions", headers=preflight)
    assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers
    settings.set("api.allowed_origins", f"https://a.example.net, {origin}/")
    try:
        answer = httpx2.options(
            served.url + "/v1/chat/completions",
            headers={**preflight, "Access-Control-Request-Headers": "authorization,content-type"},
        )
        assert answer.status_code == 204  # no token: browsers send none with a preflight
        assert answer.headers["access-control-allow-origin"] == origin
        assert "POST" in answer.headers["access-control-allow-methods"]
        assert answer.headers["access-control-allow-headers"] == "authorization,content-type"
        ok = api.get("/models", headers={"Origin": origin})
        assert ok.headers["access-control-allow-origin"] == origin
        assert (
            "access-control-allow-origin"
            not in api.get("/models", headers={"Origin": other}).headers
        )
        unauthorized = httpx2.get(served.url + "/v1/models", headers={"Origin": origin})
        assert unauthorized.status_code == 401  # the page may read why, still no access
        assert unauthorized.headers["access-control-allow-origin"] == origin
    finally:
        settings.set("api.allowed_origins", "")


def test_a_streamed_answer_with_usage_and_the_shared_prompt_reused(
    served: ApiServer, api: httpx2.Client
) -> None:
    system = "You are a terse assistant. " * 20
    body = chat_body(served, "Name a colour.", max_tokens=12, stream=True)
    body["messages"].insert(0, {"role": "system", "content": system})
    body["stream_options"] = {"include_usage": True}
    for attempt in range(2):
        body["messages"][-1]["content"] = ("Name a colour.", "Name a fruit.")[attempt]
        with api.stream("POST", "/chat/completions", json=body) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            events = sse(response)
        assert events[-1] == "[DONE]"
        chunks = events[:-1]
        assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
        assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
        assert len({c["id"] for c in chunks}) == 1
        text = "".join(
            c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"]
        )
        assert text.strip() and text == text.strip()
        assert chunks[-2]["choices"][0]["finish_reason"] in ("stop", "length")
        usage = chunks[-1]["usage"]
        assert chunks[-1]["choices"] == []
        assert 0 < usage["completion_tokens"] <= 12
        assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
        assert usage["prompt_tokens"] > 100  # the system prompt, rendered by Gemma's template
    # The second request shares the system prompt: the model's cache kept it.
    assert usage["prompt_tokens_details"]["cached_tokens"] > 100


def test_max_tokens_stop_and_seed_as_openai_defines_them(
    served: ApiServer, api: httpx2.Client
) -> None:
    cut = api.post(
        "/chat/completions", json=chat_body(served, "Tell me about the sea.", max_tokens=3)
    ).json()
    assert cut["object"] == "chat.completion" and cut["model"] == "gemma-3-270m-q4_k_m"
    assert cut["choices"][0]["finish_reason"] == "length"
    assert cut["usage"]["completion_tokens"] == 3
    assert cut["choices"][0]["message"]["role"] == "assistant"

    def greedy(**extra: Any) -> str:
        body = chat_body(
            served, "Describe a cat in two sentences.", temperature=0, seed=7, max_tokens=30
        )
        result = api.post("/chat/completions", json={**body, **extra}).json()
        return str(result["choices"][0]["message"]["content"])

    full = greedy()
    words = full.split()
    assert len(words) > 4, full
    stop = words[3]
    stopped = greedy(stop=[stop])
    assert stopped == full[: full.index(stop)].rstrip()


def test_json_schema_output_follows_the_schema(served: ApiServer, api: httpx2.Client) -> None:
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "people": {"type": "integer"}},
        "required": ["city", "people"],
    }
    body = chat_body(
        served,
        "Give a city and how many people live there.",
        max_tokens=60,
        temperature=0.0,  # sampled, a base model's string can run past the token limit
        response_format={"type": "json_schema", "json_schema": {"name": "city", "schema": schema}},
    )
    answer = api.post("/chat/completions", json=body).json()
    data = json.loads(answer["choices"][0]["message"]["content"])
    assert isinstance(data["city"], str) and isinstance(data["people"], int)


def test_errors_in_openai_shape_with_their_status(served: ApiServer, api: httpx2.Client) -> None:
    def error(response: httpx2.Response, status: int) -> dict[str, Any]:
        assert response.status_code == status, response.text
        found: dict[str, Any] = response.json()["error"]
        assert set(found) == {"message", "type", "code", "param"} and found["message"]
        return found

    bad_json = api.post("/chat/completions", content=b"{not json", headers={"Content-Type": "x"})
    assert error(bad_json, 400)["type"] == "invalid_request_error"
    assert error(api.post("/chat/completions", json={"model": "x"}), 400)["param"] == "messages"
    hot = chat_body(served, "Hi", temperature=5)
    assert error(api.post("/chat/completions", json=hot), 400)["param"] == "temperature"
    image = chat_body(served, "Hi")
    image["messages"][0]["content"] = [{"type": "image_url", "image_url": {"url": "x"}}]
    assert error(api.post("/chat/completions", json=image), 400)["param"] == "messages[0].content"
    unknown = error(
        api.post("/chat/completions", json={**chat_body(served, "Hi"), "model": "gpt-4o"}), 404
    )
    assert unknown["code"] == "model_not_found" and "gemma-3-270m-q4_k_m" in unknown["message"]
    long = chat_body(served, "word " * 1500, stream=True)
    too_long = error(api.post("/chat/completions", json=long), 400)
    assert too_long["code"] == "context_length_exceeded"
    greedy = chat_body(served, "Hi", max_tokens=5000)
    assert error(api.post("/chat/completions", json=greedy), 400)["code"] == (
        "context_length_exceeded"
    )
    filters = chat_body(served, "Hi", lanterne={"types": ["md"]})
    assert error(api.post("/chat/completions", json=filters), 400)["param"] == "lanterne"
    assert error(api.get("/completions"), 404)["type"] == "invalid_request_error"


def test_no_model_configured_says_how_to_choose_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(access.TOKEN_ENV, TOKEN)
    settings = Settings()
    settings.set("retrieval.embedding_model", "none")
    ctx = AppContext(settings)
    server = ApiServer(ctx, port=0)
    server.start()
    try:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        with httpx2.Client(base_url=server.url + "/v1", headers=headers, timeout=30) as client:
            assert [m["id"] for m in client.get("/models").json()["data"]] == ["lanterne-documents"]
            for model in ("whatever", "lanterne-documents"):
                body = {"model": model, "messages": [{"role": "user", "content": "Hi"}]}
                response = client.post("/chat/completions", json=body)
                assert response.status_code == 503, model
                error = response.json()["error"]
                assert error["code"] == "model_not_configured"
                assert "lanterne models" in error["message"]
            vectors = client.post("/embeddings", json={"model": "x", "input": "a"})
            assert vectors.status_code == 503
            assert "retrieval.embedding_model" in vectors.json()["error"]["message"]
    finally:
        server.stop()
        ctx.close()


def test_embeddings_batched_as_floats_or_base64(served: ApiServer, api: httpx2.Client) -> None:
    texts = ["La tarte aux pommes", "apple pie", "partitioning a disk"]
    floats = api.post(
        "/embeddings",
        json={"model": "multilingual-e5-small", "input": texts, "encoding_format": "float"},
    ).json()
    packed = api.post(
        "/embeddings",
        json={"model": "multilingual-e5-small", "input": texts, "encoding_format": "base64"},
    ).json()
    assert floats["object"] == "list" and floats["model"] == "multilingual-e5-small"
    assert [d["index"] for d in floats["data"]] == [0, 1, 2]
    rows = np.array([d["embedding"] for d in floats["data"]], dtype=np.float32)
    decoded = np.stack(
        [np.frombuffer(base64.b64decode(d["embedding"]), dtype="<f4") for d in packed["data"]]
    )
    assert rows.shape == (3, 384) and np.allclose(rows, decoded, atol=1e-6)
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-3)
    # Meaning across languages: the French pie is nearer the English pie than the disk.
    assert rows[0] @ rows[1] > rows[0] @ rows[2]
    assert floats["usage"]["prompt_tokens"] == floats["usage"]["total_tokens"] > len(texts)
    one = api.post("/embeddings", json={"model": "multilingual-e5-small", "input": texts[0]})
    assert np.allclose(one.json()["data"][0]["embedding"], rows[0], atol=1e-5)
    passage = api.post(
        "/embeddings",
        json={
            "model": "multilingual-e5-small",
            "input": texts[0],
            "lanterne": {"input_type": "document"},
        },
    ).json()
    assert not np.allclose(passage["data"][0]["embedding"], rows[0], atol=1e-3)
    assert api.post("/embeddings", json={"model": "bge-m3", "input": "a"}).status_code == 404
    assert (
        api.post("/embeddings", json={"model": "multilingual-e5-small", "input": [1, 2]}).json()[
            "error"
        ]["param"]
        == "input"
    )


def test_lanterne_documents_answers_with_citations(served: ApiServer, api: httpx2.Client) -> None:
    question = "Combien de temps cuit la tarte aux pommes ?"
    body = {
        "model": "lanterne-documents",
        "messages": [
            {"role": "system", "content": "Ignored: the organisation's instructions govern."},
            {"role": "user", "content": "Bonjour"},
            {"role": "assistant", "content": "Bonjour !"},
            {"role": "user", "content": question},
        ],
    }
    answer = api.post("/chat/completions", json=body).json()
    choice = answer["choices"][0]
    assert answer["model"] == "lanterne-documents"
    assert choice["message"]["content"]
    citations = choice["citations"]
    assert citations[0]["number"] == 1 and citations[0]["path"].endswith("tarte.txt")
    assert set(citations[0]) == {"number", "path", "page", "line", "heading", "snippet", "cited"}
    assert "quarante minutes" in citations[0]["snippet"]
    assert answer["usage"]["prompt_tokens"] > 50  # the passages are in the prompt

    with api.stream("POST", "/chat/completions", json={**body, "stream": True}) as response:
        chunks = sse(response)[:-1]
    first, last = chunks[0]["choices"][0], chunks[-1]["choices"][0]
    assert [c["path"] for c in first["citations"]] == [c["path"] for c in last["citations"]]
    assert "cited" not in first["citations"][0] and "cited" in last["citations"][0]
    assert last["finish_reason"] in ("stop", "length")

    def sources(**filters: Any) -> list[str]:
        both = "La tarte aux pommes, et le partitioning avec LVM ?"
        request = {
            "model": "lanterne-documents",
            "messages": [{"role": "user", "content": both}],
            "max_tokens": 2,
            **({"lanterne": filters} if filters else {}),
        }
        answer = api.post("/chat/completions", json=request).json()
        return sorted(Path(c["path"]).name for c in answer["choices"][0]["citations"])

    assert sources() == ["install.md", "tarte.txt"]
    assert sources(types=["md"]) == ["install.md"]
    assert sources(languages=["fr"]) == ["tarte.txt"]
    folder = str(Path(citations[0]["path"]).parent)
    assert sources(folders=[folder]) == ["tarte.txt"]
    assert sources(modified_before="2000-01-01") == []
    bad = {**body, "lanterne": {"languages": ["de"]}}
    assert api.post("/chat/completions", json=bad).json()["error"]["param"] == (
        "lanterne.languages"
    )


def test_a_closed_stream_stops_the_model_within_100_ms(
    served: ApiServer, api: httpx2.Client
) -> None:
    # Greedy, a prompt the test model writes on until the limit: a sampled answer may end
    # within its first pieces, with nothing left to stop.
    essay = "Write a 500-word essay about the history of lighthouses."
    body = chat_body(served, essay, max_tokens=500, stream=True, temperature=0)
    with api.stream("POST", "/chat/completions", json=body) as response:
        lines = response.iter_lines()
        while not next(lines).startswith('data: {"id"'):
            pass
        next(lines)
        assert GENERATION.busy
        closed = time.perf_counter()
    assert GENERATION.wait_idle(5)
    assert time.perf_counter() - closed < 0.1


def test_the_person_at_the_keyboard_goes_first_and_a_full_queue_is_busy(
    served: ApiServer, api: httpx2.Client
) -> None:
    gate = ctx_of(served).model_gate
    order: list[str] = []
    body = chat_body(served, "Hi", max_tokens=2)

    def from_an_app() -> None:
        assert api.post("/chat/completions", json=body).status_code == 200
        order.append("app")

    def at_the_keyboard() -> None:
        with gate.hold(KEYBOARD):
            order.append("keyboard")

    limit = gate.limit
    gate.limit = 1
    try:
        with gate.hold(KEYBOARD):  # a question being answered in the app
            app = threading.Thread(target=from_an_app)
            app.start()
            deadline = time.monotonic() + 10
            while gate.waiting(API) < 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            busy = api.post("/chat/completions", json=body)
            assert busy.status_code == 429
            assert int(busy.headers["retry-after"]) >= 1
            assert busy.json()["error"]["code"] == "rate_limit_exceeded"
            person = threading.Thread(target=at_the_keyboard)
            person.start()
            while gate.waiting(KEYBOARD) < 1 and time.monotonic() < deadline:
                time.sleep(0.01)
        person.join(30)
        app.join(60)
    finally:
        gate.limit = limit
    assert order == ["keyboard", "app"]


def test_a_request_that_gives_up_while_waiting_leaves_the_queue(
    served: ApiServer, api: httpx2.Client
) -> None:
    gate = ctx_of(served).model_gate
    body = chat_body(served, "Hi", max_tokens=2, stream=True)
    with gate.hold(KEYBOARD):
        with pytest.raises(httpx2.ReadTimeout):
            api.post("/chat/completions", json=body, timeout=0.5)
        deadline = time.monotonic() + 2
        while gate.waiting() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert gate.waiting() == 0
