"""Conversations on disk: kept, searchable, and never corrupt after a crash mid-answer."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lanterne.conversations.store import (
    HIGHLIGHT_END,
    HIGHLIGHT_START,
    ConversationStore,
    search_query,
)

SNAPSHOT = Path(__file__).with_name("snapshots") / "conversations_schema.sql"

SOURCE = {
    "n": 1,
    "chunk_id": 7,
    "path": "/docs/été/rapport.pdf",
    "page": 3,
    "line": None,
    "heading": "Budget › Dépenses",
    "snippet": "les dépenses de 2025",
    "highlights": [[4, 12]],
    "text": "Les dépenses de 2025 ont baissé de 4 %.",
    "score": 3.2,
    "lang": "fr",
}


def test_schema_matches_snapshot(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3")
    schema = store.db.schema.strip() + "\n"
    store.close()
    if not SNAPSHOT.exists():  # first run writes it; review and commit it
        SNAPSHOT.write_text(schema, encoding="utf-8")
    assert schema == SNAPSHOT.read_text(encoding="utf-8"), (
        "the conversations schema changed: add a migration, then refresh the snapshot"
    )


def test_a_conversation_keeps_its_messages_and_sources(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3")
    first = store.create("Dépenses 2025")
    second = store.create("Sauvegardes")
    store.add_message(first, "user", "Les dépenses ont-elles baissé ?")
    answer = store.add_message(first, "assistant", "", status="streaming")
    store.update_message(answer, text="Oui, de 4 % [1].")
    store.update_message(
        answer,
        text="Oui, de 4 % [1].",
        status="complete",
        sources=[SOURCE],
        details={"language": "fr", "tokens_per_second": 38.5},
    )
    messages = store.messages(first)
    assert [(m.role, m.status) for m in messages] == [
        ("user", "complete"),
        ("assistant", "complete"),
    ]
    assert messages[1].text == "Oui, de 4 % [1]."
    assert messages[1].sources == [SOURCE]
    assert messages[1].details["tokens_per_second"] == 38.5
    # Most recently active first: the first conversation got the last message.
    assert [c.id for c in store.conversations()] == [first, second]
    store.rename(second, "Sauvegardes nocturnes")
    assert store.conversation(second).title == "Sauvegardes nocturnes"  # type: ignore[union-attr]
    store.delete(first)
    assert store.messages(first) == []
    assert [c.id for c in store.conversations()] == [second]
    store.close()


def test_search_finds_words_across_conversations_accents_folded(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3")
    budget = store.create("Budget")
    store.add_message(budget, "user", "Quelles dépenses pour l'été ?")
    store.add_message(budget, "assistant", "Les dépenses d'été sont en hausse.")
    other = store.create("Serveurs")
    store.add_message(other, "user", "Comment sauvegarder le serveur ?")
    hits = store.search("depenses ete")
    assert [h.conversation.id for h in hits] == [budget]  # one hit per conversation
    assert HIGHLIGHT_START in hits[0].snippet and HIGHLIGHT_END in hits[0].snippet
    assert [h.conversation.id for h in store.search("sauvega")] == [other]  # as you type
    assert store.search("C++ (NEAR") == store.search("C NEAR")  # typed syntax never breaks it
    assert store.search("   ") == []
    assert search_query("l'été") == '"l" "été"*'
    store.close()


def test_an_answer_cut_by_a_crash_is_kept_and_marked(tmp_path: Path) -> None:
    """kill -9 while an answer streams: the question and the text so far survive, marked."""
    path = tmp_path / "c.sqlite3"
    script = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from lanterne.conversations.store import ConversationStore
        store = ConversationStore(Path({str(path)!r}))
        cid = store.create("Question")
        store.add_message(cid, "user", "Que dit le rapport ?")
        mid = store.add_message(cid, "assistant", "", status="streaming")
        store.update_message(mid, text="Le rapport dit que")
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], check=False)
    assert done.returncode == -9
    store = ConversationStore(path)
    assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert store.recover_interrupted() == 1
    (conversation,) = store.conversations()
    question, answer = store.messages(conversation.id)
    assert question.text == "Que dit le rapport ?"
    assert (answer.text, answer.status) == ("Le rapport dit que", "interrupted")
    assert store.recover_interrupted() == 0
    store.close()


@pytest.mark.skipif(os.name == "nt", reason="file modes")
def test_database_lives_where_it_is_asked(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "sub" / "c.sqlite3")
    store.close()
    assert (tmp_path / "sub" / "c.sqlite3").is_file()


def test_conversations_of_the_first_release_open_and_read(tmp_path: Path) -> None:
    """A conversations database written by the first schema (kept in tests/fixtures) opens,
    migrates in place and keeps every message, its sources and figures; its answer cut by a
    crash is recovered as interrupted. New migrations must keep this test passing."""
    import shutil

    path = tmp_path / "conversations.sqlite3"
    shutil.copy(Path(__file__).with_name("fixtures") / "conversations_m001.sqlite3", path)
    store = ConversationStore(path)
    try:
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert store.recover_interrupted() == 1
        titles = {c.title: c.id for c in store.conversations()}
        assert set(titles) == {"Sauvegardes", "Coupée"}
        question, answer = store.messages(titles["Sauvegardes"])
        assert question.text == "Comment sauvegarder le serveur ?"
        assert answer.sources[0]["path"] == "/docs/sauvegardes.md"
        assert answer.details["tokens_per_second"] == 41.2
        assert (answer.rating, answer.edited_text) == (None, None)  # m002: nothing said yet
        store.set_rating(answer.id, 1)
        store.set_edit(answer.id, "Avec rsync, chaque nuit.")
        again = store.messages(titles["Sauvegardes"])[1]
        assert (again.rating, again.shown_text) == (1, "Avec rsync, chaque nuit.")
        assert [m.status for m in store.messages(titles["Coupée"])] == ["complete", "interrupted"]
        assert [h.conversation.title for h in store.search("rsync")] == ["Sauvegardes"]
    finally:
        store.close()
