"""Launches with no console (`lanterne-gui.exe`, pythonw, the macOS app opened from the Finder):
what would go to standard error is kept.

Windows starts a windowed program with `sys.stdout` and `sys.stderr` set to None: an error
message written there raised AttributeError instead, and whatever went wrong at start-up was
never seen. Here standard error goes to `errors.log` in the data directory, and when the launch
fails the user is shown why in a window (desktop/startup_error.py), or can read it in that log
when no window can be opened.
"""

from __future__ import annotations

import io
import sys
import tempfile
import traceback
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TextIO, cast

from lanterne.foundation import paths
from lanterne.foundation.translation import _

LOG_NAME = "errors.log"
LOG_LIMIT = 1_000_000  # characters: a longer log is started afresh, one launch writes no more
TAIL = 4000  # characters of the end kept for the error window
PREFIX = "lanterne: "  # of the command line's error messages (cli/output.py)


def log_path() -> Path:
    """errors.log in the data directory, or in the temporary folder when that cannot be made
    (a home folder on a network share that is not there)."""
    try:
        return paths.data_dir() / LOG_NAME
    except OSError:
        return Path(tempfile.gettempdir()) / f"lanterne-{LOG_NAME}"


class ErrorStream(io.TextIOBase):
    """Standard error of a launch without a console: appended to the log, opened at the first
    write so that a launch with nothing to say leaves no file, and its end kept in memory."""

    def __init__(self) -> None:
        super().__init__()
        self.tail = ""
        self.path: Path | None = None  # the log, once it holds what was written
        self._log: TextIO | None = None
        self._room = LOG_LIMIT
        self._unwritable = False

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.tail = (self.tail + text)[-TAIL:]
        log = self._open()
        if log is not None and self._room > 0:
            kept = text[: self._room]
            self._room -= len(kept)
            try:
                log.write(kept)
                log.flush()
            except (OSError, ValueError):  # a full disk, a closed file: the log stops there
                self._room = 0
        return len(text)

    def close(self) -> None:
        if self._log is not None:
            self._log.close()
        super().close()

    def _open(self) -> TextIO | None:
        if self._log is None and not self._unwritable:
            path = log_path()
            try:
                fresh = not path.exists() or path.stat().st_size > LOG_LIMIT
                self._log = path.open("w" if fresh else "a", encoding="utf-8", errors="replace")
                self._log.write(f"--- {datetime.now().isoformat(timespec='seconds')}\n")
                self.path = path
            except OSError:
                self._unwritable = True
        return self._log


class Discard(io.TextIOBase):
    """Standard output with no console: commands print as usual, to no one."""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return len(text)


def run_without_console(
    entry: Callable[[], int], show_error: Callable[[str, Path | None], None]
) -> int:
    """`entry`'s exit status, with standard error kept (ErrorStream) and standard output thrown
    away; a failed launch is explained in a window by `show_error` (the entry point passes the
    desktop's), or at least in the log."""
    errors = ErrorStream()
    streams = sys.stdout, sys.stderr
    sys.stdout = cast(TextIO, Discard())  # None, or /dev/null where nobody reads it
    sys.stderr = cast(TextIO, errors)
    explained: str | None = None
    try:
        code = entry()
    except SystemExit as exc:  # argparse's usage errors, sys.exit("message")
        code = _exit_status(exc.code, errors)
    except BaseException as exc:  # nothing else would ever report it
        traceback.print_exc(file=errors)
        explained, code = _explanation(exc), 1
    finally:
        sys.stdout, sys.stderr = streams
    if code != 0:
        message = explained or _message(errors.tail)
        if message:
            _tell(message, errors.path, show_error)
    return code


def _exit_status(code: object, errors: ErrorStream) -> int:
    if code is None or isinstance(code, int):
        return code or 0
    errors.write(f"{code}\n")  # as Python itself would print it
    return 1


def _explanation(exc: BaseException) -> str:
    """Errors written for users say what to do themselves; anything else is a fault whose
    details go to the log, not to the user."""
    from lanterne.foundation.database import DatabaseUpgradeError
    from lanterne.foundation.settings import SettingsError

    if isinstance(exc, SettingsError | DatabaseUpgradeError):
        return str(exc)
    return _("An unexpected problem stopped Lanterne.")


def _message(written: str) -> str:
    """What the launch wrote to say why it failed, without the command line's prefix; a
    sentence instead of a raw traceback (the log has that)."""
    if "Traceback (most recent call last)" in written:
        return _("An unexpected problem stopped Lanterne.")
    lines = [line.removeprefix(PREFIX) for line in written.strip().splitlines()]
    return "\n".join(lines)


def _tell(message: str, log: Path | None, show: Callable[[str, Path | None], None]) -> None:
    """The error in a window when Qt can open one; the log holds it anyway."""
    try:
        show(message, log)
    except Exception:  # no Qt, no display: the log is what is left
        traceback.print_exc(file=sys.stderr)
