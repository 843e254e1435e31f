"""`.lanterneignore` files: what a user keeps out of the index, in gitignore syntax.

A `.lanterneignore` applies to the folder it sits in and everything below it, as a
`.gitignore` does, with git's own matching rules (pathspec's GitIgnoreSpec): `*.log`,
`/drafts/`, `secret-*.docx`, `!keep.md`. One `IgnoreRules` lives for one scan or one file
event and reads each folder's file once; an edit takes effect at the next one, no restart.
"""

from __future__ import annotations

from pathlib import Path

from pathspec import GitIgnoreSpec

from lanterne.indexer.regular_file import open_regular

IGNORE_FILE = ".lanterneignore"


def parse_patterns(text: str) -> tuple[str, ...]:
    """The settings' ignore patterns ("*.log; drafts/") as gitignore lines."""
    return tuple(p.strip() for p in text.replace("\n", ";").split(";") if p.strip())


class IgnoreRules:
    """The `.lanterneignore` files under one watched folder, and the patterns set in Lanterne's
    settings for every watched folder (kept by Lanterne: it never writes into the folders)."""

    def __init__(self, root: Path, patterns: tuple[str, ...] = ()) -> None:
        self.root = root
        self._specs: dict[Path, GitIgnoreSpec | None] = {}  # read once per scan or event
        self._everywhere = GitIgnoreSpec.from_lines(patterns) if patterns else None

    def _spec(self, folder: Path) -> GitIgnoreSpec | None:
        if folder not in self._specs:
            try:  # never a pipe left under its name: reading one would wait forever
                with open_regular(folder / IGNORE_FILE) as handle:
                    lines = handle.read().decode("utf-8", errors="replace").splitlines()
            except OSError:  # none there (the usual case), unreadable, or not a file
                lines = []
            self._specs[folder] = GitIgnoreSpec.from_lines(lines) if lines else None
        return self._specs[folder]

    def ignores(self, path: Path, is_dir: bool = False) -> bool:
        """Whether the settings' patterns, or a `.lanterneignore` in `path`'s folder or above (up
        to the root), exclude it."""
        try:
            relative = path.relative_to(self.root)
        except ValueError:
            return False
        if self._everywhere is not None and self._everywhere.match_file(
            relative.as_posix() + ("/" if is_dir else "")
        ):
            return True
        folder = self.root
        for part in (*relative.parts[:-1], ""):
            spec = self._spec(folder)
            if spec is not None:
                rel = path.relative_to(folder).as_posix() + ("/" if is_dir else "")
                if spec.match_file(rel):
                    return True
            if part:
                folder = folder / part
        return False
