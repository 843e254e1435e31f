"""Demonstration data: ratings and corrections kept with the answers, and the JSONL export
(library and `lanterne export`) in the chat fine-tuning format, filtered by date, folder and
rating, written whole or not at all."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from lanterne.assistant.prompt import AnswerStyle
from lanterne.context import AppContext
from lanterne.conversations.demonstrations import (
    Demonstration,
    DemonstrationFilter,
    demonstrations,
    export_file,
)
from lanterne.conversations.store import ConversationStore
from lanterne.foundation.settings import Settings
from support.cli import lanterne
from support.demonstration_data import fill

STYLE = AnswerStyle()


@pytest.fixture
def store() -> Iterator[ConversationStore]:
    opened = ConversationStore(AppContext(Settings()).conversations_path)
    yield opened
    opened.close()


@pytest.fixture
def ids(store: ConversationStore, tmp_path: Path) -> dict[str, int]:
    return fill(store, tmp_path / "docs")


def exported(store: ConversationStore, **where: object) -> list[int]:
    return [d.answer.id for d in demonstrations(store, DemonstrationFilter(**where))]  # type: ignore[arg-type]


def test_ratings_and_corrections_are_kept_and_taken_back(store: ConversationStore) -> None:
    cid = store.create("Essai")
    question = store.add_message(cid, "user", "Pourquoi ?")
    answer = store.add_message(cid, "assistant", "Parce que.")
    store.set_rating(answer, -1)
    store.set_edit(answer, "Parce que la sauvegarde a échoué.")
    store.set_rating(question, 1)  # a question is not rated
    saved_question, saved = store.messages(cid)
    assert (saved.rating, saved.edited_text, saved.text) == (
        -1, "Parce que la sauvegarde a échoué.", "Parce que.",
    )  # fmt: skip
    assert saved.shown_text == "Parce que la sauvegarde a échoué."
    assert saved_question.rating is None
    store.set_edit(answer, None)
    assert store.messages(cid)[1].shown_text == "Parce que."
    store.clear_feedback(answer)
    assert store.messages(cid)[1].rating is None
    with pytest.raises(ValueError, match="rating"):
        store.set_rating(answer, 5)
    with pytest.raises(sqlite3.IntegrityError):  # the schema holds the line too
        store.db.execute("UPDATE messages SET rating = 2 WHERE id = ?", [answer])


def test_exported_answers_are_those_worth_learning_from(
    store: ConversationStore, ids: dict[str, int]
) -> None:
    """Failed, stopped and rules-declined answers are left out; a corrected answer goes in even
    when the model's was cut short: the correction is the demonstration."""
    assert exported(store) == [ids["rsync"], ids["cron"], ids["spend"], ids["taxes"]]


def test_an_example_is_the_conversation_so_far_then_the_approved_answer(
    store: ConversationStore, ids: dict[str, int], tmp_path: Path
) -> None:
    demos = {d.answer.id: d for d in demonstrations(store)}
    example = demos[ids["cron"]].example(STYLE)
    roles = [m["role"] for m in example["messages"]]
    assert roles == ["system", "user", "assistant", "user", "assistant"]
    system, first_q, first_a, question, answer = (m["content"] for m in example["messages"])
    assert "Lanterne" in system and "[1]" in system  # the instructions, in French
    assert "Tu es" in system
    assert first_q == "Comment sauvegarder le serveur ?" and first_a == "Avec rsync [1]."
    assert "<source>" in question and "Une tâche cron lance rsync à 2 h." in question
    assert question.endswith("Et chaque nuit ?")
    assert answer == "Oui, une tâche cron lance rsync chaque nuit à 2 h [1]."
    meta = example["metadata"]
    assert meta["edited"] is True and meta["original_answer"] == "Oui [1]."
    assert meta["rating"] is None and meta["title"] == "Sauvegardes"
    assert meta["sources"] == [
        {"n": 1, "path": str(tmp_path / "docs" / "admin" / "cron.md"), "page": None, "heading": ""}
    ]
    assert set(demos[ids["spend"]].example(STYLE, metadata=False)) == {"messages"}
    assert demos[ids["spend"]].example(STYLE)["metadata"]["rating"] == "down"
    house = AnswerStyle(house="Toujours vouvoyer.")
    assert "Toujours vouvoyer." in demos[ids["rsync"]].example(house)["messages"][0]["content"]


