"""`lanterne serve` as real clients use it: the official `openai` package (chat streamed and not,
`lanterne-documents` with its citations, structured output, embeddings in its default base64,
its error classes, a stream closed early) and `curl`; and the issue's "done when": a user's
script against `lanterne serve` started as a process. tests/test_serve.py covers the endpoints
themselves over plain HTTP."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import openai
import pytest
from openai import OpenAI
from pydantic import BaseModel, Field

from lanterne.context import AppContext
from lanterne.engine.activity import GENERATION
from lanterne.engine.embedder import Embedder
from lanterne.evaluation.checks import answer_language
from lanterne.foundation.settings import Settings
from lanterne.model_gate import KEYBOARD
from lanterne.serve import access
from lanterne.serve.server import ApiServer
from support.cli import LANTERNE

pytestmark = pytest.mark.model

TOKEN = "clients-token-" + "z" * 24
CURL = "/usr/bin/curl"
QUESTION = "Combien de temps cuit la tarte aux pommes ?"
DOCS = {
    "cuisine/tarte.md": "# La tarte aux pommes\n\n## Cuisson\n\nLa tarte aux pommes cuit "
    "quarante minutes dans un four préchauffé à 180 degrés. Il faut éplucher les pommes avant "
    "de les couper en fines lamelles.\n",
    "atelier/velo.md": "# Entretien du vélo\n\n## La chaîne\n\nIl faut graisser la chaîne du "
    "vélo tous les mois et vérifier la pression des pneus chaque semaine.\n",
    "bureau/conges.md": "# Les congés\n\nLes demandes de congés se font sur l'intranet au moins "
    "deux semaines à l'avance ; le responsable répond sous trois jours.\n",
}
MARKER = re.compile(r"\[(\d+)\]")


def write_docs(folder: Path) -> Path:
    for rel, text in DOCS.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text, encoding="utf-8")
    return folder


def prepare_home(settings: Settings, gemma: Path, folder: Path) -> AppContext:
    """Gemma as the chat model, answers kept short, the French folder indexed."""
    settings.set("model.path", str(gemma))
    settings.set("model.context_size", 1024)
    settings.set("model.max_answer_tokens", 24)
    ctx = AppContext(settings)
    indexer = ctx.indexer()
    indexer.add_folder(write_docs(folder))
    indexer.store.close()
    return ctx


@pytest.fixture(scope="module")
def served(gemma_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    home = tmp_path_factory.mktemp("clients-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LANTERNE_HOME", str(home))
        mp.setenv(access.TOKEN_ENV, TOKEN)
        ctx = prepare_home(Settings(), gemma_model, tmp_path_factory.mktemp("clients-docs"))
        server = ApiServer(ctx, port=0)
        server.start()
        yield server
        server.stop()
        ctx.close()


@pytest.fixture
def client(served: ApiServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAI]:
    monkeypatch.setenv(access.TOKEN_ENV, TOKEN)
    # No retries: every error must be the server's first answer.
    with OpenAI(base_url=served.url + "/v1", api_key=TOKEN, max_retries=0, timeout=120) as api:
        yield api


def chat_model(client: OpenAI) -> str:
    return client.models.list().data[0].id


def user(content: str) -> list[Any]:
    return [{"role": "user", "content": content}]


def prompt_tokens(server: ApiServer, messages: list[Any]) -> int:
    """The prompt's length as the loaded model tokenizes its chat template's rendering."""
    ctx: AppContext = server._ctx
    model = ctx.host.load(ctx.assistant.load_request()).result()
    return int(ctx.host.submit(lambda: model.count_tokens(model.render_chat(messages))).result())


def test_models_listed_and_a_plain_chat_streamed_and_not_with_real_token_counts(
    served: ApiServer, client: OpenAI
) -> None:
    ids = [m.id for m in client.models.list()]
    assert ids == ["gemma-3-270m-q4_k_m", "lanterne-documents", "multilingual-e5-small"]
    messages = user("Name three colours of the rainbow.")
    kwargs: dict[str, Any] = {"model": ids[0], "messages": messages, "max_tokens": 10}
    done = client.chat.completions.create(**kwargs, temperature=0, seed=3)
    assert done.object == "chat.completion" and done.model == ids[0]
    choice = done.choices[0]
    assert choice.message.role == "assistant" and choice.message.content
    assert choice.finish_reason in ("stop", "length")
    assert done.usage is not None
    assert done.usage.prompt_tokens == prompt_tokens(served, messages)
    assert 0 < done.usage.completion_tokens <= 10
    if choice.finish_reason == "length":
        assert done.usage.completion_tokens == 10

    stream = client.chat.completions.create(
        **kwargs, temperature=0, seed=3, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert {c.id for c in chunks} == {chunks[0].id}
    pieces = [c.choices[0].delta.content or "" for c in chunks if c.choices]
    assert "".join(pieces) == choice.message.content  # greedy: the same answer, in pieces
    assert 1 < len([p for p in pieces if p]) <= done.usage.completion_tokens
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == done.usage.completion_tokens
    assert chunks[-1].usage.prompt_tokens == done.usage.prompt_tokens
    # The same prompt again: found in the model's cache, all but the last token.
    details = chunks[-1].usage.prompt_tokens_details
    assert details is not None
    assert done.usage.prompt_tokens - 1 <= details.cached_tokens <= done.usage.prompt_tokens


def check_citations(text: str, citations: list[dict[str, Any]]) -> None:
    """The tart's page first; `cited` says exactly which sources the [n] markers name."""
    assert citations[0]["number"] == 1 and citations[0]["path"].endswith("tarte.md")
    assert citations[0]["heading"] and "quarante minutes" in citations[0]["snippet"]
    assert [c["number"] for c in citations] == list(range(1, len(citations) + 1))
    named = {int(n) for n in MARKER.findall(text)} & {c["number"] for c in citations}
    assert {c["number"] for c in citations if c["cited"]} == named


