"""Opening a cited file at the cited place: a PDF at its page where the viewer can be told.

No standard asks "open this PDF at page 3": each viewer has its own argument, so the default
PDF viewer is looked up (freedesktop's `xdg-mime` on Linux) and, when it is one whose page
argument is known, started with it. Elsewhere the file opens normally and the window says which
page to go to. No Qt here: the lookup runs on a worker thread.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

# Default-application desktop ids (without ".desktop", lower case) -> how to pass a page.
_PAGE_ARGUMENTS: dict[str, tuple[str, list[str]]] = {
    "org.gnome.evince": ("evince", ["--page-label={page}", "{path}"]),
    "evince": ("evince", ["--page-label={page}", "{path}"]),
    "atril": ("atril", ["--page-label={page}", "{path}"]),
    "xreader": ("xreader", ["--page-label={page}", "{path}"]),
    "org.kde.okular": ("okular", ["--page", "{page}", "{path}"]),
    "okularapplication_pdf": ("okular", ["--page", "{page}", "{path}"]),
    "org.pwmt.zathura": ("zathura", ["--page={page}", "{path}"]),
    "org.pwmt.zathura-pdf-mupdf": ("zathura", ["--page={page}", "{path}"]),
    "org.pwmt.zathura-pdf-poppler": ("zathura", ["--page={page}", "{path}"]),
    "qpdfview": ("qpdfview", ["--unique", "{path}#{page}"]),
    "org.gnome.papers": ("papers", ["--page-label={page}", "{path}"]),
}


def default_pdf_viewer() -> str | None:
    """The default PDF application's desktop id on a freedesktop system, else None."""
    if not sys.platform.startswith("linux") or shutil.which("xdg-mime") is None:
        return None
    try:
        done = subprocess.run(
            ["xdg-mime", "query", "default", "application/pdf"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    desktop_id = done.stdout.strip().removesuffix(".desktop").lower()
    return desktop_id or None


def page_command(path: Path, page: int, viewer: str | None) -> list[str] | None:
    """The command that opens `path` at `page` in `viewer`, if its page argument is known and
    the program is installed."""
    if viewer is None or path.suffix.lower() != ".pdf":
        return None
    known = _PAGE_ARGUMENTS.get(viewer)
    if known is None:
        return None
    program, arguments = known
    executable = shutil.which(program)
    if executable is None:
        return None
    return [executable] + [a.format(page=page, path=path) for a in arguments]