def test_filters_by_rating_correction_folder_and_day(
    store: ConversationStore, ids: dict[str, int], tmp_path: Path
) -> None:
    assert exported(store, rating="up") == [ids["rsync"]]
    assert exported(store, rating="down") == [ids["spend"]]
    assert exported(store, rating="unrated") == [ids["cron"], ids["taxes"]]
    assert exported(store, edited_only=True) == [ids["cron"], ids["taxes"]]
    assert exported(store, folder=tmp_path / "docs" / "finances") == [ids["spend"]]
    assert exported(store, folder=tmp_path / "docs") == [ids["rsync"], ids["cron"], ids["spend"]]
    assert exported(store, until=date(2026, 1, 10)) == [ids["spend"], ids["taxes"]]
    assert exported(store, since=date(2026, 1, 11)) == [ids["rsync"], ids["cron"]]
    with pytest.raises(ValueError, match="rating"):
        DemonstrationFilter(rating="great")


def test_an_export_is_written_whole_or_not_at_all(
    store: ConversationStore, ids: dict[str, int], tmp_path: Path
) -> None:
    out = tmp_path / "out" / "demos.jsonl"
    out.parent.mkdir()
    assert export_file(demonstrations(store), out, STYLE) == 4
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["metadata"]["message"] for line in lines] == list(
        ids[k] for k in ("rsync", "cron", "spend", "taxes")
    )

    def failing() -> Iterator[Demonstration]:
        yield from demonstrations(store)
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        export_file(failing(), out, STYLE)
    assert len(out.read_text(encoding="utf-8").splitlines()) == 4  # the earlier file stands
    assert sorted(p.name for p in out.parent.iterdir()) == ["demos.jsonl"]  # no half file


@pytest.mark.slow
def test_lanterne_export_writes_previews_and_refuses_clearly(
    store: ConversationStore, ids: dict[str, int], tmp_path: Path
) -> None:
    out = tmp_path / "demos.jsonl"
    done = lanterne("export", str(out), "--rating", "up", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"count": 1, "path": str(out.resolve())}
    (line,) = out.read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["messages"][-1] == {"role": "assistant", "content": "Avec rsync [1]."}

    preview = lanterne("export", "--preview", "1", "--edited", "--json")
    assert preview.returncode == 0, preview.stderr
    shown = json.loads(preview.stdout)
    assert shown["count"] == 2 and len(shown["examples"]) == 1

    plain = lanterne("export", "-", "--since", "2026-01-11", "--no-metadata")
    lines = [json.loads(line) for line in plain.stdout.splitlines()]
    assert len(lines) == 2 and all(set(line) == {"messages"} for line in lines)
    assert "Exported 4 answers" in lanterne("export", str(out)).stdout

    for args, message in (
        ((), "Say where to write"),
        ((str(out), "--since", "yesterday"), "Not a date (YYYY-MM-DD): yesterday"),
        ((str(tmp_path / "nowhere" / "x.jsonl"),), "No such folder"),
    ):
        refused = lanterne("export", *args)
        assert refused.returncode == 1 and message in refused.stderr, refused.stderr

    settings = Settings()
    settings.set("house.allow_export", False)
    settings.save()
    refused = lanterne("export", str(out))
    assert refused.returncode == 1 and "does not allow" in refused.stderr


def test_an_answer_cut_short_then_corrected_keeps_its_questions_language(
    store: ConversationStore,
) -> None:
    """A crash mid-answer leaves no recorded language: the question's is used."""
    cid = store.create("Coupée")
    store.add_message(cid, "user", "Comment restaurer une sauvegarde avec rsync ?")
    answer = store.add_message(cid, "assistant", "Avec", "interrupted")
    store.set_edit(answer, "Avec rsync, en inversant la source et la destination.")
    (demo,) = demonstrations(store)
    assert demo.language == "fr"
    assert demo.example(STYLE)["messages"][0]["content"].startswith("Tu es Lanterne")
