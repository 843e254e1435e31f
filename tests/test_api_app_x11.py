"""The real app with Settings › Other apps on: its API server answers while the app runs and is
gone once the app quits (a real process on a real X server, Xvfb)."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import xvfb
from support.x_app import quit_app, set_up_already, start_app, wait_window

pytestmark = [
    pytest.mark.xserver,
    pytest.mark.skipif(
        not xvfb.available(), reason="needs Xvfb and xdotool (dev.py installs them)"
    ),
]
TOKEN = "x11-test-token-0123456789abcdef"


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with xvfb.xvfb() as name:
        yield name


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def models_status(url: str, token: str | None) -> int:
    request = urllib.request.Request(f"{url}/v1/models")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            assert json.load(response)["object"] == "list"
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_the_app_serves_other_apps_while_it_runs(display: str, lanterne_home: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    set_up_already(lanterne_home, **{"api.enabled": True, "api.port": port})
    app = start_app(display, env={"LANTERNE_API_KEY": TOKEN})
    try:
        wait_window(display, "^Lanterne$", app)
        status = 0
        deadline = time.monotonic() + 30
        while status != 200 and time.monotonic() < deadline:
            try:
                status = models_status(url, TOKEN)
            except urllib.error.URLError:
                time.sleep(0.1)  # started off the GUI thread: a moment after the window
        assert status == 200
        assert models_status(url, None) == 401
        quit_app(display, app)
    finally:
        if app.poll() is None:
            app.kill()
            app.communicate()
    assert app.returncode == 0
    with pytest.raises(urllib.error.URLError):
        models_status(url, TOKEN)
