"""`lanterne` with no argument opens the app: a real process, a real X server (Xvfb)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import xvfb
from support.x_app import (
    LANTERNE,
    quit_app,
    set_up_already,
    start_app,
    wait_window,
    xdotool,
)

pytestmark = [
    pytest.mark.xserver,
    pytest.mark.skipif(
        not xvfb.available(), reason="needs Xvfb and xdotool (dev.py installs them)"
    ),
]


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with xvfb.xvfb() as name:
        yield name


def test_no_argument_opens_the_main_window_and_quits_cleanly(
    display: str, lanterne_home: Path
) -> None:
    set_up_already(lanterne_home)
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


def conversations(home: Path) -> list[tuple[str, str, str, int]]:
    """(role, status, text, number of sources) of every saved message, oldest first."""
    import sqlite3

    db = sqlite3.connect(home / "conversations.sqlite3")
    try:
        rows = db.execute("SELECT role, status, text, sources FROM messages ORDER BY id").fetchall()
    finally:
        db.close()
    return [(r, s, t, len(json.loads(src))) for r, s, t, src in rows]


@pytest.mark.model
def test_the_hotkey_pops_quick_ask_and_the_answer_comes_with_its_source(
    display: str, lanterne_home: Path, docs_folder: Path, gemma_model: Path
) -> None:
    """The real app, the real shortcut pressed on the X server, a typed question, an answer."""
    set_up_already(lanterne_home, **{"model.path": str(gemma_model), "model.max_answer_tokens": 12})
    added = subprocess.run(
        [str(LANTERNE), "index", "add", str(docs_folder)], capture_output=True, text=True
    )
    assert added.returncode == 0, added.stderr
    app = start_app(display)
    try:
        wait_window(display, "^Lanterne$", app)
        time.sleep(0.5)  # the shortcut is registered once the window is up
        xdotool(display, "key", "ctrl+shift+space")
        quick = wait_window(display, "^Quick ask$", app, timeout=10)
        xdotool(display, "mousemove", "--window", quick, "40", "20")
        xdotool(display, "click", "1")
        xdotool(display, "type", "--delay", "20", "Combien de temps cuit la tarte ?")
        xdotool(display, "key", "Return")
        deadline = time.monotonic() + 120
        saved: list[tuple[str, str, str, int]] = []
        while time.monotonic() < deadline:
            saved = conversations(lanterne_home)
            if len(saved) == 2 and saved[1][1] == "complete":
                break
            time.sleep(0.3)
        assert [m[0] for m in saved] == ["user", "assistant"]
        assert saved[0][2] == "Combien de temps cuit la tarte ?"
        assert saved[1][1] == "complete" and saved[1][3] >= 1  # answered, with its sources
        xdotool(display, "key", "Escape")
        _out, err = quit_app(display, app)
    finally:
        if app.poll() is None:
            app.kill()
            app.communicate()
    assert app.returncode == 0, err


def test_a_second_launch_and_quick_ask_reach_the_running_app(
    display: str, lanterne_home: Path
) -> None:
    set_up_already(lanterne_home)
    app = start_app(display)
    try:
        wait_window(display, "^Lanterne$", app)
        again = subprocess.run(
            [str(LANTERNE)],
            env={**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"},
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert again.returncode == 0 and again.stderr == ""  # handed over, then gone
        at_login = subprocess.run(
            [str(LANTERNE), "--background"],
            env={**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"},
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert at_login.returncode == 0  # already running: a login start does nothing
        asked = subprocess.run(
            [str(LANTERNE), "quick-ask", "Bonjour"],
            env={**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"},
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert asked.returncode == 0, asked.stderr
        wait_window(display, "^Quick ask$", app, timeout=10)
        _out, err = quit_app(display, app)
    finally:
        if app.poll() is None:
            app.kill()
            app.communicate()
    assert app.returncode == 0 and err == ""


def test_a_first_start_opens_the_setup_wizard(display: str, lanterne_home: Path) -> None:
    app = start_app(display)
    try:
        wait_window(display, "^Set up Lanterne$", app)
    finally:
        app.terminate()
        app.communicate(timeout=30)
