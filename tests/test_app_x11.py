"""`lanterne` with no argument opens the app: a real process, a real X server (Xvfb)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import xvfb

pytestmark = [
    pytest.mark.xserver,
    pytest.mark.skipif(
        not xvfb.available(), reason="needs Xvfb and xdotool (dev.py installs them)"
    ),
]
LANTERNE = Path(sys.executable).with_name("lanterne")


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with xvfb.xvfb() as name:
        yield name


def xdotool(display: str, *args: str) -> str:
    result = subprocess.run(
        ["xdotool", *args],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "DISPLAY": display},
    )
    return result.stdout.strip()


def test_no_argument_opens_the_main_window_and_quits_cleanly(
    display: str, lanterne_home: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb")
    app = subprocess.Popen(
        [str(LANTERNE)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        window = ""
        deadline = time.monotonic() + 30
        while not window and time.monotonic() < deadline and app.poll() is None:
            window = xdotool(display, "search", "--onlyvisible", "--name", "^Lanterne$")
            time.sleep(0.2)
        assert window, "no visible window named Lanterne appeared"
        geometry = xdotool(display, "getwindowgeometry", window.split()[0])
        assert "Geometry: 1180x720" in geometry
        time.sleep(0.5)
        # As a user would: click into the window (no window manager gives focus), then Ctrl+Q.
        # (`key --window` sends synthetic events, which Qt rightly ignores.)
        xdotool(display, "mousemove", "--window", window.split()[0], "450", "300")
        xdotool(display, "click", "1")
        xdotool(display, "key", "ctrl+q")
        out, err = app.communicate(timeout=30)
    finally:
        if app.poll() is None:
            app.kill()
            app.communicate()
    assert app.returncode == 0
    assert err == "" and out == ""
