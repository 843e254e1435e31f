"""Printing helpers shared by the subcommands.

Output redirected to a file or a pipe on Windows is encoded in the ANSI code page (cp1252 in
Western Europe), which has no "■" (the house-rules mask), no CJK and no emoji: JSON is then
written with \\u escapes (the same data, read back by any JSON reader) and text with "?" for
what the code page lacks, rather than a crash.
"""

from __future__ import annotations

import codecs
import io
import json
import sys
from datetime import date
from typing import Any, TextIO

from lanterne.foundation import paths
from lanterne.foundation.db_faults import DiskFullError
from lanterne.foundation.translation import _


def holds_any_text(stream: TextIO | None) -> bool:
    """Whether `stream` can encode every character: UTF-8 can, cp1252 cannot."""
    encoding = getattr(stream, "encoding", None)
    if not encoding:  # a str buffer (io.StringIO): nothing is encoded
        return True
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return False
    return name.startswith("utf") or name == "gb18030"


def json_text(data: Any, stream: TextIO | None, indent: int | None = 2) -> str:
    """`data` as JSON that `stream` can encode without losing a character."""
    return json.dumps(data, ensure_ascii=not holds_any_text(stream), indent=indent)


def tolerate_unencodable_text() -> None:
    """Standard output and error replace what their encoding lacks instead of raising; called
    once at start. Streams set up otherwise (PYTHONIOENCODING=…:backslashreplace) are kept."""
    for stream in (sys.stdout, sys.stderr):
        if (
            isinstance(stream, io.TextIOWrapper)
            and stream.errors == "strict"
            and not holds_any_text(stream)
        ):
            stream.reconfigure(errors="replace")


def print_json(data: Any) -> None:
    if sys.stdout is not None:  # None in a windowed launch without a console (pythonw)
        sys.stdout.write(json_text(data, sys.stdout) + "\n")


def error(message: str) -> int:
    if sys.stderr is not None:
        sys.stderr.write(f"lanterne: {message}\n")
    return 1


EXIT_DISK_FULL = 75  # sysexits' EX_TEMPFAIL: nothing is lost, try again later (once there is room)


def disk_full(exc: BaseException, what_now: str = "") -> int:
    """A write into the data folder found the disk full: where, how much, what to do."""
    if isinstance(exc, DiskFullError) and exc.what_now and not what_now:
        message = str(exc)  # it says what happened to what was being written
    else:
        folder = exc.folder if isinstance(exc, DiskFullError) else paths.data_dir()
        needed = exc.needed if isinstance(exc, DiskFullError) else None
        what_now = what_now or _(
            "Nothing done so far is lost: run the same command again once there is room."
        )
        message = str(DiskFullError(folder, needed, what_now))
    if sys.stderr is not None and sys.stderr.isatty():
        sys.stderr.write("\n")  # below a progress line left unfinished
    error(message)
    return EXIT_DISK_FULL


def parse_day(value: str | None) -> date | None:
    """A YYYY-MM-DD option; ValueError says what was wrong, in the user's language."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(_("Not a date (YYYY-MM-DD): {value}").format(value=value)) from None
