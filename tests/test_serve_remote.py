"""`lanterne serve` in front of a remote backend: the chat model is the server's, the documents
this computer's (the llama-cpp-python test server stands for the remote one)."""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest
from test_serve import DOCS, TOKEN, sse

from lanterne.context import AppContext
from lanterne.foundation.settings import Settings
from lanterne.model_gate import KEYBOARD
from lanterne.serve import access
from lanterne.serve.server import ApiServer

pytestmark = pytest.mark.model


def test_with_a_remote_backend_documents_are_retrieved_here_and_written_there(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """engine.backend=remote: the chat model is the server's, forwarded; lanterne-documents
    retrieves from this computer's index and has the server write; no model loads here, and
    no turns are taken (the server queues its own requests)."""
    monkeypatch.setenv(access.TOKEN_ENV, TOKEN)
    folder = tmp_path / "docs"
    (folder / "cuisine").mkdir(parents=True)
    (folder / "cuisine/tarte.txt").write_text(DOCS["cuisine/tarte.txt"], encoding="utf-8")
    settings = Settings()
    settings.set("engine.backend", "remote")
    settings.set("remote.url", server)
    settings.set("remote.context_size", 1200)  # the tiny model spends a token per byte
    settings.set("model.max_answer_tokens", 8)
    settings.set("retrieval.embedding_model", "none")
    ctx = AppContext(settings)
    indexer = ctx.indexer()
    indexer.add_folder(folder)
    indexer.store.close()
    api_server = ApiServer(ctx, port=0)
    api_server.start()
    try:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        with (
            httpx2.Client(base_url=api_server.url + "/v1", headers=headers, timeout=60) as client,
            ctx.model_gate.hold(KEYBOARD),  # would block a local answer
        ):
            ids = [m["id"] for m in client.get("/models").json()["data"]]
            assert ids[1:] == ["lanterne-documents"] and ids[0].endswith(".gguf")
            plain = {"model": ids[0], "messages": [{"role": "user", "content": "Hi"}]}
            answer = client.post("/chat/completions", json={**plain, "max_tokens": 4}).json()
            assert answer["model"] == ids[0]
            assert answer["choices"][0]["finish_reason"] in ("stop", "length")
            assert 1 <= answer["usage"]["completion_tokens"] <= 4
            body = {
                "model": "lanterne-documents",
                "stream": True,
                "messages": [{"role": "user", "content": "Combien de temps cuit la tarte ?"}],
            }
            with client.stream("POST", "/chat/completions", json=body) as response:
                chunks = sse(response)
            assert chunks[-1] == "[DONE]"
            first = chunks[0]["choices"][0]
            assert first["citations"][0]["path"].endswith("tarte.txt")
            schema = {"type": "json_object"}
            refused = client.post("/chat/completions", json={**plain, "response_format": schema})
            assert refused.status_code == 400
            assert refused.json()["error"]["param"] == "response_format"
        assert ctx.host.model is None
    finally:
        api_server.stop()
        ctx.close()
