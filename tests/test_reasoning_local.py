"""The local responder asks the model's thread for reasoning and renders with answer.reasoning:
a tiny model with Qwen3's real chat template, made to write a think block by a grammar
(reasoning in letters a-m, the answer in n-z, so a letter on the wrong side shows a leak)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from lanterne.assistant.prompt import PastTurn
from lanterne.assistant.responders import LocalResponder
from lanterne.engine.host import ModelHost
from lanterne.engine.reasoning import Thought
from lanterne.engine.runtime import LocalModel
from support import llama_sources
from support.tiny_moe import write_tiny_moe_gguf

pytestmark = pytest.mark.model

GRAMMAR = 'root ::= "<think>" [a-m ]{10,30} "</think>" [n-z] [n-z ]{5,20}'


@pytest.fixture
def qwen3(tmp_path: Path) -> Iterator[LocalModel]:
    template = llama_sources.chat_template("Qwen-Qwen3-0.6B")
    path = write_tiny_moe_gguf(tmp_path / "qwen3.gguf", chat_template=template)
    model = LocalModel.load(path, n_ctx=1024, n_threads=2)
    yield model
    model.close()


def test_the_local_responder_streams_thoughts_apart(qwen3: LocalModel) -> None:
    host = ModelHost()
    try:
        responder = LocalResponder(host, qwen3, "high")
        assert responder.info.reasoning_format == "think"
        assert responder.info.to_json()["reasoning_format"] == "think"
        past = PastTurn("Bonjour ?", "Bonjour.", reasoning="il salue")
        fitted = responder.fit("Où est Paris ?", [], "fr", [past], 120)
        assert not fitted.prompt.rstrip().endswith("</think>")  # thinking on at "high"
        params = replace(responder.sampling(120, 0.0), grammar=GRAMMAR, seed=5)
        pieces = list(responder.stream(fitted, params, None))
        off = LocalResponder(host, qwen3, "off").fit("Où est Paris ?", [], "fr", [past], 40)
    finally:
        host.shutdown()
    thought = "".join(p.text for p in pieces if isinstance(p, Thought))
    answer = "".join(p for p in pieces if isinstance(p, str))
    assert re.fullmatch(r"[a-m ]+", thought) and re.fullmatch(r"[n-z][n-z ]*", answer)
    assert thought.strip() == qwen3.last_reasoning
    # Qwen3's switch: answer.reasoning=off closes the think block in the prompt itself.
    assert off.prompt.rstrip().endswith("</think>")
