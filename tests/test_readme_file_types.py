"""The README's list of the files Lanterne reads is the extractor registry's, no more, no less.

The registry (`EXTRACTORS` in indexer/extract/__init__.py) decides what the scanner picks up; the
README's "What it reads" section says it to people. A suffix added to one and not the other fails
here, with the line to write.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from lanterne.indexer.extract import EXTRACTORS

ROOT = Path(__file__).resolve().parents[1]
HEADING = "## What it reads"


def listed_suffixes(readme: str) -> list[str]:
    """Every `.suffix` in the bullet list of the README's "What it reads" section, in order."""
    start = readme.index(HEADING)
    end = readme.find("\n## ", start + len(HEADING))
    section = readme[start : end if end != -1 else None]
    bullets = re.findall(r"^- .*(?:\n  .*)*", section, flags=re.MULTILINE)
    return [s for bullet in bullets for s in re.findall(r"`(\.[\w.+-]+)`", bullet)]


def test_the_readme_lists_exactly_the_registered_suffixes() -> None:
    listed = listed_suffixes((ROOT / "README.md").read_text(encoding="utf-8"))
    twice = sorted(s for s, n in Counter(listed).items() if n > 1)
    missing = sorted(set(EXTRACTORS) - set(listed))
    unknown = sorted(set(listed) - set(EXTRACTORS))
    assert not twice, f"listed more than once in README.md: {twice}"
    assert not missing, "read by the indexer, not in README.md's list: " + ", ".join(
        f"`{s}`" for s in missing
    )
    assert not unknown, f"in README.md's list, not read by the indexer: {unknown}"


def test_the_introduction_points_at_the_list() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    introduction = readme.split("\n\n")[1]
    assert "(#what-it-reads)" in introduction


def test_a_suffix_left_out_is_found() -> None:
    readme = f"# L\n\n{HEADING}\n\n- PDF: `.pdf`\n- Text: `.txt`,\n  `.md`\n\n`.lanterneignore`\n"
    assert listed_suffixes(readme) == [".pdf", ".txt", ".md"]
