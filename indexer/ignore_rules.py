"""`.lanterneignore` files: what a user keeps out of the index, in gitignore syntax.

A `.lanterneignore` applies to the folder it sits in and everything below it, as a
`.gitignore` does, with git's own matching rules (pathspec's GitIgnoreSpec): `*.log`,
`/drafts/`, `secret-*.docx`, `!keep.md`. Files are re-read when they change, so an edit
takes effect at the next scan or file event without a restart.
"""

from __future__ import annotations

from pathlib import Path

from pathspec import GitIgnoreSpec

IGNORE_FILE = ".lanterneignore"


class IgnoreRules:
    """The `.lanterneignore` files under one watched folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._cache: dict[Path, tuple[int, GitIgnoreSpec | None]] = {}

    def _spec(self, folder: Path) -> GitIgnoreSpec | None:
        file = folder / IGNORE_FILE
        try:
            stamp = file.stat().st_mtime_ns
        except OSError:
            self._cache.pop(folder, None)
            return None
        cached = self._cache.get(folder)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        try:
            lines = file.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            lines = []
        spec = GitIgnoreSpec.from_lines(lines) if lines else None
        self._cache[folder] = (stamp, spec)
        return spec

    def ignores(self, path: Path, is_dir: bool = False) -> bool:
        """Whether a `.lanterneignore` in `path`'s folder or above (up to the root) excludes it."""
        try:
            relative = path.relative_to(self.root)
        except ValueError:
            return False
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
