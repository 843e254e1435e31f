"""A model's reasoning kept with its answer in the conversations database (migration m003):
saved as it streams and at the end, restored for the chat and for follow-ups, salvaged from a
damaged file, and exported as metadata only, never as part of the answer's messages."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from lanterne.assistant.answer import Answer
from lanterne.assistant.engine_info import EngineInfo
from lanterne.assistant.prompt import AnswerStyle
from lanterne.context import AppContext
from lanterne.conversations.demonstrations import demonstrations
from lanterne.conversations.pages import Value
from lanterne.conversations.salvage import message as salvaged_message
from lanterne.conversations.salvage import salvage
from lanterne.conversations.store import ConversationStore
from lanterne.engine.runtime import Timings
from lanterne.foundation.settings import Settings
from support.cli import lanterne

FIXTURES = Path(__file__).with_name("fixtures")
REASONING = "L'utilisateur veut savoir quand tourne rsync ; la source le dit."
ANSWER = "Chaque nuit à 2 h."


def _conversation(store: ConversationStore) -> tuple[int, int]:
    cid = store.create("Sauvegardes")
    store.add_message(cid, "user", "Quand tourne rsync ?")
    answer = store.add_message(cid, "assistant", "", "streaming")
    store.update_message(answer, text=ANSWER, status="complete", reasoning=REASONING)
    return cid, answer


def test_reasoning_is_kept_apart_from_the_answer(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3")
    try:
        cid, answer = _conversation(store)
        question, saved = store.messages(cid)
        assert (saved.text, saved.reasoning) == (ANSWER, REASONING)
        assert question.reasoning == ""
        store.update_message(answer, text=ANSWER + " Environ.")  # reasoning left as it was
        assert store.messages(cid)[1].reasoning == REASONING
        assert store.search("nuit") and not store.search("utilisateur")  # the answer only
        assert [m.reasoning for m in store.all_messages()] == ["", REASONING]
    finally:
        store.close()


def test_a_database_of_the_first_release_gains_the_column(tmp_path: Path) -> None:
    path = tmp_path / "conversations.sqlite3"
    shutil.copy(FIXTURES / "conversations_m001.sqlite3", path)
    store = ConversationStore(path)
    try:
        applied = [r[0] for r in store.db.execute("SELECT name FROM _lanterne_migrations")]
        assert applied[-1] == "m003_reasoning"
        titles = {c.title: c.id for c in store.conversations()}
        _question, answer = store.messages(titles["Sauvegardes"])
        assert answer.reasoning == "" and answer.text  # old answers: none, text untouched
        store.update_message(answer.id, text=answer.text, reasoning=REASONING)
        assert store.messages(titles["Sauvegardes"])[1].reasoning == REASONING
    finally:
        store.close()


def test_reasoning_is_salvaged_with_its_message(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    store = ConversationStore(path)
    try:
        _cid, answer = _conversation(store)
    finally:
        store.close()
    assert salvage(path).messages[answer]["reasoning"] == REASONING
    # A row written before m003 holds no reasoning value at all (SQLite adds none).
    old_row: list[Value] = [
        1,
        "assistant",
        "Oui.",
        "complete",
        "[]",
        "{}",
        "2026-01-10",
        None,
        None,
    ]
    found = salvaged_message([*old_row, None])
    assert found is not None and found["reasoning"] == ""
    assert salvaged_message([*old_row, None, 42]) is None  # not a reasoning: not a message


@pytest.mark.gui
def test_the_recorder_saves_reasoning_as_it_streams_and_the_chat_gets_it_back(
    qtbot: QtBot, tmp_path: Path
) -> None:
    from lanterne.desktop.answer_recorder import AnswerRecorder, ConversationRef
    from lanterne.desktop.chat_view import Turn
    from lanterne.desktop.saved_turns import turns_from_messages
    from lanterne.desktop.store_thread import StoreThread

    path = tmp_path / "c.sqlite3"
    thread = StoreThread(lambda: ConversationStore(path))
    recorder = AnswerRecorder(thread)
    turn = Turn(question="Quand tourne rsync ?")
    conversation = ConversationRef()
    recorder.begin_question(conversation, turn)
    for piece in REASONING.split(" "):  # the model reasons for a while, no answer yet
        turn.reasoning += piece + " "
        qtbot.wait(150)
    assert thread.wait_idle(10)
    store = ConversationStore(path)
    try:  # a crash now would keep the reasoning so far
        assert conversation.id is not None
        partial = store.messages(conversation.id)[1]
        assert partial.status == "streaming" and partial.reasoning.startswith("L'utilisateur")
    finally:
        store.close()
    engine = EngineInfo("remote", "m", "m", "m", reasoning_format="server")
    answer = Answer(
        turn.question, ANSWER, "fr", [], Timings(3, 1.0, 5, 2.0, 1.0), engine, reasoning=REASONING
    )
    recorder.finish(ANSWER, "complete", answer)
    assert thread.wait_idle(10)
    thread.close()
    store = ConversationStore(path)
    try:
        turns, history = turns_from_messages(store.messages(conversation.id))
    finally:
        store.close()
    assert (turns[0].answer, turns[0].reasoning) == (ANSWER, REASONING)
    assert (history[0].answer, history[0].reasoning) == (ANSWER, REASONING)


def test_the_export_puts_reasoning_in_metadata_never_in_the_messages(tmp_path: Path) -> None:
    ctx = AppContext(Settings())
    store = ConversationStore(ctx.conversations_path)
    try:
        cid, first = _conversation(store)
        store.add_message(cid, "user", "Et le week-end ?")
        second = store.add_message(cid, "assistant", "Aussi.")
        examples = {d.answer.id: d.example(AnswerStyle()) for d in demonstrations(store)}
    finally:
        store.close()
        ctx.close()
    assert examples[first]["metadata"]["reasoning"] == REASONING
    assert examples[second]["metadata"]["reasoning"] is None
    follow_up = examples[second]["messages"]  # the earlier turn, as history
    assert [set(m) for m in follow_up] == [{"role", "content"}] * len(follow_up)
    assert all(REASONING not in m["content"] for m in follow_up)
    assert follow_up[2] == {"role": "assistant", "content": ANSWER}

    written = lanterne("export", "-")
    assert written.returncode == 0, written.stderr
    lines = [json.loads(line) for line in written.stdout.splitlines()]
    assert [line["metadata"]["reasoning"] for line in lines] == [REASONING, None]
    assert REASONING not in json.dumps([line["messages"] for line in lines], ensure_ascii=False)
    bare = lanterne("export", "-", "--no-metadata")
    assert REASONING not in bare.stdout and ANSWER in bare.stdout
