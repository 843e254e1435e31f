"""The `lanterne` and `lanterne-gui` entry points, kept free of imports.

Reader processes (indexer/reader_pool.py) start by importing the module of the script that
launched the app, as multiprocessing does outside of fork: a launcher that imported the command
line (the engine, llama.cpp) or the GUI (Qt) at the top would load them into every reader.
"""

from __future__ import annotations

import multiprocessing
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # names for annotations only: this module imports nothing at start
    from pathlib import Path

    from lanterne.foundation.settings import Settings


def main() -> int:
    multiprocessing.freeze_support()  # a frozen app's readers run as this executable again
    import sys

    if sys.argv[1:2] == ["--cpu-probe"]:  # engine/cpu_variant.py's child, in a frozen app too
        from lanterne.engine.cpu_probe import main as probe_main

        return probe_main(sys.argv[2:])
    from lanterne.cli.output import tolerate_unencodable_text

    tolerate_unencodable_text()  # output redirected on Windows is cp1252: "?", not a crash
    from lanterne.cli.main import main as cli_main

    return cli_main(open_gui=open_gui)


def open_gui(settings: Settings, request: dict[str, str]) -> int:
    """The app's window (cli.main's GuiStarter): Qt is imported only when a window is wanted.
    This module is the composition root, above every layer (tests/test_layers.py)."""
    from lanterne.desktop.app import run_gui

    return run_gui(settings, request=request)


def show_startup_error(message: str, log: Path | None) -> None:
    from lanterne.desktop.startup_error import show_startup_error as show

    show(message, log)


def gui() -> int:
    """`lanterne-gui`: the same commands with no console window on Windows, so the login entry
    (`lanterne-gui --background`) and a shortcut bound to `lanterne-gui quick-ask` flash none.
    Without a console, standard output and error are None (or /dev/null for a macOS app opened
    from the Finder): start-up errors are then shown in a window and kept in errors.log
    (no_console.py). With one, this is `main`."""
    multiprocessing.freeze_support()  # before anything else: readers must not open windows
    import sys

    if sys.stdout is not None and sys.stderr is not None and not opened_from_finder():
        return main()
    from lanterne.no_console import run_without_console

    return run_without_console(main, show_startup_error)


def opened_from_finder() -> bool:
    """The macOS app opened from the Finder or the Dock: its streams lead to /dev/null, not
    None, and no terminal shows what it writes, so it is treated as having no console."""
    import sys

    if sys.platform != "darwin" or not getattr(sys, "frozen", False):
        return False
    streams = (sys.stdin, sys.stdout, sys.stderr)
    return not any(stream is not None and stream.isatty() for stream in streams)
