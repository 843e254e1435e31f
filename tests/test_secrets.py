"""Secrets go to the keychain only: an API key and a Hugging Face token are set through the
command line, then used for real (a gated download from a local hub, an answer from a local
OpenAI-compatible server that demands the key), each in its own process with a keychain
shared through keyring's backend selection. Then every file under the data directory and
huggingface-hub's home, and everything the commands printed, is searched for them. Logs
(stderr) must not carry document text or the conversation either."""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.cli import LANTERNE
from support.hub_server import Hub
from support.remote_server import llama_server

TESTS = Path(__file__).resolve().parent
REPO, FILE, MODEL_ID = "LiquidAI/LFM2-8B-A1B-GGUF", "LFM2-8B-A1B-Q4_K_M.gguf", "lfm2-8b-a1b"
API_KEY = "sk-lanterne-" + secrets.token_hex(12)
HF_TOKEN = "hf_" + secrets.token_hex(16)


@pytest.fixture(scope="module")
def keyed_server(tiny_moe_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log_path = tmp_path_factory.mktemp("server") / "server.log"
    with llama_server(tiny_moe_model, log_path, "--api_key", API_KEY) as base:
        yield base


@pytest.mark.timeout(600)
def test_keys_and_tokens_live_in_the_keychain_only(
    tmp_path: Path,
    lanterne_home: Path,
    hub: Hub,
    keyed_server: str,
    gemma_model: Path,
    docs_folder: Path,
) -> None:
    keychain = tmp_path / "keychain.json"  # outside the data directory, as the OS keychain is
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, (str(TESTS), os.environ.get("PYTHONPATH")))),
        "PYTHON_KEYRING_BACKEND": "support.file_keyring.FileKeyring",
        "LANTERNE_TEST_KEYRING": str(keychain),
    }
    outputs: list[str] = []
    logs: list[str] = []

    def run(*args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [str(LANTERNE), *args], input=stdin, capture_output=True, text=True, env=env,
            timeout=300,
        )  # fmt: skip
        outputs.extend((done.stdout, done.stderr))
        logs.append(done.stderr)
        assert done.returncode == 0, (args, done.stderr[-2000:])
        return done.stdout

    hub.add(REPO, FILE, gemma_model)
    hub.gated[REPO] = HF_TOKEN
    run("models", "token", "set", "--stdin", stdin=HF_TOKEN + "\n")
    run("models", "download", MODEL_ID)
    assert hub.gets()[-1].authorization == f"Bearer {HF_TOKEN}"  # it was really used

    run("index", "add", str(docs_folder))
    question = "Quel est le budget du projet Lanterne ?"
    run("remote", "set-key", keyed_server, "--stdin", stdin=API_KEY + "\n")
    run("remote", "use", keyed_server, "--context-size", "512")  # the server's --n_ctx
    answer = run("ask", question, "--json")  # refused by the server without the key
    assert '"answer"' in answer
    run("remote", "off")

    stored = keychain.read_text(encoding="utf-8")
    assert API_KEY in stored and HF_TOKEN in stored
    hf_home = Path(os.environ["HF_HOME"])
    files = [p for root in (lanterne_home, hf_home) for p in root.rglob("*") if p.is_file()]
    assert any(p.suffix == ".gguf" for p in files)  # the search covers a real session's files
    for path in files:
        data = path.read_bytes()
        for secret in (API_KEY, HF_TOKEN):
            for encoding in ("utf-8", "utf-16-le"):
                assert secret.encode(encoding) not in data, (path, secret)
    for text in outputs:
        assert API_KEY not in text and HF_TOKEN not in text
    document_line = next(iter(docs_folder.rglob("*.md"))).read_text(encoding="utf-8")
    document_line = max(document_line.splitlines(), key=len)
    for log in logs:
        assert question not in log and document_line not in log
