"""Start at login brought in line at each start: a policy that locks it on or off takes effect
without anyone opening Settings, an entry left pointing at a program that is gone starts this
one again, and macOS refuses an entry into a disk image or a translocated copy. Each system is
simulated (XDG in a temporary config folder, macOS with HOME in a temporary folder, Windows with
a fake registry), so this runs anywhere."""

from __future__ import annotations

import logging
import plistlib
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from lanterne import autostart
from lanterne.foundation.settings import Settings
from support import fake_winreg
from support.fake_winreg import REG_DWORD, REG_SZ

RUN_KEY = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run"
POLICY_KEY = r"HKLM\Software\Policies\Lanterne\Settings"


@pytest.fixture
def program(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This installation's program, in a folder with a space (as "Program Files")."""
    path = tmp_path / "Program Files" / "Lanterne" / "lanterne-gui"
    path.parent.mkdir(parents=True)
    path.write_text("", encoding="utf-8")
    monkeypatch.setattr(autostart, "launch_command", lambda: [str(path), "--background"])
    monkeypatch.delenv("LANTERNE_POLICY", raising=False)
    return path


@pytest.fixture
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "config" / "autostart" / "lanterne.desktop"


def lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, on: bool) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(f'[settings]\n"ui.start_at_login" = {str(on).lower()}\n', encoding="utf-8")
    monkeypatch.setenv("LANTERNE_POLICY", str(path))


def exec_line(entry: Path) -> list[str]:
    fields = dict(line.split("=", 1) for line in entry.read_text().splitlines() if "=" in line)
    return shlex.split(fields["Exec"])


def test_a_policy_locking_start_at_login_takes_effect_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, program: Path, xdg: Path
) -> None:
    lock(tmp_path, monkeypatch, on=True)
    assert autostart.sync_at_start(Settings()) is None
    assert exec_line(xdg) == [str(program), "--background"]
    assert autostart.sync_at_start(Settings()) is None  # already in line: unchanged
    lock(tmp_path, monkeypatch, on=False)
    assert autostart.sync_at_start(Settings()) is None
    assert not xdg.exists()


def test_without_a_policy_the_users_choice_is_left_alone(
    monkeypatch: pytest.MonkeyPatch, program: Path, xdg: Path
) -> None:
    settings = Settings()
    settings.set("ui.start_at_login", True)
    autostart.sync_at_start(settings)  # the user removed the entry from the system's list
    assert not xdg.exists()
    autostart.set_enabled(True)
    autostart.sync_at_start(Settings())  # off in settings, entry made by hand: kept
    assert xdg.exists()


def test_an_entry_to_a_program_that_is_gone_starts_this_one_again(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, program: Path, xdg: Path
) -> None:
    xdg.parent.mkdir(parents=True)
    xdg.write_text("[Desktop Entry]\nExec=/opt/old/lanterne-gui --background\n", encoding="utf-8")
    settings = Settings()
    autostart.sync_at_start(settings)  # setting off: not Lanterne's to rewrite
    assert exec_line(xdg)[0] == "/opt/old/lanterne-gui"
    settings.set("ui.start_at_login", True)
    assert autostart.sync_at_start(settings) is None
    assert exec_line(xdg) == [str(program), "--background"]
    xdg.write_text("[Desktop Entry]\nExec='unclosed\n", encoding="utf-8")  # unreadable
    autostart.sync_at_start(settings)
    assert exec_line(xdg) == [str(program), "--background"]


def test_a_failure_at_start_is_logged_in_words_not_raised(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    program: Path,
    xdg: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "autostart").write_text("", encoding="utf-8")  # a file, not a folder
    lock(tmp_path, monkeypatch, on=True)
    with caplog.at_level(logging.WARNING, logger="lanterne"):
        message = autostart.sync_at_start(Settings())
    assert message is not None and message.startswith("Start at login could not be brought")
    assert "Traceback" not in message
    assert caplog.messages == [message]


def test_macos_refuses_an_entry_into_a_disk_image_or_a_translocated_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setenv("HOME", str(tmp_path))
    agent = tmp_path / "Library" / "LaunchAgents" / "org.lanterne.plist"
    for where in (
        "/Volumes/Lanterne 0.2/Lanterne.app/Contents/MacOS/lanterne",
        "/private/var/folders/xy/abc123/T/AppTranslocation/5A1B/d/Lanterne.app/Contents/MacOS/"
        "lanterne",
    ):
        monkeypatch.setattr(autostart, "launch_command", lambda w=where: [w, "--background"])
        with pytest.raises(autostart.AutostartError, match="Move Lanterne to the Applications"):
            autostart.set_enabled(True)
        assert not agent.exists()
    installed = tmp_path / "Applications" / "Lanterne.app" / "Contents" / "MacOS" / "lanterne"
    installed.parent.mkdir(parents=True)
    installed.write_text("", encoding="utf-8")
    monkeypatch.setattr(autostart, "launch_command", lambda: [str(installed), "--background"])
    autostart.set_enabled(True)
    assert plistlib.loads(agent.read_bytes())["ProgramArguments"] == [
        str(installed),
        "--background",
    ]
    assert autostart.entry_executable() == str(installed)


def test_macos_at_start_from_the_disk_image_keeps_the_installed_entry_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("LANTERNE_POLICY", raising=False)
    agent = tmp_path / "Library" / "LaunchAgents" / "org.lanterne.plist"
    agent.parent.mkdir(parents=True)
    gone = "/Applications/Lanterne.app/Contents/MacOS/lanterne-removed"
    agent.write_bytes(plistlib.dumps({"ProgramArguments": [gone, "--background"]}))
    dmg = "/Volumes/Lanterne/Lanterne.app/Contents/MacOS/lanterne"
    monkeypatch.setattr(autostart, "launch_command", lambda: [dmg, "--background"])
    settings = Settings()
    settings.set("ui.start_at_login", True)
    message = autostart.sync_at_start(settings)
    assert message is not None and "Applications folder" in message
    assert plistlib.loads(agent.read_bytes())["ProgramArguments"][0] == gone


def test_windows_run_value_follows_a_group_policy_and_a_moved_program(
    monkeypatch: pytest.MonkeyPatch, program: Path
) -> None:
    registry = fake_winreg.install(monkeypatch)
    registry.set(POLICY_KEY, "ui.start_at_login", 1, REG_DWORD)  # as Group Policy writes it
    assert autostart.sync_at_start(Settings()) is None
    line = registry.get(RUN_KEY, "Lanterne")
    assert line == subprocess.list2cmdline([str(program), "--background"])
    assert autostart.entry_executable() == str(program)

    registry.set(RUN_KEY, "Lanterne", r'"C:\Old Place\lanterne-gui.exe" --background', REG_SZ)
    autostart.sync_at_start(Settings())
    assert registry.get(RUN_KEY, "Lanterne") == line

    registry.set(POLICY_KEY, "ui.start_at_login", 0, REG_DWORD)
    assert autostart.sync_at_start(Settings()) is None
    assert registry.get(RUN_KEY, "Lanterne") is None
    assert not autostart.is_enabled()
