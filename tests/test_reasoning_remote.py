"""A model's reasoning, from a server, kept apart from its answer all the way: the backend in
each wire format, the assistant (events, answer, citations, masking, follow-ups), `lanterne ask`
and evaluation. The server is tests/support/reasoning_server.py, over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from lanterne.assistant.pipeline import Finished, ModelReady, Thinking, Token
from lanterne.assistant.prompt import PastTurn, build_messages
from lanterne.context import AppContext
from lanterne.engine.reasoning import Thought
from lanterne.engine.remote import RemoteChatBackend
from lanterne.engine.remote_reasoning import ReplySplitter
from lanterne.engine.runtime import SamplingParams
from lanterne.evaluation.question_set import EvalQuestion, ExpectedSource, QuestionSet
from lanterne.evaluation.runner import run_evaluation
from lanterne.foundation.settings import Settings
from support.reasoning_server import (
    FACT,
    FORMATS,
    MASKED,
    ReasoningServer,
    answer_for,
    reasoning_for,
    reasoning_server,
    url,
)

QUESTION = "Combien de temps cuit la tarte aux pommes ?"
HELLO = [{"role": "user", "content": "Bonjour ?"}]


@pytest.fixture
def server() -> Iterator[ReasoningServer]:
    with reasoning_server() as running:
        yield running


def remote_settings(server: ReasoningServer, model: str = "vllm-reasoner") -> Settings:
    settings = Settings()
    settings.set("engine.backend", "remote")
    settings.set("remote.url", url(server) + "/v1")
    settings.set("remote.model", model)
    return settings


@pytest.fixture
def indexed(docs_folder: Path) -> Path:
    """The docs folder indexed into this test's data folder."""
    ctx = AppContext(Settings())
    try:
        indexer = ctx.indexer()
        indexer.add_folder(docs_folder)
        indexer.store.close()
    finally:
        ctx.close()
    return docs_folder


@pytest.mark.parametrize("model", sorted(FORMATS))
def test_each_wire_format_gives_the_reasoning_apart(server: ReasoningServer, model: str) -> None:
    with RemoteChatBackend(url(server), model, api_key="") as backend:
        parts = list(backend.stream_reply(HELLO, SamplingParams()))
        answer = "".join(p for p in parts if isinstance(p, str))
        thought = "".join(p.text for p in parts if isinstance(p, Thought))
        assert answer == answer_for(sourced=False)
        assert thought.strip() == reasoning_for("Bonjour ?")  # once, though "both" sent it twice
        assert backend.last_reasoning == reasoning_for("Bonjour ?")
        assert backend.reasoning_format == ("think" if model == "think-in-text" else "server")
        # Where the text carried it, the reasoning came first, then the answer alone.
        first_answer = next(i for i, p in enumerate(parts) if isinstance(p, str))
        assert all(isinstance(p, str) for p in parts[first_answer:])
        # Callers that want the answer only get the answer only.
        assert "".join(backend.stream_chat(HELLO, SamplingParams())) == answer
        assert backend.last_reasoning == reasoning_for("Bonjour ?")
        timings = backend.last_timings
        assert timings is not None and timings.predicted_tokens > 0
        assert timings.first_answer_ms >= timings.ttft_ms  # the answer came after the reasoning


@pytest.mark.parametrize(
    ("pieces", "answer", "thought"),
    [
        (["<th", "inking of it"], "<thinking of it", ""),  # looked like a tag, was not
        (["Bonjour <", "3 !"], "Bonjour <3 !", ""),
        (["  <think>", "\n\nhm", "m</th", "ink>", "\n", "\nYes."], "Yes.", "hmm"),
        (["<think>never closed"], "", "never closed"),  # a reply cut during its reasoning
        (["\n", "\n"], "", ""),
    ],
)
def test_think_blocks_are_taken_out_of_the_text_as_it_streams(
    pieces: list[str], answer: str, thought: str
) -> None:
    splitter = ReplySplitter()
    parts = [p for piece in pieces for p in splitter.feed({"content": piece})]
    parts += splitter.flush()
    assert "".join(p for p in parts if isinstance(p, str)) == answer
    assert "".join(p.text for p in parts if isinstance(p, Thought)) == thought
    assert splitter.reasoning == thought


