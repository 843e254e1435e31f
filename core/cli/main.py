"""Entry point of `lanterne`: no argument opens the app, subcommands serve scripts."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from lanterne import __version__
from lanterne.autostart import BACKGROUND_FLAG
from lanterne.cli import (
    ask_cmd,
    eval_cmd,
    export_cmd,
    index_cmd,
    models_cmd,
    policy_cmd,
    quick_ask_cmd,
    remote_cmd,
    search_cmd,
    serve_cmd,
)
from lanterne.cli.output import disk_full, error
from lanterne.engine.errors import EngineError
from lanterne.foundation import paths
from lanterne.foundation.database import DatabaseUpgradeError
from lanterne.foundation.db_faults import DatabaseDamagedError, is_disk_full
from lanterne.foundation.read_only_folder import DataFolderReadOnlyError, is_read_only
from lanterne.foundation.settings import Settings, SettingsError
from lanterne.foundation.translation import _, choose_language, set_language
from lanterne.indexer.indexing import FolderError

# Opens the app's window: (settings, what to show) -> exit status. The entry point
# (`lanterne.launch`) passes it, so that the command line, below the desktop layer, never
# imports Qt's side itself.
GuiStarter = Callable[[Settings, dict[str, str]], int]


def no_window(_settings: Settings, _request: dict[str, str]) -> int:
    """Where no window can be opened (the library called without the app's entry point)."""
    return error(_("Lanterne's window can only be opened by the lanterne command."))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lanterne",
        description=_("Lanterne: ask your documents, in French or English, on your own machine."),
    )
    parser.add_argument("--version", action="version", version=f"lanterne {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    index_cmd.register(sub)
    search_cmd.register(sub)
    ask_cmd.register(sub)
    remote_cmd.register(sub)
    models_cmd.register(sub)
    quick_ask_cmd.register(sub)
    policy_cmd.register(sub)
    eval_cmd.register(sub)
    export_cmd.register(sub)
    serve_cmd.register(sub)
    return parser


def main(argv: list[str] | None = None, *, open_gui: GuiStarter = no_window) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        settings = Settings()
    except SettingsError:
        # No language setting to go by: the error is said again in the system's language.
        set_language(choose_language(""))
        try:
            settings = Settings()
        except SettingsError as exc:
            return error(str(exc))
    set_language(choose_language(settings.get_str("ui.language")))
    if not argv or argv == [BACKGROUND_FLAG]:
        return open_gui(settings, {"command": "background" if argv else "show"})
    args = build_parser().parse_args(argv)
    args.open_gui = open_gui  # quick-ask opens a window too
    if args.command is None:
        build_parser().print_help()
        return 2
    from lanterne.context import AppContext

    ctx = AppContext(settings)
    try:
        return int(args.func(args, ctx))
    except (
        DatabaseDamagedError,
        DatabaseUpgradeError,
        DataFolderReadOnlyError,
        EngineError,
        FolderError,
        SettingsError,
    ) as exc:
        return error(str(exc))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if is_disk_full(exc):  # any command's write into the data folder (or an export's)
            return disk_full(exc)
        if is_read_only(exc, paths.data_dir()):  # made read-only while Lanterne ran
            return error(str(DataFolderReadOnlyError(paths.data_dir())))
        raise
    finally:
        ctx.close()
