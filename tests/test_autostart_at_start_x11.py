"""The real app, started with a policy that locks start at login, writes the login entry by
itself (nobody opens Settings): a real process on a real X server (Xvfb)."""

from __future__ import annotations

import shlex
import time
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


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with xvfb.xvfb() as name:
        yield name


def test_a_locked_start_at_login_is_written_when_the_app_starts(
    display: str, lanterne_home: Path, tmp_path: Path
) -> None:
    set_up_already(lanterne_home)
    policy = tmp_path / "policy.toml"
    policy.write_text('[settings]\n"ui.start_at_login" = true\n', encoding="utf-8")
    config = tmp_path / "config"
    entry = config / "autostart" / "lanterne.desktop"
    env = {"LANTERNE_POLICY": str(policy), "XDG_CONFIG_HOME": str(config)}
    app = start_app(display, env=env)
    try:
        wait_window(display, "^Lanterne$", app)
        assert entry.is_file()
        fields = dict(line.split("=", 1) for line in entry.read_text().splitlines() if "=" in line)
        assert shlex.split(fields["Exec"])[-1] == "--background"
        time.sleep(0.5)  # let the window settle before the click that gives it focus
        _out, err = quit_app(display, app)
    finally:
        if app.poll() is None:
            app.kill()
            app.communicate()
    assert app.returncode == 0, err
