"""Starting Lanterne at login, the way each system expects it.

Linux (and any XDG desktop): a `lanterne.desktop` entry in `$XDG_CONFIG_HOME/autostart`;
macOS: a LaunchAgent property list `~/Library/LaunchAgents/org.lanterne.plist`; Windows:
the REG_SZ value `Lanterne` under
`HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Run`. Per user, no administrator
rights; the app starts in the background (tray only).

The entry is written when Settings are saved, and brought in line at each start
(`sync_at_start`): a policy may lock the setting, and the app may have moved since.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from lanterne.foundation.translation import _

if TYPE_CHECKING:
    from lanterne.foundation.settings import Settings

APP_ID = "lanterne"
BACKGROUND_FLAG = "--background"
SETTING = "ui.start_at_login"
RUN_VALUE = "Lanterne"
_RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
_log = logging.getLogger(__name__)


class AutostartError(OSError):
    """An entry Lanterne will not write, with the reason in words for the user."""


def launch_command() -> list[str]:
    """How to start this installation of Lanterne in the background."""
    if getattr(sys, "frozen", False):  # the installed app (PyInstaller)
        executable = Path(sys.executable)
        windowless = executable.with_name("lanterne-gui.exe")  # Windows: no console window
        if sys.platform == "win32" and windowless.exists():
            executable = windowless
        return [str(executable), BACKGROUND_FLAG]
    script = shutil.which("lanterne-gui") or shutil.which("lanterne")
    if script:
        return [script, BACKGROUND_FLAG]
    return [sys.executable, "-m", "lanterne", BACKGROUND_FLAG]


def _xdg_entry() -> Path:
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "autostart" / f"{APP_ID}.desktop"


def _launch_agent() -> Path:
    return Path.home() / "Library" / "LaunchAgents" / f"org.{APP_ID}.plist"


def is_enabled() -> bool:
    if sys.platform == "win32":
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, _RUN_KEY) as key:
                winreg.QueryValueEx(key, RUN_VALUE)
            return True
        except OSError:
            return False
    return (_launch_agent() if sys.platform == "darwin" else _xdg_entry()).exists()


def set_enabled(enabled: bool) -> None:
    """Raises OSError (with the system's reason) when the entry cannot be written, and
    AutostartError when it must not be (macOS: the app runs from where it will not stay)."""
    command = launch_command()
    if sys.platform == "win32":
        import subprocess
        import winreg

        with winreg.CreateKey(winreg.HKEY_CURRENT_USER, _RUN_KEY) as key:
            if enabled:
                line = subprocess.list2cmdline(command)
                winreg.SetValueEx(key, RUN_VALUE, 0, winreg.REG_SZ, line)
            else:
                with contextlib.suppress(FileNotFoundError):  # already off
                    winreg.DeleteValue(key, RUN_VALUE)
        return
    if sys.platform == "darwin":
        path = _launch_agent()
        if not enabled:
            path.unlink(missing_ok=True)
            return
        import plistlib

        if _temporary_location(command[0]):
            raise AutostartError(
                _(
                    "Lanterne is running from its disk image or from a temporary copy macOS "
                    "made of it, which will be gone after a restart. Move Lanterne to the "
                    "Applications folder, open it from there, then turn on start at login."
                )
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        plist = {"Label": f"org.{APP_ID}", "ProgramArguments": command, "RunAtLoad": True}
        path.write_bytes(plistlib.dumps(plist))
        return
    path = _xdg_entry()
    if not enabled:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Name=Lanterne\n"
        "Comment=Private assistant over your own documents\n"
        f"Exec={shlex.join(command)}\n"
        "Icon=lanterne\n"
        "Terminal=false\n"
        "X-GNOME-Autostart-enabled=true\n",
        encoding="utf-8",
    )


def _temporary_location(executable: str) -> bool:
    """macOS: a mounted disk image (/Volumes/...) or App Translocation's read-only copy of an
    app opened from Downloads (/private/var/folders/.../AppTranslocation/...)."""
    parts = Path(executable).parts
    return parts[1:2] == ("Volumes",) or "AppTranslocation" in parts


def entry_executable() -> str | None:
    """The program the current login entry starts ("" when the entry cannot be read), or None
    when there is no entry."""
    if sys.platform == "win32":
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, _RUN_KEY) as key:
                line, kind = winreg.QueryValueEx(key, RUN_VALUE)
        except OSError:
            return None
        if kind == winreg.REG_EXPAND_SZ:
            line = winreg.ExpandEnvironmentStrings(line)
        return _first_windows_argument(str(line))
    path = _launch_agent() if sys.platform == "darwin" else _xdg_entry()
    if not path.exists():
        return None
    try:
        if sys.platform == "darwin":
            import plistlib

            return str(plistlib.loads(path.read_bytes())["ProgramArguments"][0])
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("Exec="):
                return shlex.split(line.removeprefix("Exec="))[0]
    except (OSError, ValueError, LookupError, TypeError):
        pass  # unreadable: treated as broken
    return ""


def _first_windows_argument(line: str) -> str:
    """The program of a command line as `subprocess.list2cmdline` writes it."""
    line = line.strip()
    if line.startswith('"'):
        return line[1:].split('"', 1)[0]
    return line.split(" ", 1)[0]


def sync_at_start(settings: Settings) -> str | None:
    """Bring the login entry in line at start: the organisation's locked value (on or off) takes
    effect without anyone opening Settings, and an entry left pointing at a program that no
    longer exists (Lanterne moved, or reinstalled elsewhere) starts this one again. Quiet;
    returns and logs why the entry could not be changed, if it could not."""
    wanted = settings.get_bool(SETTING)
    locked = settings.is_locked(SETTING)
    try:
        executable = entry_executable()
        if executable is None:
            if locked and wanted:
                set_enabled(True)
        elif locked and not wanted:
            set_enabled(False)
        elif wanted and not (executable and Path(executable).is_file()):
            set_enabled(True)
    except OSError as exc:
        message = _("Start at login could not be brought in line with your settings: {error}")
        text = message.format(error=exc.strerror or exc)
        _log.warning(text)
        return text
    return None
