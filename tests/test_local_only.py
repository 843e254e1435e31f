"""Local-only, proven: a whole session (first start with the wizard, index, search, ask, the
models list, the policy, the GUI in the background watching the folder and `lanterne
quick-ask` reaching it) runs with every non-loopback connection and host name lookup recorded
and refused in every Python process (tests/support/network_guard, an audit hook loaded
through PYTHONPATH). The session must record none. The guard itself is tested first, so a
silent log means something. The same session must leave the watched folder exactly as it
was: same files, same bytes, same times, nothing added (no lock, cache or temporary file)."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from support.cli import LANTERNE, lanterne

GUARD = Path(__file__).resolve().parent / "support" / "network_guard"


def guarded(log: Path, **extra: str) -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(GUARD), os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHONPATH": path, "LANTERNE_NETWORK_LOG": str(log), **extra}


def recorded(log: Path) -> list[dict[str, object]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def snapshot(folder: Path) -> dict[str, tuple[str, int, int]]:
    """Every entry under `folder` (hidden ones too): content digest, size, modification time."""
    entries = {}
    for path in sorted(folder.rglob("*")):
        info = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
        entries[str(path.relative_to(folder))] = (digest, info.st_size, info.st_mtime_ns)
    return entries


def test_the_guard_refuses_and_records_the_network_but_not_loopback(tmp_path: Path) -> None:
    log = tmp_path / "network.jsonl"
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    threading.Thread(target=lambda: listener.accept()[0].close(), daemon=True).start()
    code = (
        "import socket, urllib.request\n"
        f"socket.create_connection(('127.0.0.1', {port}), timeout=5).close()\n"
        "urllib.request.urlopen('http://example.org/', timeout=5)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, **guarded(log)},
        timeout=60,
    )
    listener.close()
    assert result.returncode != 0 and "network refused by the test's guard" in result.stderr
    (event,) = recorded(log)  # the loopback connection passed and was not recorded
    assert event["event"] == "getaddrinfo" and "example.org" in str(event["host"])


@pytest.mark.timeout(600)
def test_a_whole_session_touches_no_network(
    tmp_path: Path, lanterne_home: Path, docs_folder: Path, gemma_model: Path
) -> None:
    log = tmp_path / "network.jsonl"
    env = guarded(log)
    before = snapshot(docs_folder)
    gui_env = {**os.environ, **env, "QT_QPA_PLATFORM": "offscreen"}

    # First start: the wizard, with its model recommendation for this machine.
    errors = tmp_path / "gui-stderr.txt"
    with errors.open("w") as stderr:
        first = subprocess.Popen([str(LANTERNE)], env=gui_env, stderr=stderr)
        time.sleep(6)
        running = first.poll() is None
        first.terminate()
        first.wait(60)
    assert running, errors.read_text()

    steps = [
        ("index", "add", str(docs_folder), "--json"),
        ("search", "budget", "--json"),
        ("ask", "Où est la sauvegarde ?", "--model", str(gemma_model), "--json"),
        ("models", "list", "--json"),
        ("models", "recommend", "--json"),
        ("policy", "--json"),
        ("index", "status", "--json"),
    ]
    for args in steps:
        done = lanterne(*args, env=env, timeout=300)
        assert done.returncode == 0, (args, done.stderr[-2000:])

    # The app in the background (past the wizard), then quick-ask from the command line.
    settings = lanterne_home / "settings.json"
    saved = json.loads(settings.read_text(encoding="utf-8")) if settings.exists() else {}
    settings.write_text(json.dumps({**saved, "ui.first_run_done": True}), encoding="utf-8")
    with errors.open("w") as stderr:
        app = subprocess.Popen([str(LANTERNE), "--background"], env=gui_env, stderr=stderr)
        try:
            time.sleep(8)  # the single-instance server is listening once the app is up
            assert app.poll() is None, errors.read_text()
            asked = lanterne("quick-ask", "Où est le budget ?", env=env, timeout=60)
            assert asked.returncode == 0, asked.stderr[-2000:]
            time.sleep(2)
            assert app.poll() is None, errors.read_text()
        finally:
            app.terminate()
            app.wait(60)

    # The conversations as demonstration data: written to a file, sent nowhere.
    exported = lanterne("export", str(tmp_path / "demos.jsonl"), "--json", env=env, timeout=60)
    assert exported.returncode == 0, exported.stderr[-2000:]

    assert recorded(log) == []
    assert snapshot(docs_folder) == before

    # The guard is live in Lanterne's own processes: an explicit download is the one thing
    # that reaches for the network, and it is caught (and fails with a message, not a trace).
    download = lanterne("models", "download", "lfm2-8b-a1b", env=env, timeout=120)
    assert download.returncode != 0 and "Traceback" not in download.stderr, download.stderr
    assert any("huggingface.co" in str(event["host"]) for event in recorded(log))
