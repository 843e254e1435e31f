"""Opening a user's file to read it, without ever waiting on something that is not a file.

A watched folder can hold a named pipe, a socket or a device under a document's name, and a
document can be replaced by one, or by a folder, between the scan and the read. Opening a pipe
for reading waits for a writer, forever: the file is opened without blocking and checked with
fstat (on the opened file, so nothing can be swapped in between) before a byte is read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

# O_NONBLOCK: a pipe opens at once instead of waiting for a writer (not on Windows, which has
# no pipes in folders); O_BINARY: Windows' C library would otherwise translate line ends.
_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


class NotAFileError(OSError):
    """A folder, pipe, socket or device stands where a file was expected."""


def is_regular(st: os.stat_result) -> bool:
    return stat.S_ISREG(st.st_mode)


def open_regular(path: Path) -> BinaryIO:
    """`path` opened for reading in binary, if it is a regular file (a link to one counts);
    raises NotAFileError for anything else, OSError when it cannot be opened."""
    try:
        fd = os.open(path, _FLAGS)
    except PermissionError:
        if path.is_dir():  # Windows refuses to open a folder with "access denied"
            raise NotAFileError(str(path)) from None
        raise
    try:
        if not is_regular(os.fstat(fd)):
            raise NotAFileError(str(path))
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
