"""`lanterne-gui` without a console (Windows' lanterne-gui.exe, pythonw): Windows starts it with
`sys.stdout` and `sys.stderr` set to None. A launch that fails says why in a window, or in
errors.log when no window can open, instead of dying of an AttributeError nobody sees.

Each launch runs in its own process, as Windows would start it: the streams are set to None
before the entry point runs. The error window is closed as soon as it opens, and what it
showed is reported back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lanterne import no_console

WINDOWLESS = """
import json, os, sys
options = json.loads(sys.argv[1])
shown = []
if options["block_qt"]:
    sys.modules["PySide6"] = None  # Qt cannot come up
else:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QMessageBox
    original = QMessageBox.exec
    def exec_and_close(box):
        said = box.text() + "\\n\\n" + box.informativeText()
        QTimer.singleShot(0, lambda: (shown.append(said), box.accept()))
        return original(box)
    QMessageBox.exec = exec_and_close
console = sys.stdout, sys.stderr
if options.get("finder"):  # the macOS app opened from the Finder: streams lead nowhere
    import lanterne.launch
    finder_check = lanterne.launch.opened_from_finder
    def on_macos():  # the real check, as on a Mac (only there: Linux's modules stay Linux's)
        platform, sys.platform = sys.platform, "darwin"
        try:
            return finder_check()
        finally:
            sys.platform = platform
    lanterne.launch.opened_from_finder = on_macos
    sys.frozen = True
    sys.stdin = open(os.devnull)
    sys.stdout = sys.stderr = open(os.devnull, "w")
else:
    sys.stdout = sys.stderr = None  # as Windows starts a windowed program
sys.argv = ["lanterne-gui", *options["args"]]
try:
    from lanterne.launch import gui
    code = gui()
finally:
    sys.stdout, sys.stderr = console
print(json.dumps({"code": code, "shown": shown}))
"""


def launch_windowless(
    *args: str, block_qt: bool = False, finder: bool = False, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """`lanterne-gui ARGS` with no console (or the macOS app opened from the Finder); its exit
    status and the error windows it showed."""
    options = {"args": args, "block_qt": block_qt, "finder": finder}
    done = subprocess.run(
        [sys.executable, "-c", WINDOWLESS, json.dumps(options)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", **(env or {})},
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


@pytest.mark.slow
def test_a_policy_error_at_start_is_shown_in_a_window(lanterne_home: Path, tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('downlaods = false\nlanguage = "fr"\n', encoding="utf-8")
    launched = launch_windowless(env={"LANTERNE_POLICY": str(policy)})
    assert launched["code"] == 1
    (shown,) = launched["shown"]
    log = lanterne_home / "errors.log"
    assert shown.startswith("Lanterne could not start.")
    assert f"The policy {policy} has unknown keys: downlaods." in shown
    assert "lanterne: " not in shown and str(log) in shown
    assert "unknown keys: downlaods" in log.read_text(encoding="utf-8")


def test_without_a_window_a_bad_settings_file_is_kept_in_the_log(lanterne_home: Path) -> None:
    lanterne_home.mkdir(parents=True, exist_ok=True)
    (lanterne_home / "settings.json").write_text("{not json", encoding="utf-8")
    launched = launch_windowless("--background", block_qt=True)
    assert launched == {"code": 1, "shown": []}
    log = (lanterne_home / "errors.log").read_text(encoding="utf-8")
    assert "Cannot read the settings file" in log and str(lanterne_home / "settings.json") in log


def test_with_no_display_qt_is_not_tried(lanterne_home: Path, tmp_path: Path) -> None:
    """A Linux session without a display: Qt would end the process, so only the log is written."""
    policy = tmp_path / "policy.toml"
    policy.write_text("downlaods = false\n", encoding="utf-8")
    no_display = {"DISPLAY": "", "WAYLAND_DISPLAY": "", "QT_QPA_PLATFORM": ""}
    launched = launch_windowless(env={"LANTERNE_POLICY": str(policy), **no_display})
    assert launched == {"code": 1, "shown": []}
    assert "unknown keys: downlaods" in (lanterne_home / "errors.log").read_text(encoding="utf-8")


def test_an_unexpected_failure_is_said_in_words_with_the_details_in_a_log(tmp_path: Path) -> None:
    """A data directory that cannot be made (here a file stands in its place): the window
    speaks in words, the traceback goes to a log in the temporary folder."""
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("", encoding="utf-8")
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    launched = launch_windowless(env={"LANTERNE_HOME": str(blocked), "TMPDIR": str(temporary)})
    assert launched["code"] == 1
    (shown,) = launched["shown"]
    log = temporary / "lanterne-errors.log"
    assert "An unexpected problem stopped Lanterne." in shown and str(log) in shown
    assert "FileExistsError" not in shown  # no exception text for the user
    details = log.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in details and "FileExistsError" in details


def test_a_bad_command_line_is_shown_too(lanterne_home: Path) -> None:
    """A shortcut bound to a mistyped `lanterne-gui` command: argparse's usage message."""
    launched = launch_windowless("quick-ask", "--nonsense")
    assert launched["code"] == 2
    (shown,) = launched["shown"]
    assert "unrecognized arguments: --nonsense" in shown


def test_output_with_nowhere_to_go_is_dropped_quietly(lanterne_home: Path) -> None:
    launched = launch_windowless("policy", "--json")
    assert launched == {"code": 0, "shown": []}
    assert not (lanterne_home / "errors.log").exists()  # nothing to say: no log


def test_the_log_keeps_one_launch_short_and_starts_afresh_when_long(
    lanterne_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A windowless app runs for days: what it writes must not fill the disk."""
    monkeypatch.setattr(no_console, "LOG_LIMIT", 100)
    first = no_console.ErrorStream()
    first.write("x" * 80)
    first.write("y" * 80)
    first.close()
    log = lanterne_home / "errors.log"
    assert first.path == log and first.tail.endswith("x" * 80 + "y" * 80)
    kept = log.read_text(encoding="utf-8")
    assert kept.count("x") == 80 and kept.count("y") == 20
    for mark in "zw":
        stream = no_console.ErrorStream()
        stream.write(mark + "\n")
        stream.close()
        assert "x" not in log.read_text(encoding="utf-8")  # over the limit: a new log
    assert log.read_text(encoding="utf-8").count("---") == 2  # then short: appended to


def test_the_macos_app_opened_from_the_finder_shows_its_start_up_error(
    lanterne_home: Path, tmp_path: Path
) -> None:
    """Its streams are /dev/null, not None: without a terminal the error still gets a window."""
    policy = tmp_path / "policy.toml"
    policy.write_text("downlaods = false\n", encoding="utf-8")
    launched = launch_windowless(finder=True, env={"LANTERNE_POLICY": str(policy)})
    assert launched["code"] == 1
    (shown,) = launched["shown"]
    assert "unknown keys: downlaods" in shown
    assert "unknown keys: downlaods" in (lanterne_home / "errors.log").read_text(encoding="utf-8")


def test_a_start_up_error_is_said_in_the_system_language(
    lanterne_home: Path, tmp_path: Path
) -> None:
    """No setting could be read to choose the language: the system's is used (here French)."""
    policy = tmp_path / "policy.toml"
    policy.write_text("downlaods = false\n", encoding="utf-8")
    launched = launch_windowless(env={"LANTERNE_POLICY": str(policy), "LANGUAGE": "fr"})
    (shown,) = launched["shown"]
    assert shown.startswith("Lanterne n'a pas pu démarrer.")
    assert "contient des clés inconnues" in shown and "Ces détails sont aussi écrits" in shown
