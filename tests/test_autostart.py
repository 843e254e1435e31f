"""Start at login: the XDG autostart entry written and removed (per user, nothing else touched)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

from lanterne import autostart

pytestmark = pytest.mark.skipif(
    sys.platform in ("win32", "darwin"), reason="the XDG autostart entry (Linux desktops)"
)


def test_the_autostart_entry_starts_lanterne_in_the_background(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert not autostart.is_enabled()
    autostart.set_enabled(True)
    entry = tmp_path / "autostart" / "lanterne.desktop"
    assert autostart.is_enabled() and entry.is_file()
    fields = dict(line.split("=", 1) for line in entry.read_text().splitlines() if "=" in line)
    command = shlex.split(fields["Exec"])
    assert command[-1] == "--background" and Path(command[0]).name.startswith(
        ("lanterne", "python")
    )
    assert fields["Type"] == "Application" and fields["Terminal"] == "false"
    autostart.set_enabled(False)
    assert not autostart.is_enabled() and not entry.exists()
    autostart.set_enabled(False)  # already off: nothing to do, no error


def test_the_windowless_launcher_keeps_the_background_flag(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`lanterne-gui --background` (the login entry) must start in the tray, not open the
    window; `lanterne-gui quick-ask` (a shortcut bound to it) must reach the running app."""
    import lanterne.cli.main
    from lanterne import launch

    seen: list[list[str]] = []

    def cli_main(*, open_gui: object) -> int:
        assert open_gui is launch.open_gui  # the entry point hands the CLI the window
        seen.append(sys.argv[1:])
        return 0

    monkeypatch.setattr(lanterne.cli.main, "main", cli_main)
    for args in (["--background"], ["quick-ask"], []):
        monkeypatch.setattr(sys, "argv", ["lanterne-gui", *args])
        assert launch.gui() == 0
    assert seen == [["--background"], ["quick-ask"], []]
