"""What `lanterne index status` and the Knowledge panel say of a watched folder that is not
connected or gone (indexer/folder_presence.py), in words shared by both."""

from __future__ import annotations

from lanterne.foundation.translation import _, format_when
from lanterne.indexer.store import FolderStatus


def state_label(state: str) -> str:
    """A few words after the folder's name; empty while it is connected."""
    if state == "not_connected":
        return _("not connected")
    if state == "gone":
        return _("gone")
    return ""


def state_sentence(folder: FolderStatus, cli: bool) -> str | None:
    """What the user should know and can do, or None while the folder is connected. `cli`: the
    way out is a command rather than the Knowledge panel's Remove button."""
    if folder.state == "not_connected":
        return _(
            "{path} is not connected: its documents stay in the index, and when it comes back "
            "only what changed is read again."
        ).format(path=folder.path)
    if folder.state != "gone":
        return None
    when = format_when(folder.missing_since) if folder.missing_since else "?"
    if cli:
        return _(
            "Folder {path} is gone (missing since {when}): `lanterne index remove {arg}` to "
            "forget it."
        ).format(path=folder.path, when=when, arg=_shell_word(folder.path))
    return _(
        "{path} has been missing since {when}: if you deleted or moved it, select it and press "
        "Remove to forget its documents."
    ).format(path=folder.path, when=when)


def _shell_word(path: str) -> str:
    return f'"{path}"' if any(c.isspace() or c in "'&;$|<>()" for c in path) else path
