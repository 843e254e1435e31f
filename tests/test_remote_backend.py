"""The remote backend against a real OpenAI-compatible server: llama-cpp-python's own.

The server runs as a subprocess on 127.0.0.1 with the tiny MoE model. Two behaviours it does
not have are served by a small stand-in modelled on vLLM's replies: a 404 for an unknown model
(llama-cpp-python silently answers with its default model instead), and a `usage` chunk at the
end of a stream (llama-cpp-python ignores `stream_options`). The OS keychain cannot run here, so
an in-memory keyring backend stands in for it through keyring's own API.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx2
import keyring
import keyring.backend
import keyring.backends.fail
import keyring.errors
import pytest

from lanterne.engine import secrets
from lanterne.engine.errors import GenerationCancelledError
from lanterne.engine.remote import RemoteChatBackend
from lanterne.engine.remote_errors import (
    AuthenticationError,
    MalformedResponseError,
    ModelNotFoundError,
    ServerError,
    ServerTimeoutError,
    ServerUnreachableError,
)
from lanterne.engine.runtime import SamplingParams
from support.remote_server import MemoryKeyring, free_port, keyring_backend, llama_server

API_KEY = "SECRET-test-key-1234"
HELLO = [{"role": "user", "content": "Bonjour, qui es-tu ?"}]


@pytest.fixture(scope="module")
def keyed_server(tiny_moe_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log_path = tmp_path_factory.mktemp("keyed-server") / "server.log"
    with llama_server(tiny_moe_model, log_path, "--api_key", API_KEY) as base:
        yield base


@pytest.fixture
def no_keychain() -> Iterator[None]:
    """What a headless Linux machine has: keyring's `fail` backend."""
    backend = keyring.backends.fail.Keyring()  # type: ignore[no-untyped-call]
    with keyring_backend(backend):
        yield


def _busy(base: str) -> threading.Thread:
    """Occupy llama-cpp-python's server with a long non-streamed answer.

    The server runs one request at a time; a stream sent meanwhile gets its headers and then
    waits in silence, which is the case where only closing the socket can stop a blocked read.
    """

    sent = threading.Event()

    def trace(name: str, info: dict[str, object]) -> None:
        if name == "http11.send_request_body.complete":
            sent.set()

    def run() -> None:
        # Long enough to keep the server busy past the tests' timeouts (the tiny model writes
        # about 2,400 tokens/s here, so 480 tokens were over in 0.2 s); min_tokens: its end
        # token, sampled early, would free the server too soon.
        body = {"messages": HELLO, "max_tokens": 3000, "min_tokens": 3000, "temperature": 0.0}
        with httpx2.Client(timeout=60.0) as client:
            client.post(f"{base}/v1/chat/completions", json=body, extensions={"trace": trace})

    thread = threading.Thread(target=run)
    thread.start()
    assert sent.wait(timeout=10)
    time.sleep(0.02)  # the server picks the busy request up first
    return thread


# --- llama-cpp-python's server ---------------------------------------------------------------


@pytest.mark.model
def test_list_models_names_the_served_model(server: str, tiny_moe_model: Path) -> None:
    with RemoteChatBackend(server, api_key="") as backend:
        assert backend.list_models() == [str(tiny_moe_model)]


@pytest.mark.model
def test_stream_chat_yields_pieces_and_timings(server: str) -> None:
    params = SamplingParams(max_tokens=12, seed=7)
    with RemoteChatBackend(server + "/v1/", api_key="") as backend:
        pieces = list(backend.stream_chat(HELLO, params))
        timings = backend.last_timings
    assert len(pieces) > 1
    assert all(isinstance(piece, str) and piece for piece in pieces)
    assert timings is not None
    # llama-cpp-python ignores stream_options: tokens are counted from the events instead.
    assert timings.predicted_tokens == len(pieces) <= 12
    assert 0 < timings.ttft_ms < 30_000
    assert timings.prompt_ms == timings.ttft_ms
    assert timings.predicted_ms > 0


@pytest.mark.model
def test_cancel_stops_a_silent_stream_within_100_ms(server: str) -> None:
    cancel = threading.Event()
    received: list[str] = []
    stopped_at: list[float] = []

    def consume(backend: RemoteChatBackend) -> None:
        try:
            received.extend(backend.stream_chat(HELLO, SamplingParams(max_tokens=8), cancel))
        except GenerationCancelledError:
            stopped_at.append(time.perf_counter())

    with RemoteChatBackend(server, api_key="") as backend:
        busy = _busy(server)
        consumer = threading.Thread(target=consume, args=(backend,))
        consumer.start()
        time.sleep(0.05)  # the stream's request is sent and its read blocks
        assert busy.is_alive(), "the busy request ended too early to test a blocked read"
        set_at = time.perf_counter()
        cancel.set()
        consumer.join(timeout=5)
        busy.join()
        latency_ms = (stopped_at[0] - set_at) * 1000.0
        print(f"cancel latency: {latency_ms:.1f} ms")
        assert received == []  # it was blocked, not between two pieces
        assert latency_ms < 100
        # The server is still usable afterwards.
        assert list(backend.stream_chat(HELLO, SamplingParams(max_tokens=3)))