def test_documents_answer_in_french_with_citations_streamed_and_not(
    served: ApiServer, client: OpenAI
) -> None:
    done = client.chat.completions.create(
        model="lanterne-documents", messages=user(QUESTION), max_tokens=30, temperature=0
    )
    choice = done.choices[0]
    text = choice.message.content or ""
    assert done.model == "lanterne-documents" and text
    assert choice.model_extra is not None
    citations = choice.model_extra["citations"]
    check_citations(text, citations)
    assert done.usage is not None and done.usage.completion_tokens <= 30
    snippet_tokens = prompt_tokens(served, user(citations[0]["snippet"]))
    assert done.usage.prompt_tokens > snippet_tokens  # the passages are in the prompt

    stream = client.chat.completions.create(
        model="lanterne-documents",
        messages=user(QUESTION),
        max_tokens=30,
        temperature=0,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    first, last = chunks[0].choices[0], chunks[-2].choices[0]
    assert first.model_extra is not None and last.model_extra is not None
    assert [c["path"] for c in first.model_extra["citations"]] == [c["path"] for c in citations]
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed == text and answer_language(streamed) == "fr"
    check_citations(streamed, last.model_extra["citations"])
    assert last.finish_reason == choice.finish_reason
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == done.usage.completion_tokens


class City(BaseModel):
    city: str = Field(max_length=30)
    country: str = Field(max_length=30)
    people: int


def test_structured_output_parses_and_follows_the_schema(client: OpenAI) -> None:
    model = chat_model(client)
    schema = {
        "type": "object",
        "properties": {
            "colours": {
                "type": "array",
                "items": {"type": "string", "maxLength": 16},
                "minItems": 2,
                "maxItems": 4,
            },
            "count": {"type": "integer"},
        },
        "required": ["colours", "count"],
        "additionalProperties": False,
    }
    raw = client.chat.completions.create(
        model=model,
        messages=user("List two colours and say how many."),
        max_tokens=80,
        temperature=0,
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "colours", "schema": schema, "strict": True},
        },
    )
    data = json.loads(raw.choices[0].message.content or "")
    assert set(data) == {"colours", "count"} and isinstance(data["count"], int)
    assert len(data["colours"]) >= 2 and all(isinstance(c, str) for c in data["colours"])
    # The package's own helper: a pydantic model as the schema, the answer parsed back.
    parsed = client.chat.completions.parse(
        model=model,
        messages=user("Name a big city, its country and how many people live there."),
        max_tokens=80,
        temperature=0,
        response_format=City,
    )
    city = parsed.choices[0].message.parsed
    assert isinstance(city, City)


