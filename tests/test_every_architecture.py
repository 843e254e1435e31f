"""Every architecture of the catalog answers cleanly through `lanterne ask`, and follows up.

Each tiny model has its family's real chat template and tokenizer (or a shipped tokenizer with
the family's control tokens). A GBNF grammar (`ask --grammar`) makes the random weights write
what the real model writes: reasoning in the family's own markers, in the letters a-m, then the
answer in the letters n-z, so that any reasoning leaking into the answer, or a marker shown,
fails the test. What the user sees: the answer alone; `--json` gives the reasoning apart and
names the family parser that ran; a follow-up of the same conversation answers too and reuses
the evaluated prompt.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from lanterne.assistant.pipeline import Assistant, Finished
from lanterne.context import AppContext
from lanterne.engine.host import ModelHost
from lanterne.engine.reasoning import detect_format
from lanterne.engine.runtime import LocalModel
from lanterne.foundation.settings import Settings
from support import llama_sources, tiny_archs
from support.cli import lanterne

pytestmark = pytest.mark.model

REASONING = "[a-m ]{6,24}"
ANSWER = "[n-z] [n-z ]{4,16}"
EXPECTED_FORMAT = {
    "gpt-oss": "harmony",
    "qwen3moe-thinking": "think",
    "qwen3moe-instruct": "none",
    "qwen35moe": "think",
    "nemotron_h_moe": "think",
    "gemma4": "gemma4",
    "mistral4": "mistral",
    "granitehybrid": "none",
    "lfm2moe": "none",
}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """Each architecture's file, written once for the module (on first use)."""
    folder = tmp_path_factory.mktemp("architectures")
    yield _Lazy(folder)


class _Lazy(dict[str, Path]):
    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder

    def __missing__(self, key: str) -> Path:
        path = tiny_archs.write(key, self.folder / f"{key}.gguf")
        self[key] = path
        return path


def _token(model: LocalModel, text: str) -> str:
    """`text` as one token of the grammar (control tokens have no text a grammar can match)."""
    ids = model.tokenize(text)
    assert len(ids) == 1, f"{text!r} is not one token of this vocabulary"
    return f"<[{ids[0]}]>"


def _grammar(model: LocalModel, prompt: str) -> str:
    """What the family writes: its reasoning block (when it reasons), then its answer."""
    fmt = model.reasoning_format

    def t(text: str) -> str:
        return _token(model, text)

    if fmt == "harmony":
        analysis = f'{t("<|channel|>")} "analysis" {t("<|message|>")} {REASONING} {t("<|end|>")}'
        final = f'{t("<|start|>")} "assistant" {t("<|channel|>")} "final" {t("<|message|>")}'
        return f"root ::= {analysis} {final} {ANSWER}"
    opening, closing = {
        "think": ("<think>", "</think>"),
        "mistral": ("[THINK]", "[/THINK]"),
        "gemma4": ("<|channel>", "<channel|>"),
    }.get(fmt, ("", ""))
    if not opening:
        return f"root ::= {ANSWER}"
    tail = prompt.rstrip()
    if tail.endswith(closing):  # the template turned thinking off in the prompt itself
        return f"root ::= {ANSWER}"
    label = ' "thought\\n"' if fmt == "gemma4" else ""
    start = "" if tail.endswith(opening) else f"{t(opening)}{label} "  # opened by the prompt?
    return f'root ::= {start}{REASONING} {t(closing)} " "? {ANSWER}'


def _settings(model: Path) -> Settings:
    settings = Settings()
    settings.set("model.path", str(model))
    settings.set("model.context_size", 2048)
    settings.set("model.max_answer_tokens", 96)
    settings.set("answer.reasoning", "high")  # thinking on where a switch exists
    settings.set("model.temperature", 0.0)  # the same answer in both runs
    return settings


def _first_prompt(model: Path, question: str) -> tuple[str, str]:
    """(grammar, reasoning format) for the first turn, from the prompt Lanterne renders."""
    settings = _settings(model)
    host = ModelHost()
    try:
        assistant = Assistant(settings, host, Path("unused.sqlite3"))
        responder = assistant.open_responder()
        fitted = responder.fit(question, [], "fr", [], 96, assistant.style())
        local = host.model
        assert local is not None
        return _grammar(local, fitted.prompt), local.reasoning_format
    finally:
        host.shutdown()


@pytest.mark.parametrize("key", sorted(tiny_archs.SPECS))
def test_ask_answers_cleanly_and_follows_up(
    key: str, written: dict[str, Path], tmp_path: Path
) -> None:
    path = written[key]
    spec = tiny_archs.SPECS[key]
    template = llama_sources.chat_template(spec.template)
    assert detect_format(template) == EXPECTED_FORMAT[key]
    # Long enough that a hybrid model keeps a copy of its state for the follow-up (a prompt
    # of a few dozen tokens is simply read again: engine/prompt_cache.py's COPY_INTERVAL).
    question = (
        "Nous avons installé le serveur de messagerie la semaine dernière, avec les réglages "
        "donnés par le fournisseur, puis nous avons ajouté les comptes des nouveaux employés "
        "et les alias des services. Depuis, certains messages partent en retard. Où se trouve "
        "le fichier de configuration qui règle la file d'attente, et que faut-il y changer ?"
    )
    grammar, fmt = _first_prompt(path, question)
    assert fmt == EXPECTED_FORMAT[key]
    grammar_file = tmp_path / "family.gbnf"
    grammar_file.write_text(grammar, encoding="utf-8")
    settings = _settings(path)
    settings.save()

    shown = lanterne("ask", question, "--no-docs", "--grammar", str(grammar_file))
    assert shown.returncode == 0, shown.stderr
    said = lanterne("ask", question, "--no-docs", "--grammar", str(grammar_file), "--json")
    assert said.returncode == 0, said.stderr
    result = json.loads(said.stdout)

    answer, reasoning = result["answer"], result["reasoning"]
    assert re.fullmatch(r"[n-z][n-z ]*", answer), answer  # no reasoning, no marker
    assert shown.stdout.strip() == answer  # the plain output is the answer alone
    assert result["model"]["reasoning_format"] == fmt
    assert result["model"]["architecture"] == spec.arch_name
    timings = result["timings"]
    assert timings["first_answer_ms"] >= timings["ttft_ms"]
    if fmt == "none" or reasoning == "":
        assert fmt in ("none", "think"), "a reasoning family wrote no reasoning"
    else:
        assert re.fullmatch(r"[a-m ]+", reasoning), reasoning
        assert timings["first_answer_ms"] > timings["ttft_ms"]

    # The follow-up, as the GUI asks it: the first turn (with its reasoning) as history.
    context = AppContext(_settings(path))
    try:
        events = list(context.assistant.ask(question, use_docs=False, grammar=grammar))
        first = events[-1]
        assert isinstance(first, Finished)
        follow_grammar, _ = _first_prompt(path, "Et le suivant ?")
        events = list(
            context.assistant.ask(
                "Et le suivant ?",
                use_docs=False,
                history=[first.answer.as_past_turn()],
                grammar=follow_grammar,
            )
        )
    finally:
        context.close()
    follow = events[-1]
    assert isinstance(follow, Finished)
    assert re.fullmatch(r"[n-z][n-z ]*", follow.answer.text), follow.answer.text
    assert not follow.answer.timings.cut_short
    # The system prompt and the first question at least were not evaluated again.
    assert follow.answer.timings.reused_tokens > 0
