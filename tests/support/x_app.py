"""The real app on a real X server (Xvfb), driven as a user would with xdotool."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

LANTERNE = Path(sys.executable).with_name("lanterne")


def xdotool(display: str, *args: str) -> str:
    result = subprocess.run(
        ["xdotool", *args],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "DISPLAY": display},
    )
    return result.stdout.strip()


def set_up_already(home: Path, **settings: object) -> None:
    """A user who went through the first-run wizard (it is tested on its own)."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "settings.json").write_text(json.dumps({"ui.first_run_done": True, **settings}))


def start_app(display: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """`lanterne ARGS` on `display`, with `env` added to this process's environment."""
    env = {**{k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}, **(env or {})}
    env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb")
    return subprocess.Popen(
        [str(LANTERNE), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def wait_window(display: str, name: str, app: subprocess.Popen[str], timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and app.poll() is None:
        found = xdotool(display, "search", "--onlyvisible", "--name", name)
        if found:
            return found.split()[0]
        time.sleep(0.1)
    if app.poll() is not None:
        _out, err = app.communicate()
        raise AssertionError(f"the app exited ({app.returncode}) before {name!r} showed: {err}")
    raise AssertionError(f"no visible window named {name!r} appeared in {timeout} s")


def quit_app(display: str, app: subprocess.Popen[str]) -> tuple[str, str]:
    window = wait_window(display, "^Lanterne$", app)
    xdotool(display, "mousemove", "--window", window, "450", "300")
    xdotool(display, "click", "1")
    xdotool(display, "key", "ctrl+q")
    return app.communicate(timeout=30)
