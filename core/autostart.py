"""Starting Lanterne at login, the way each system expects it.

Linux (and any XDG desktop): a `lanterne.desktop` entry in `$XDG_CONFIG_HOME/autostart`;
macOS: a LaunchAgent property list in `~/Library/LaunchAgents`; Windows: a value under
`HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Run`. Per user, no
administrator rights; the app starts in the background (tray only).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import sys
from pathlib import Path

APP_ID = "lanterne"
BACKGROUND_FLAG = "--background"
_RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"


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
                winreg.QueryValueEx(key, "Lanterne")
            return True
        except OSError:
            return False
    return (_launch_agent() if sys.platform == "darwin" else _xdg_entry()).exists()


def set_enabled(enabled: bool) -> None:
    """Raises OSError (with the system's reason) when the entry cannot be written."""
    command = launch_command()
    if sys.platform == "win32":
        import subprocess
        import winreg

        with winreg.CreateKey(winreg.HKEY_CURRENT_USER, _RUN_KEY) as key:
            if enabled:
                line = subprocess.list2cmdline(command)
                winreg.SetValueEx(key, "Lanterne", 0, winreg.REG_SZ, line)
            else:
                with contextlib.suppress(FileNotFoundError):  # already off
                    winreg.DeleteValue(key, "Lanterne")
        return
    if sys.platform == "darwin":
        path = _launch_agent()
        if not enabled:
            path.unlink(missing_ok=True)
            return
        import plistlib

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
