"""Answer controls (answer.grounding, answer.length, answer.tone): each setting reaches the
instructions the model reads, in the answer's language."""

from __future__ import annotations

from pathlib import Path

import pytest

from lanterne.assistant.pipeline import Assistant
from lanterne.assistant.prompt import AnswerStyle, Source, build_messages
from lanterne.engine.host import ModelHost
from lanterne.foundation.settings import Settings, SettingsError

SOURCES = [Source(1, "/d/vpn.md", "", None, "Le VPN est WireGuard.")]


def _system(style: AnswerStyle, language: str, sources: list[Source] = SOURCES) -> str:
    return build_messages("Quel VPN ?", sources, language, style=style)[0]["content"]


def test_each_control_adds_its_instruction_in_the_answer_s_language() -> None:
    default = _system(AnswerStyle(), "en")
    assert "Answer only from the sources" in default and "Be concise." in default
    general = _system(AnswerStyle(grounding="general", length="short", tone="formal"), "en")
    assert "You may add general knowledge" in general
    assert "Answer only from the sources" not in general
    assert "one to three sentences" in general and "formal, professional tone" in general
    fr = _system(AnswerStyle(grounding="documents", length="detailed", tone="friendly"), "fr")
    assert "Réponds uniquement à partir des sources" in fr
    assert "réponse complète" in fr and "ton chaleureux" in fr
    assert "Answer" not in fr


def test_without_sources_there_is_nothing_to_ground_on() -> None:
    system = _system(AnswerStyle(grounding="documents", length="short"), "en", [])
    assert "No document was consulted" in system and "one to three sentences" in system
    assert "Answer only from the sources" not in system


def test_the_assistant_reads_the_controls_from_settings(lanterne_home: Path) -> None:
    settings = Settings()
    settings.set("answer.grounding", "general")
    settings.set("answer.tone", "formal")
    host = ModelHost()
    try:
        style = Assistant(settings, host, lanterne_home / "index.sqlite3").style()
    finally:
        host.shutdown()
    assert style == AnswerStyle(grounding="general", length="normal", tone="formal")
    with pytest.raises(SettingsError):
        settings.set("answer.length", "endless")


@pytest.mark.model
def test_the_model_reads_the_chosen_controls(lanterne_home: Path, gemma_model: Path) -> None:
    settings = Settings()
    settings.set("answer.length", "short")
    settings.set("answer.tone", "friendly")
    host = ModelHost()
    try:
        assistant = Assistant(settings, host, lanterne_home / "index.sqlite3")
        responder = assistant.open_responder(gemma_model)
        try:
            fitted = responder.fit("How long?", [], "en", [], 32, assistant.style())
        finally:
            responder.close()
    finally:
        host.shutdown()
    assert "Answer in one to three sentences." in fitted.prompt
    assert "Use a warm, friendly tone." in fitted.prompt