def test_embeddings_in_the_packages_base64_are_the_models_vectors(
    client: OpenAI, e5_model: Path
) -> None:
    texts = ["La tarte aux pommes", "apple pie", "graisser la chaîne du vélo"]
    answer = client.embeddings.create(model="multilingual-e5-small", input=texts)
    assert answer.model == "multilingual-e5-small" and [d.index for d in answer.data] == [0, 1, 2]
    rows = np.array([d.embedding for d in answer.data], dtype=np.float32)
    embedder = Embedder(e5_model)  # the same model, in this process
    try:
        expected = embedder.embed_queries(texts)
        assert rows.shape == (3, embedder.dimensions)
    finally:
        embedder.close()
    assert np.allclose(rows, expected, atol=1e-4)
    assert answer.usage.prompt_tokens > len(texts)
    floats = client.embeddings.create(
        model="multilingual-e5-small", input=texts[0], encoding_format="float"
    )
    assert np.allclose(floats.data[0].embedding, rows[0], atol=1e-5)


def test_a_wrong_key_and_an_unknown_model_raise_the_packages_errors(
    served: ApiServer, client: OpenAI
) -> None:
    with OpenAI(base_url=served.url + "/v1", api_key="sk-" + "w" * 40, max_retries=0) as wrong:
        with pytest.raises(openai.AuthenticationError) as refused:
            wrong.models.list()
        with pytest.raises(openai.AuthenticationError):
            wrong.chat.completions.create(model="lanterne-documents", messages=user("Bonjour"))
    assert refused.value.status_code == 401
    assert isinstance(refused.value.body, dict) and refused.value.body["code"] == "invalid_api_key"
    with pytest.raises(openai.NotFoundError) as unknown:
        client.chat.completions.create(model="gpt-4o", messages=user("Hi"), stream=True)
    assert unknown.value.status_code == 404 and "gpt-4o" in unknown.value.message
    with pytest.raises(openai.NotFoundError):
        client.embeddings.create(model="text-embedding-3-small", input="Hi")


def test_a_stream_closed_by_the_client_frees_the_model_at_once(
    served: ApiServer, client: OpenAI
) -> None:
    model = chat_model(client)
    stream = client.chat.completions.create(
        model=model,
        messages=user("Write a 500-word essay about the history of lighthouses."),
        max_tokens=400,
        temperature=0,  # greedy: Gemma writes until the limit (sampled, it may stop at once)
        stream=True,
    )
    for seen, _chunk in enumerate(stream):
        if seen == 3:
            break
    assert GENERATION.busy
    closed = time.perf_counter()
    stream.close()
    assert GENERATION.wait_idle(5)
    stopped_s = time.perf_counter() - closed
    with served._ctx.model_gate.hold(KEYBOARD):  # the request's turn was given back
        freed_s = time.perf_counter() - closed
    assert stopped_s < 0.5 and freed_s < 0.5, (stopped_s, freed_s)  # 400 tokens take ~7 s
    # The next request finds the model free: its first piece comes as fast as a first one can.
    asked = time.perf_counter()
    follow = client.chat.completions.create(
        model=model, messages=user("Say hi."), max_tokens=2, stream=True
    )
    next(iter(follow))
    follow.close()
    assert time.perf_counter() - asked < 3.0


