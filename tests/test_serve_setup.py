"""lanterne serve's set-up, without a model: the gate's order, the token's keychain, the
address it listens on, and the `lanterne serve` command."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx2
import keyring.backends.fail
import pytest

from lanterne.context import AppContext
from lanterne.engine.secrets import KeychainError
from lanterne.foundation.settings import Settings
from lanterne.model_gate import API, KEYBOARD, GateFullError, ModelGate
from lanterne.serve import access
from lanterne.serve.server import ApiServer, ApiServerError
from support.cli import LANTERNE
from support.remote_server import MemoryKeyring, keyring_backend

pytestmark = pytest.mark.model

TOKEN = "test-token-" + "x" * 20
TESTS = Path(__file__).resolve().parent


def test_the_gate_in_order_of_priority_then_arrival() -> None:
    gate = ModelGate(limit=2)
    order: list[str] = []
    cancel = threading.Event()

    def wait(name: str, priority: int, stop: threading.Event | None = None) -> None:
        try:
            with gate.hold(priority, stop):
                order.append(name)
        except Exception as exc:
            order.append(f"{name}: {type(exc).__name__}")

    with gate.hold(API):
        threads = []
        for name, priority, stop in (
            ("app 1", API, None),
            ("app 2", API, cancel),
            ("person", KEYBOARD, None),
        ):
            threads.append(threading.Thread(target=wait, args=(name, priority, stop)))
            threads[-1].start()
            while gate.waiting() < len(threads):
                time.sleep(0.005)
        with pytest.raises(GateFullError) as full, gate.hold(API):
            pass
        assert full.value.retry_after >= 1 and str(full.value.retry_after) in str(full.value)
        cancel.set()
        while gate.waiting() > 2:
            time.sleep(0.005)
    for thread in threads:
        thread.join(5)
    assert order == ["app 2: GenerationCancelledError", "person", "app 1"]
    remote = ModelGate(limit=0, applies=lambda: False)
    with remote.hold(API), remote.hold(API):  # no in-process model: no turns to take
        pass


def test_the_token_lives_in_the_keychain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(access.TOKEN_ENV, raising=False)
    access.forget_cached_token()
    memory = MemoryKeyring()
    with keyring_backend(memory):
        token = access.api_token()
        assert memory.passwords == {("Lanterne", access.KEYCHAIN_NAME): token}
        assert len(token) >= 40 and access.api_token() == token
        renewed = access.renew_api_token()
        assert renewed != token and access.api_token() == renewed
        assert memory.passwords[("Lanterne", access.KEYCHAIN_NAME)] == renewed
        assert access.authorized(f"Bearer {renewed}", renewed)
        assert access.authorized(f"bearer  {renewed} ", renewed)
        assert not access.authorized(f"Bearer {token}", renewed)
        assert not access.authorized(renewed, renewed)  # no scheme
        assert not access.authorized(None, renewed)
        monkeypatch.setenv(access.TOKEN_ENV, "from-the-environment")
        assert access.api_token() == "from-the-environment"
    monkeypatch.delenv(access.TOKEN_ENV)
    access.forget_cached_token()
    no_keychain = keyring.backends.fail.Keyring()  # type: ignore[no-untyped-call]
    with keyring_backend(no_keychain), pytest.raises(KeychainError) as exc:
        access.api_token()
    assert "API token" in str(exc.value) and "keychain" in str(exc.value)
    access.forget_cached_token()


def test_a_port_in_use_is_said_in_words(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(access.TOKEN_ENV, TOKEN)
    ctx = AppContext(Settings())
    first = ApiServer(ctx, port=0)
    first.start()
    try:
        second = ApiServer(ctx, port=first.port)
        with pytest.raises(ApiServerError, match=f"Port {first.port} is already in use"):
            second.start()
        assert not second.running
        second.stop()  # never started: nothing to do
    finally:
        first.stop()
        first.stop()
        ctx.close()
    assert not first.running


def test_an_empty_address_listens_on_this_computer_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty api.host (written by hand) would bind every interface: loopback it is."""
    monkeypatch.setenv(access.TOKEN_ENV, TOKEN)
    ctx = AppContext(Settings())
    server = ApiServer(ctx, host=" ", port=0)
    try:
        assert server.start().startswith("http://127.0.0.1:")
        assert server._socket is not None and server._socket.getsockname()[0] == "127.0.0.1"
    finally:
        server.stop()
        ctx.close()


def _cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != access.TOKEN_ENV}
    return {
        **env,
        "PYTHONPATH": os.pathsep.join(filter(None, (str(TESTS), os.environ.get("PYTHONPATH")))),
        "PYTHON_KEYRING_BACKEND": "support.file_keyring.FileKeyring",
        "LANTERNE_TEST_KEYRING": str(tmp_path / "keychain.json"),
        **extra,
    }


def test_cli_show_token_from_the_environment_or_the_keychain(tmp_path: Path) -> None:
    def serve(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(LANTERNE), "serve", *args],
            capture_output=True,
            text=True,
            env=_cli_env(tmp_path, **extra),
            timeout=60,
        )

    assert serve("--show-token", LANTERNE_API_KEY="mine").stdout == "mine\n"
    created = serve("--show-token")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token in (tmp_path / "keychain.json").read_text(encoding="utf-8")
    assert json.loads(serve("--show-token", "--json").stdout) == {"token": token}
    policy = tmp_path / "policy.toml"
    policy.write_text('[settings]\n"api.enabled" = false\n', encoding="utf-8")
    refused = serve("--show-token", LANTERNE_POLICY=str(policy))
    assert refused.returncode == 1 and "turned off the API" in refused.stderr
    assert not refused.stdout
    no_keychain = serve("--show-token", PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    assert no_keychain.returncode == 1 and "LANTERNE_API_KEY" in no_keychain.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child is a console event there")
def test_cli_serves_until_interrupted_and_warns_off_loopback(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [str(LANTERNE), "serve", "--host", "0.0.0.0", "--port", "0", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_cli_env(tmp_path, LANTERNE_API_KEY=TOKEN),
    )
    try:
        assert process.stdout is not None
        started = json.loads(process.stdout.readline())
        assert started["token"] == "environment" and started["host"] == "0.0.0.0"
        url = f"http://127.0.0.1:{started['port']}/v1"
        response = httpx2.get(url + "/models", headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 200
        assert httpx2.get(url + "/models").status_code == 401
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "Warning: 0.0.0.0 opens the API to the network" in err
    assert "GET /v1/models 200" in err and "refused GET /v1/models" in err
    assert TOKEN not in err
