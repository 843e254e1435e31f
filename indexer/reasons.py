"""Why a file could not be read: every reason the index records, declared once, in words.

A reason is shown as is (Knowledge, `lanterne index status`), so it is a sentence in the user's
language that says what is wrong with the file, never a library's or the system's message
("'lxml.etree._Element' object has no attribute...", "[Errno 5] Input/output error"). Each is
declared here with `N_()` and turned into the user's language by `worded()` where it is given;
placeholders take only numbers, a suffix or a format's name. tests/test_reasons_in_words.py
checks every reason that hostile and damaged files produce against `REASONS`.
"""

from __future__ import annotations

import errno

from lanterne.foundation.translation import N_, _
from lanterne.indexer.regular_file import NotAFileError

# Reading the file (indexer/file_reader.py)
NOT_A_FILE = N_(
    "This is not a document but a folder, a pipe or another special file: Lanterne does not "
    "read it."
)
GONE = N_("The file was deleted or moved before Lanterne could read it.")
NOT_ALLOWED = N_("Lanterne is not allowed to read this file: check its permissions.")
DISK_ERROR = N_(
    "The disk reported an error while this file was read: the disk or the file may be damaged."
)
UNREACHABLE = N_(
    "The file could not be reached: its drive or network share may have been disconnected."
)
CANNOT_READ = N_("The system could not read this file; Lanterne will try again later.")
KEPT_CHANGING = N_("The file kept changing while it was read; it will be read again.")
TOO_MUCH_MEMORY = N_("Reading this file needed too much memory.")
UNEXPECTED = N_("An unexpected problem stopped Lanterne from reading this file.")
# The pipeline and the reader processes (indexer/indexing.py, indexer/reader_pool.py)
TOO_LARGE = N_("File too large ({size} MB; the limit is {limit} MB).")
TOO_SLOW = N_("Reading this file took longer than {seconds} s.")
READER_SIGNAL = N_("The reader stopped on this file (signal {signal}).")
READER_EXIT = N_("The reader stopped on this file (exit code {code}).")
# Formats (indexer/extract/)
UNSUPPORTED = N_("Unsupported file type: {suffix}")
BINARY = N_("This looks like a binary file, not text.")
UNKNOWN_ENCODING = N_("The text encoding of this file could not be recognised.")
NOT_EMAIL = N_("The file is not an e-mail message.")
EMPTY_MAILBOX = N_("The mailbox holds no message.")
HTML_EMPTY = N_("This HTML file holds nothing that could be parsed.")
PDF_PASSWORD = N_("The PDF is protected by a password; Lanterne cannot read it.")
PDF_NO_TEXT = N_("The PDF has no text layer (a scan?); Lanterne does not read images of text.")
EPUB_NO_CONTENTS = N_("The EPUB file is damaged: its table of contents cannot be read.")
EPUB_NO_CHAPTER = N_("The EPUB file has no readable chapter.")
NOT_REALLY = N_("The {kind} file is damaged or not really a {kind} file.")
ZIP_BOMB = N_("The {kind} file unpacks to {size} MB, too much for a document (a zip bomb?).")
# A damaged file of each format: the library's own words stay out of the reason.
DAMAGED: dict[str, str] = {
    "Word": N_("This Word document is damaged and cannot be read."),
    "PowerPoint": N_("This PowerPoint presentation is damaged and cannot be read."),
    "Excel": N_("This Excel workbook is damaged and cannot be read."),
    "OpenDocument": N_("This OpenDocument file is damaged and cannot be read."),
    "EPUB": N_("This EPUB book is damaged and cannot be read."),
    "PDF": N_("This PDF is damaged or not really a PDF, and cannot be read."),
    "HTML": N_("This HTML file is damaged and cannot be read."),
    "CSV": N_("This CSV file is malformed and cannot be read."),
}
# The format names a {kind} placeholder takes (product names: the same in every language).
KINDS = ("Word", "PowerPoint", "Excel", "OpenDocument", "EPUB")

REASONS: tuple[str, ...] = (
    NOT_A_FILE,
    GONE,
    NOT_ALLOWED,
    DISK_ERROR,
    UNREACHABLE,
    CANNOT_READ,
    KEPT_CHANGING,
    TOO_MUCH_MEMORY,
    UNEXPECTED,
    TOO_LARGE,
    TOO_SLOW,
    READER_SIGNAL,
    READER_EXIT,
    UNSUPPORTED,
    BINARY,
    UNKNOWN_ENCODING,
    NOT_EMAIL,
    EMPTY_MAILBOX,
    HTML_EMPTY,
    PDF_PASSWORD,
    PDF_NO_TEXT,
    EPUB_NO_CONTENTS,
    EPUB_NO_CHAPTER,
    NOT_REALLY,
    ZIP_BOMB,
    *DAMAGED.values(),
)

_UNREACHABLE_ERRNOS = {
    getattr(errno, name)
    for name in ("ENOTCONN", "ETIMEDOUT", "ESTALE", "EHOSTDOWN", "EHOSTUNREACH", "ENODEV")
    if hasattr(errno, name)
}


def worded(reason: str, **values: object) -> str:
    """One of `REASONS` in the user's language, its placeholders filled."""
    return _(reason).format(**values)


def damaged(kind: str) -> str:
    """The damaged-file reason of a format (one of `DAMAGED`'s keys)."""
    return _(DAMAGED[kind])


def os_reason(error: OSError) -> str:
    """What an error of the system when opening or reading a file means for the user."""
    if isinstance(error, (IsADirectoryError, NotAFileError)) or error.errno == errno.ENXIO:
        return _(NOT_A_FILE)  # a folder, a pipe or a socket now stands where the file was
    if isinstance(error, (FileNotFoundError, NotADirectoryError)):  # or one of its folders
        return _(GONE)
    if isinstance(error, PermissionError):
        return _(NOT_ALLOWED)
    if error.errno == errno.EIO:
        return _(DISK_ERROR)
    if error.errno in _UNREACHABLE_ERRNOS:
        return _(UNREACHABLE)
    return _(CANNOT_READ)