@pytest.mark.model
def test_silent_server_times_out_with_a_clear_message(server: str) -> None:
    with RemoteChatBackend(server, timeout=0.2, api_key="") as backend:
        busy = _busy(server)
        try:
            with pytest.raises(ServerTimeoutError) as caught:
                list(backend.stream_chat(HELLO, SamplingParams(max_tokens=4)))
        finally:
            busy.join()
    assert str(caught.value) == (
        f"The server at {server} sent nothing for 0.2 s. It may be overloaded: try again, "
        "or allow it more time."
    )


def test_connection_refused_names_the_url() -> None:
    base = f"http://127.0.0.1:{free_port()}"
    with RemoteChatBackend(base, api_key="") as backend:
        with pytest.raises(ServerUnreachableError) as caught:
            backend.list_models()
        with pytest.raises(ServerUnreachableError):
            list(backend.stream_chat(HELLO, SamplingParams(max_tokens=4)))
    assert str(caught.value) == (
        f"Cannot connect to {base}: the connection was refused. Is the server running and "
        "listening on that port?"
    )


@pytest.mark.model
def test_wrong_address_says_so(server: str) -> None:
    with RemoteChatBackend(server + "/api", model="any", api_key="") as backend:
        with pytest.raises(ModelNotFoundError, match="no /v1/models endpoint"):
            backend.list_models()
        with pytest.raises(ModelNotFoundError) as caught:
            list(backend.stream_chat(HELLO, SamplingParams(max_tokens=4)))
    assert "either it has no model named “any”, or the address is not" in str(caught.value)


# --- API keys ----------------------------------------------------------------------------------


@pytest.mark.model
def test_missing_or_wrong_key_is_explained(keyed_server: str, memory_keyring: object) -> None:
    with RemoteChatBackend(keyed_server) as backend, pytest.raises(AuthenticationError) as missing:
        backend.list_models()
    assert str(missing.value) == (
        f"The server at {keyed_server} requires an API key and none is stored for it. Add the "
        "server's key in Lanterne's settings."
    )
    with (
        RemoteChatBackend(keyed_server, api_key="wrong-key-5678") as backend,
        pytest.raises(AuthenticationError) as wrong,
    ):
        list(backend.stream_chat(HELLO, SamplingParams(max_tokens=4)))
    assert "rejected the API key (HTTP 401)" in str(wrong.value)
    for error in (missing.value, wrong.value):
        assert API_KEY not in str(error) and "wrong-key-5678" not in str(error)


@pytest.mark.model
def test_stored_key_is_used_and_never_logged(
    keyed_server: str, memory_keyring: MemoryKeyring, caplog: pytest.LogCaptureFixture
) -> None:
    secrets.set_api_key(keyed_server + "/", API_KEY)
    assert memory_keyring.passwords == {("Lanterne", keyed_server): API_KEY}
    caplog.set_level(logging.DEBUG)
    with RemoteChatBackend(keyed_server) as backend:
        assert backend.list_models()
        assert list(backend.stream_chat(HELLO, SamplingParams(max_tokens=3)))
        assert API_KEY not in repr(backend._client.headers)
    assert caplog.records  # httpx2 and httpcore2 did log the requests
    assert API_KEY not in caplog.text


@pytest.mark.model
def test_no_keychain_still_allows_servers_without_a_key(
    server: str, keyed_server: str, no_keychain: None
) -> None:
    with RemoteChatBackend(server) as backend:
        assert backend.list_models()
    with (
        RemoteChatBackend(keyed_server) as backend,
        pytest.raises(AuthenticationError, match="No system keychain is available"),
    ):
        backend.list_models()


def test_keys_round_trip_through_the_keychain(memory_keyring: MemoryKeyring) -> None:
    endpoint = "https://llm.example.org"
    assert secrets.get_api_key(endpoint) is None
    secrets.set_api_key(endpoint, " sk-123 ")
    assert secrets.get_api_key(endpoint + "/") == "sk-123"
    assert secrets.get_api_key(endpoint + "/v1/") == "sk-123"
    assert secrets.delete_api_key(endpoint) is True
    assert secrets.delete_api_key(endpoint) is False
    assert memory_keyring.passwords == {}


