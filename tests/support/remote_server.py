"""A real OpenAI-compatible server for tests (llama-cpp-python's) and an in-memory keychain."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import keyring
import keyring.backend
import keyring.errors
import pytest
from jaraco.classes import properties

STARTUP_S = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def llama_server(model: Path, log_path: Path, *extra: str) -> Iterator[str]:
    """llama-cpp-python's server on a free port; yields its base URL once it answers."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # `python -m llama_cpp.server`, with llama.cpp's backends registered first: a runtime-dispatch
    # build (dev.py's) registers none until asked, and the server never asks.
    start = (
        "import runpy; from lanterne.engine import ggml_api; ggml_api.load_backends(); "
        "runpy.run_module('llama_cpp.server', run_name='__main__', alter_sys=True)"
    )
    command = [sys.executable, "-c", start, "--model", str(model)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", "512", *extra]
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"the server exited early:\n{log_path.read_text(errors='replace')}")
            try:
                httpx2.get(f"{base}/v1/models", timeout=1.0)  # any HTTP answer means ready
                break
            except httpx2.TransportError:
                if time.monotonic() > deadline:
                    pytest.fail(f"the server did not start in {STARTUP_S:g} s")
                time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class MemoryKeyring(keyring.backend.KeyringBackend):
    """The OS keychain's stand-in: a dict behind keyring's backend interface."""

    @properties.classproperty
    def priority(cls) -> float:  # noqa: N805 (a class property: its argument is the class)
        # Not viable for keyring's automatic choice: only the tests that set it use it.
        raise RuntimeError("set explicitly by tests only")

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # keyring leaves it unannotated
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.passwords.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("not found")


@contextlib.contextmanager
def keyring_backend(backend: keyring.backend.KeyringBackend) -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield
    finally:
        keyring.set_keyring(previous)
