"""The assistant and the CLI answering from a real OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from lanterne.assistant.pipeline import AskEvent, Finished, ModelReady
from lanterne.context import AppContext
from lanterne.engine import secrets
from lanterne.foundation.settings import Settings
from support.remote_server import MemoryKeyring, llama_server

API_KEY = "SECRET-test-key-1234"


@pytest.mark.model
def test_the_assistant_answers_from_the_server(
    tiny_moe_model: Path, docs_folder: Path, tmp_path: Path
) -> None:
    """engine.backend=remote: retrieval and citations stay here; the server writes the answer."""
    settings = Settings()
    settings.set("engine.backend", "remote")
    # The tiny model's tokenizer spends about a token per byte, three times what the estimate
    # assumes for real tokenizers: tell Lanterne the context is under a third of the server's.
    settings.set("remote.context_size", 1200)
    settings.set("model.max_answer_tokens", 12)
    server_log = tmp_path / "server.log"
    with llama_server(tiny_moe_model, server_log, "--n_ctx", "4096") as server:
        settings.set("remote.url", server + "/v1/")
        events = _ask_with(settings, docs_folder)
    ready, last = events[0], events[-1]
    assert isinstance(ready, ModelReady) and isinstance(last, Finished)
    assert ready.engine.backend == "remote" and ready.engine.server == server
    assert ready.engine.name.endswith(".gguf")  # the one model the server offers, by name
    answer = last.answer
    assert answer.citations[0].path.endswith("tarte.txt")  # (random weights: any text)
    assert answer.timings.predicted_tokens >= 1
    data = answer.to_json()["model"]
    assert data == {
        "backend": "remote",
        "name": ready.engine.name,
        "server": server,
        "reasoning_format": "server",  # the server takes reasoning apart itself, if it can
    }
    # The prompt was fitted by estimate; a prompt over the server's context would have ended
    # in a ServerError (see the next test), so finishing proves it fit.
    assert not answer.stopped


def _ask_with(settings: Settings, docs_folder: Path) -> list[AskEvent]:
    ctx = AppContext(settings)
    try:
        indexer = ctx.indexer()
        indexer.add_folder(docs_folder)
        indexer.store.close()
        events = list(ctx.assistant.ask("Combien de temps cuit la tarte aux pommes ?"))
        assert ctx.host.model is None  # nothing was loaded in this process
    finally:
        ctx.close()
    return events


def test_cli_remote_use_models_key_and_off(
    server: str, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    from lanterne.cli.main import main

    def run_json(*argv: str) -> dict[str, object]:
        assert main([*argv, "--json"]) == 0
        data: dict[str, object] = json.loads(capsys.readouterr().out)
        return data

    used = run_json("remote", "use", server + "/", "--context-size", "512")
    assert used["url"] == server and len(used["models"]) == 1  # type: ignore[arg-type]
    settings = Settings()
    assert settings.get_str("engine.backend") == "remote"
    assert settings.get_str("remote.url") == server
    assert settings.get_int("remote.context_size") == 512
    assert run_json("remote", "models")["models"] == used["models"]
    answer = run_json("ask", "Bonjour ?", "--no-docs")
    name = used["models"][0]  # type: ignore[index]
    assert answer["model"] == {
        "backend": "remote",
        "name": name,
        "server": server,
        "reasoning_format": "server",
    }
    assert answer["reasoning"] == ""  # llama-cpp-python's server separates none

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("sys.stdin", io.StringIO(API_KEY + "\n"))
        assert run_json("remote", "set-key", "--stdin")["stored"] is True
    assert secrets.get_api_key(server) == API_KEY
    assert API_KEY not in json.dumps(list(memory_keyring.passwords))  # the key is a value only
    assert run_json("remote", "forget-key")["removed"] is True
    assert secrets.get_api_key(server) is None

    assert run_json("remote", "off")["backend"] == "local"
    assert Settings().get_str("engine.backend") == "local"


def test_cli_remote_use_refuses_an_unknown_model(
    server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from lanterne.cli.main import main

    assert main(["remote", "use", server, "--model", "nope"]) == 1
    assert "has no model nope" in capsys.readouterr().err
    assert Settings().get_str("engine.backend") == "local"  # nothing was saved
