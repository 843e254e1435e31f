"""Hostile and broken files: indexing never crashes nor hangs, records one specific reason per
file it cannot read, and indexes everything else (tests/support/bad_files.py lists them)."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from lanterne.foundation.settings import Settings
from lanterne.indexer import reasons
from lanterne.indexer.indexing import Indexer
from lanterne.indexer.store import IndexStore, path_key
from support.bad_files import write_bad_corpus
from support.cli import lanterne
from support.worded_reasons import assert_worded

pytestmark = pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="POSIX files")


@pytest.mark.slow
def test_a_hostile_folder_is_indexed_with_a_reason_per_bad_file(
    tmp_path: Path, lanterne_home: Path
) -> None:
    bad, good = write_bad_corpus(tmp_path / "corpus")
    assert len(bad) >= 40
    settings = Settings()  # budgets of the reader processes, lowered to keep the test short
    settings.set("index.file_time_limit_s", 60)  # room for the 10 MB field on a busy machine
    settings.set("index.file_memory_limit_mb", 1024)
    settings.save()
    start = time.monotonic()
    # The readers are under test, not the embedder (its own kill -9 test is in test_crash_safety):
    # embedding this corpus's megabytes of text would take minutes on two cores.
    done = lanterne("index", "add", str(tmp_path / "corpus"), "--no-embed", "--json", timeout=600)
    seconds = time.monotonic() - start
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    conn = sqlite3.connect(lanterne_home / "index.sqlite3")
    try:
        rows = {
            r[0]: (r[1], r[2], r[3])
            for r in conn.execute(
                "SELECT d.path, d.status, d.error, (SELECT COUNT(*) FROM chunks c "
                "WHERE c.document_id = d.id) FROM documents d"
            )
        }
        leaked = conn.execute("SELECT COUNT(*) FROM chunks WHERE text LIKE '%root:x:0:0%'")
        assert leaked.fetchone()[0] == 0  # the external entity was not resolved
    finally:
        conn.close()
    outcomes: dict[str, int] = {}
    for item in bad:
        row = rows.get(path_key(item.path))
        if item.expect == "skipped":
            assert row is None, item.kind
            continue
        assert row is not None, f"{item.kind}: not recorded"
        status, reason, passages = row
        assert status in ("indexed", "error"), item.kind
        if item.expect == "reason" or status == "error":
            assert status == "error" and reason, f"{item.kind}: {row}"
            assert_worded(reason, item.kind)  # a declared sentence, no library or system text
            assert reason != reasons.UNEXPECTED, f"{item.kind}: an extractor let a fault by"
        if item.expect == "indexed":
            assert status == "indexed" and passages > 0, f"{item.kind}: {row}"
        outcomes[status] = outcomes.get(status, 0) + 1
    for path, word in good.items():
        found = json.loads(lanterne("search", word, "--json", "-k", "20").stdout)["results"]
        assert str(path) in [r["path"] for r in found], word
    print(
        f"\n{len(bad)} hostile files + {len(good)} good ones in {seconds:.1f} s: "
        f"{outcomes.get('error', 0)} unreadable with a reason, {outcomes.get('indexed', 0)} "
        f"read anyway, {sum(b.expect == 'skipped' for b in bad)} skipped"
    )


def test_files_deleted_or_truncated_between_the_scan_and_the_read(docs_folder: Path) -> None:
    """What the reader finds is what is recorded: a file gone gets a reason (and leaves at the
    next scan), a file cut short is read as it now is."""
    store = IndexStore(docs_folder.parent / "index.sqlite3")
    indexer = Indexer(store)
    try:
        indexer.add_folder(docs_folder)
        folder_id = store.folders()[0][0]
        gone = docs_folder / "cuisine" / "tarte.txt"
        cut = docs_folder / "debian" / "install.md"
        scanned = [(gone, gone.stat()), (cut, cut.stat())]
        gone.unlink()
        cut.write_text("# Installing Debian\n\nShort now.\n", "utf-8")
        outcomes = dict(indexer._index(folder_id, scanned))
        assert outcomes == {gone: "error", cut: "indexed"}
        state = store.document(gone)
        assert state is not None and state.status == "error"
        cut_state = store.document(cut)
        assert cut_state is not None and cut_state.size == cut.stat().st_size
        indexer.add_folder(docs_folder)
        assert store.document(gone) is None
    finally:
        indexer.close()