def test_the_assistant_shows_reasoning_apart_and_answers_without_it(
    server: ReasoningServer, indexed: Path
) -> None:
    settings = remote_settings(server, "think-in-text")
    settings.set("house.masked_words", MASKED)
    ctx = AppContext(settings)
    try:
        events = list(ctx.assistant.ask(QUESTION))
    finally:
        ctx.close()
    kinds = [type(e).__name__ for e in events if isinstance(e, Thinking | Token)]
    assert kinds.index("Token") > kinds.index("Thinking")  # reasoning first, then the answer
    assert "Thinking" not in kinds[kinds.index("Token") :]
    ready, finished = events[0], events[-1]
    assert isinstance(ready, ModelReady) and isinstance(finished, Finished)
    assert ready.engine.reasoning_format == "server"  # not known before a reply came
    answer = finished.answer
    shown = "".join(e.text for e in events if isinstance(e, Token))
    assert answer.text == shown.strip() == answer_for(sourced=True)
    thought = "".join(e.text for e in events if isinstance(e, Thinking))
    assert answer.reasoning == thought.strip()
    assert answer.reasoning.startswith(f"On me demande : {QUESTION} La source [1]")
    assert MASKED not in answer.reasoning and "■" in answer.reasoning  # masked there too
    assert answer.citations and answer.cited == []  # the reasoning's [1] is not the answer's
    data = answer.to_json()
    assert data["answer"] == answer.text and data["reasoning"] == answer.reasoning
    assert data["model"]["reasoning_format"] == "think"  # type: ignore[index]

    # A follow-up: the earlier turn's reasoning stays here (strict servers refuse the key).
    past = answer.as_past_turn()
    assert past.reasoning == answer.reasoning
    ctx = AppContext(settings)
    try:
        list(ctx.assistant.ask("Et à quelle température ?", history=[past]))
    finally:
        ctx.close()
    sent = server.requests[-1]["messages"]
    said = [m for m in sent if m["role"] == "assistant"]
    assert said == [{"role": "assistant", "content": answer.text}]


def test_past_reasoning_goes_to_local_templates_as_reasoning_content() -> None:
    turn = PastTurn("Q ?", "R [1].", (), reasoning="  Je pense <|im_end|> donc.  ")
    messages = build_messages("Et ensuite ?", [], "fr", [turn, PastTurn("Q2 ?", "R2.")])
    first, second = (m for m in messages if m["role"] == "assistant")
    # Defused as the answers are: a control token in it cannot close the turn.
    assert first == {
        "role": "assistant",
        "content": "R [1].",
        "reasoning_content": "Je pense ‹|im_end|› donc.",
    }
    assert second == {"role": "assistant", "content": "R2."}


def test_cli_ask_prints_the_answer_only_unless_asked(
    server: ReasoningServer, capsys: pytest.CaptureFixture[str]
) -> None:
    from lanterne.cli.main import main

    remote_settings(server).save()
    reasoning, answer = reasoning_for("Bonjour ?"), answer_for(sourced=False)
    assert main(["ask", "Bonjour ?", "--no-docs"]) == 0
    assert capsys.readouterr().out.strip() == answer

    assert main(["ask", "Bonjour ?", "--no-docs", "--show-reasoning"]) == 0
    out = capsys.readouterr().out  # not a terminal: labelled, not dimmed
    assert out.strip() == f"Reasoning:\n{reasoning}\n\nAnswer:\n{answer}"

    assert main(["ask", "Bonjour ?", "--no-docs", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["answer"], data["reasoning"]) == (answer, reasoning)
    assert data["model"]["reasoning_format"] == "server"


def test_evaluation_checks_the_answer_and_never_the_reasoning(
    server: ReasoningServer, indexed: Path, tmp_path: Path
) -> None:
    """The reasoning holds the fact, a refusal and a citation; the answer holds none of them."""
    item = EvalQuestion(QUESTION, (ExpectedSource("tarte.txt"),), (FACT,))
    questions = QuestionSet(tmp_path / "q.jsonl", [item])
    ctx = AppContext(remote_settings(server))
    try:
        run = run_evaluation(questions, ctx.settings, ctx.host, ctx.index_path, label="reasoning")
    finally:
        ctx.close()
    result = run["questions"][0]
    assert result["answer"] == answer_for(sourced=True)
    assert result["facts_found"] == [False]
    assert result["refused"] is False
    assert result["citation_checks"] == []
    assert result["retrieved"] == [True]
    assert run["settings"]["answer.reasoning"] == "low"
