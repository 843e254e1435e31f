"""One progress line rewritten in place on a terminal, a line per update in a log.

The ANSI "erase line" sequence is used only where the terminal understands it: the classic
Windows console prints it as "←[2K" unless asked for virtual terminal processing (Windows 10
and later). Elsewhere the line is overwritten with spaces up to the previous one's length.
"""

from __future__ import annotations

import ctypes
import importlib
import sys
from collections.abc import Callable
from typing import TextIO

ERASE_LINE = "\x1b[2K"
# SetConsoleMode flag, https://learn.microsoft.com/windows/console/setconsolemode
ENABLE_VIRTUAL_TERMINAL_PROCESSING = 0x0004


def enable_virtual_terminal(stream: TextIO) -> bool:
    """Ask the Windows console behind `stream` to understand ANSI sequences; False when it
    cannot (before Windows 10, or a handle that is not a console)."""
    try:
        msvcrt = importlib.import_module("msvcrt")
        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        handle = ctypes.c_void_p(msvcrt.get_osfhandle(stream.fileno()))
        mode = ctypes.c_uint32()
        if not kernel32.GetConsoleMode(handle, ctypes.byref(mode)):
            return False  # not a console: a file or a pipe
        if mode.value & ENABLE_VIRTUAL_TERMINAL_PROCESSING:
            return True
        wanted = ctypes.c_uint32(mode.value | ENABLE_VIRTUAL_TERMINAL_PROCESSING)
        return bool(kernel32.SetConsoleMode(handle, wanted))  # fails before Windows 10
    except (AttributeError, ImportError, OSError, ValueError):
        return False


def understands_ansi(
    stream: TextIO,
    platform: str | None = None,
    enable: Callable[[TextIO], bool] | None = None,
) -> bool:
    """Whether `stream`, a terminal, can be sent the erase-line sequence (`platform` and
    `enable` default to this machine's)."""
    if (platform or sys.platform) != "win32":
        return True
    return (enable or enable_virtual_terminal)(stream)


class ProgressLine:
    """Updates of one line: on a terminal each replaces the last, in a log each is a line."""

    def __init__(self, stream: TextIO | None = None, ansi: bool | None = None) -> None:
        chosen = stream if stream is not None else sys.stderr
        self.stream: TextIO | None = chosen  # None in a windowed launch (pythonw)
        self.tty = chosen is not None and _isatty(chosen)
        if ansi is None:
            ansi = self.tty and understands_ansi(chosen)
        self.ansi = self.tty and ansi
        self.width = 0  # of the line on screen, for overwriting without ANSI

    def show(self, line: str, final: bool = False) -> None:
        """`line` in place of the last one; `final` ends it, so what follows starts below."""
        if self.stream is None:
            return
        end = "\n" if final else ""
        if not self.tty:
            self.stream.write(line + "\n")
        elif self.ansi:
            self.stream.write("\r" + ERASE_LINE + line + end)
        else:
            self.stream.write("\r" + line.ljust(self.width) + end)
            self.width = 0 if final else len(line)
        self.stream.flush()


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream
        return False