def curl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CURL, "-sS", *args], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.skipif(not Path(CURL).exists(), reason="curl is not installed")
def test_curl_streams_server_sent_events_and_is_refused_without_the_token(
    served: ApiServer,
) -> None:
    url = served.url + "/v1/chat/completions"
    body = json.dumps(
        {
            "model": "lanterne-documents",
            "stream": True,
            "max_tokens": 12,
            "messages": user(QUESTION),
        }
    )
    streamed = curl("-N", "-H", f"Authorization: Bearer {TOKEN}", "-d", body, url)
    assert streamed.returncode == 0, streamed.stderr
    lines = [line for line in streamed.stdout.splitlines() if line]
    assert all(line.startswith("data: ") for line in lines), lines
    assert lines[-1] == "data: [DONE]"
    events = [json.loads(line.removeprefix("data: ")) for line in lines[:-1]]
    assert events[0]["choices"][0]["citations"][0]["path"].endswith("tarte.md")
    assert events[-1]["choices"][0]["finish_reason"] in ("stop", "length")

    refused = curl("-w", "\n%{http_code}", "-d", body, url)
    payload, status = refused.stdout.rsplit("\n", 1)
    assert status == "401"
    error = json.loads(payload)["error"]
    assert set(error) == {"message", "type", "code", "param"}
    assert error["type"] == "invalid_request_error" and error["code"] == "invalid_api_key"


USER_SCRIPT = '''\
"""Ask Lanterne about my documents, through its OpenAI-compatible API."""
import json
import os
import sys

import openai
from openai import OpenAI

client = OpenAI(base_url=sys.argv[1], api_key=os.environ.get("LANTERNE_API_KEY", "not-needed"))
try:
    stream = client.chat.completions.create(
        model="lanterne-documents",
        messages=[{"role": "user", "content": sys.argv[2]}],
        stream=True,
        max_tokens=30,
        temperature=0,
    )
    text, citations = [], []
    for chunk in stream:
        choice = chunk.choices[0]
        text.append(choice.delta.content or "")
        citations = (choice.model_extra or {}).get("citations", citations)
except openai.APIStatusError as exc:
    print(json.dumps({"status": exc.status_code, "error": exc.message}))
    sys.exit(1)
print(json.dumps({"answer": "".join(text), "citations": citations}, ensure_ascii=False))
'''


@pytest.mark.skipif(sys.platform == "win32", reason="the process is ended with a signal")
def test_done_when_a_users_script_gets_a_french_answer_with_citations_or_a_401(
    gemma_model: Path, lanterne_home: Path, tmp_path: Path
) -> None:
    ctx = prepare_home(Settings(), gemma_model, tmp_path / "mes documents")
    ctx.settings.save()
    ctx.close()
    env = {**os.environ, "LANTERNE_HOME": str(lanterne_home), access.TOKEN_ENV: TOKEN}
    server = subprocess.Popen(
        [str(LANTERNE), "serve", "--port", "0", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    script = tmp_path / "ask_my_documents.py"
    script.write_text(USER_SCRIPT, encoding="utf-8")
    try:
        assert server.stdout is not None
        started = json.loads(server.stdout.readline())
        url = started["url"]
        assert url == f"http://127.0.0.1:{started['port']}/v1" and started["port"] > 0

        def run(**extra: str) -> subprocess.CompletedProcess[str]:
            without = {k: v for k, v in env.items() if k != access.TOKEN_ENV}
            return subprocess.run(
                [sys.executable, str(script), url, QUESTION],
                capture_output=True,
                text=True,
                timeout=120,
                env={**without, **extra},
            )

        answered = run(**{access.TOKEN_ENV: TOKEN})
        assert answered.returncode == 0, answered.stderr
        result = json.loads(answered.stdout)
        assert result["answer"] and answer_language(result["answer"]) == "fr", result
        check_citations(result["answer"], result["citations"])
        assert Path(result["citations"][0]["path"]).parent.parent.name == "mes documents"

        refused = run()
        assert refused.returncode == 1, refused.stderr
        assert json.loads(refused.stdout)["status"] == 401
    finally:
        server.terminate()
        _out, err = server.communicate(timeout=30)
    assert server.returncode == 0, err
    assert "POST /v1/chat/completions 200" in err and "refused POST /v1/chat/completions" in err
    assert TOKEN not in err