def test_missing_keychain_is_a_clear_error(no_keychain: None) -> None:
    with pytest.raises(secrets.KeychainError) as caught:
        secrets.set_api_key("https://llm.example.org", "sk-123")
    assert str(caught.value).startswith(
        "No system keychain is available to hold the API key for https://llm.example.org."
    )
    assert "sk-123" not in str(caught.value)
    with pytest.raises(secrets.KeychainError):
        secrets.get_api_key("https://llm.example.org")


# --- behaviours llama-cpp-python's server lacks: a stand-in shaped like vLLM's replies ----------


class _VllmLikeHandler(BaseHTTPRequestHandler):
    MODEL = "mistral-small"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        models = {"object": "list", "data": [{"id": self.MODEL}, {"id": "qwen3-30b-a3b"}]}
        self._send(200, "application/json", json.dumps(models).encode())

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        model = request.get("model")
        if model == "garbled":
            self._send(200, "text/event-stream", b"data: {not json\n\n")
        elif model == "strict" and "stream_options" in request:
            rejected = {"message": "Unrecognized request argument supplied: stream_options"}
            self._send(400, "application/json", json.dumps({"error": rejected}).encode())
        elif model == "strict":  # no "[DONE]": the finish reason alone ends the answer
            event = {"choices": [{"delta": {"content": "Oui."}, "finish_reason": "stop"}]}
            self._send(200, "text/event-stream", f"data: {json.dumps(event)}\n\n".encode())
        elif model != self.MODEL:
            error = {"message": f"The model `{model}` does not exist.", "code": 404}
            self._send(404, "application/json", json.dumps({"error": error}).encode())
        else:
            assert request["stream_options"] == {"include_usage": True}
            assert "top_k" not in request and "repeat_penalty" not in request
            events = [
                {"choices": [{"delta": {"role": "assistant", "content": ""}}], "usage": None},
                {"choices": [{"delta": {"content": "Bonjour"}}], "usage": None},
                {"choices": [{"delta": {"content": " !"}}], "usage": None},
                {"choices": [], "usage": {"prompt_tokens": 11, "completion_tokens": 2}},
            ]
            lines = [f"data: {json.dumps(event)}\n\n" for event in events] + ["data: [DONE]\n\n"]
            self._send(200, "text/event-stream", "".join(lines).encode())


@pytest.fixture
def vllm_like() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _VllmLikeHandler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_unknown_model_lists_the_available_ones(vllm_like: str) -> None:
    with (
        RemoteChatBackend(vllm_like, model="gpt-4o", api_key="") as backend,
        pytest.raises(ModelNotFoundError) as caught,
    ):
        list(backend.stream_chat(HELLO, SamplingParams()))
    assert str(caught.value) == (
        f"The server at {vllm_like} has no model named “gpt-4o”. Available models: "
        "mistral-small, qwen3-30b-a3b."
    )


def test_usage_from_the_server_fills_the_timings(vllm_like: str) -> None:
    with RemoteChatBackend(vllm_like, model="mistral-small", api_key="") as backend:
        assert list(backend.stream_chat(HELLO, SamplingParams(seed=3))) == ["Bonjour", " !"]
        timings = backend.last_timings
    assert timings is not None
    assert (timings.prompt_tokens, timings.predicted_tokens) == (11, 2)


def test_malformed_stream_is_reported(vllm_like: str) -> None:
    with (
        RemoteChatBackend(vllm_like, model="garbled", api_key="") as backend,
        pytest.raises(MalformedResponseError) as caught,
    ):
        list(backend.stream_chat(HELLO, SamplingParams()))
    assert str(caught.value) == (
        f"The server at {vllm_like} sent an answer that is not OpenAI-compatible JSON: {{not json"
    )


def test_a_server_rejecting_stream_options_still_streams(vllm_like: str) -> None:
    with RemoteChatBackend(vllm_like, model="strict", api_key="") as backend:
        assert list(backend.stream_chat(HELLO, SamplingParams())) == ["Oui."]
        timings = backend.last_timings
    assert timings is not None
    assert (timings.prompt_tokens, timings.predicted_tokens) == (0, 1)


def test_a_stream_the_server_abandons_is_an_error_not_an_empty_answer(server: str) -> None:
    """llama-cpp-python's server ends a stream silently when the prompt overflows its context."""
    too_long = [{"role": "user", "content": "tarte " * 5000}]  # past the 4096-token context
    with (
        RemoteChatBackend(server) as backend,
        pytest.raises(ServerError, match="ended the answer before finishing it"),
    ):
        list(backend.stream_chat(too_long, SamplingParams(max_tokens=8)))
