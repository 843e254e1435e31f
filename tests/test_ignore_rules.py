"""`.lanterneignore` files (gitignore syntax) keep files out of the index, and edits apply."""

from __future__ import annotations

from pathlib import Path

from lanterne.indexer.indexing import Indexer, IndexOptions
from lanterne.indexer.scanner import scan
from lanterne.indexer.store import IndexStore
from lanterne.indexer.watcher import apply_changes


def tree(root: Path) -> Path:
    files = {
        "notes.md": "# Notes\n\nLe serveur nas01.",
        "secret-salaires.md": "confidentiel",
        "secret-ok.md": "public après tout",
        "drafts/brouillon.md": "à relire",
        "projets/plan.txt": "plan du projet",
        "projets/budget.md": "budget du projet",
        "projets/vieux/ancien.md": "archive",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    (root / ".lanterneignore").write_text("# rules\ndrafts/\nsecret-*.md\n!secret-ok.md\n")
    (root / "projets" / ".lanterneignore").write_text("*.txt\n/vieux/\n")
    return root


def names(root: Path) -> list[str]:
    return [p.relative_to(root).as_posix() for p, _st in scan(root)]


def test_rules_apply_below_their_folder_with_git_semantics(tmp_path: Path) -> None:
    root = tree(tmp_path / "docs")
    assert names(root) == ["notes.md", "secret-ok.md", "projets/budget.md"]


def test_editing_the_rules_updates_the_index(tmp_path: Path) -> None:
    root = tree(tmp_path / "docs")
    store = IndexStore(tmp_path / "index.sqlite3")
    try:
        indexer = Indexer(store, IndexOptions())
        indexer.add_folder(root)
        assert store.status().documents == 3
        rules = root / ".lanterneignore"
        rules.write_text("secret-*.md\nnotes.md\n")  # drafts/ back in, notes.md out
        assert apply_changes(indexer, {rules}) == 1
        indexed = sorted(Path(p).name for p in store.documents_in(1))
        assert indexed == ["brouillon.md", "budget.md"]
        rules.unlink()
        apply_changes(indexer, {rules})
        assert store.status().documents == 5  # only projets/ keeps its own rules
        # A file event for a file the rules exclude leaves it out of the index.
        (root / "projets" / "plan.txt").write_text("nouveau plan")
        assert indexer.index_path(root / "projets" / "plan.txt") == "removed"
        assert store.status().documents == 5
    finally:
        store.close()


def test_patterns_from_the_settings_apply_in_every_folder(tmp_path: Path) -> None:
    from lanterne.indexer.ignore_rules import parse_patterns

    root = tree(tmp_path / "docs")
    patterns = parse_patterns(" budget.md ;notes.md\n; ")
    assert patterns == ("budget.md", "notes.md")
    kept = [p.relative_to(root).as_posix() for p, _st in scan(root, patterns)]
    assert kept == ["secret-ok.md"]  # with the folders' own .lanterneignore rules
    store = IndexStore(tmp_path / "index.sqlite3")
    try:
        indexer = Indexer(store, IndexOptions())
        indexer.add_folder(root)
        assert store.status().documents == 3
        indexer.options = IndexOptions(ignore_patterns=patterns)  # Settings changed
        indexer.sync_all()
        assert sorted(Path(p).name for p in store.documents_in(1)) == ["secret-ok.md"]
        assert indexer.index_path(root / "notes.md") == "removed"
        indexer.options = IndexOptions()
        indexer.sync_all()
        assert store.status().documents == 3  # back in, untouched on disk
    finally:
        indexer.close()
