from __future__ import annotations

from pathlib import Path

import pytest

from lanterne.engine.catalog import load_catalog
from lanterne.engine.model_info import ModelInfo
from lanterne.engine.sampling import family_of, recommended


def info(arch: str, name: str) -> ModelInfo:
    return ModelInfo(Path("/m.gguf"), name, arch, 0, 0, 0, 0, None, 0)


@pytest.mark.parametrize(
    ("arch", "name", "family", "temperature"),
    [
        ("qwen3moe", "Qwen3-30B-A3B-Instruct-2507", "qwen3", 0.7),
        ("gpt-oss", "gpt-oss-20b", "gpt-oss", 1.0),
        ("llama", "Mixtral-8x7B-Instruct-v0.1", "mistral", 0.7),  # Mixtral's GGUF says llama
        ("llama", "Meta Llama 3.1 8B Instruct", "llama", 0.6),
        ("gemma3", "Gemma 3 270m", "gemma", 1.0),
        ("granitemoe", "Granite 3.1 3b A800M Instruct", "granite", 0.2),
        ("granitehybrid", "Model", "granite", 0.2),  # Granite 4.0 H, whatever its file says
        ("lfm2moe", "LFM2-8B-A1B", "lfm2", 0.3),
        ("qwen35moe", "Qwen3.6 35B A3B", "qwen3", 0.7),
        ("gemma4", "Gemma 4 26B A4B It", "gemma", 1.0),
        ("nemotron_h_moe", "NVIDIA Nemotron 3 Nano 30B A3B", "nemotron", 1.0),
        ("mistral4", "Mistral Small 4 119B 2603", "mistral-small-4", 0.1),
        ("newarch", "Something New", "generic", 0.7),
    ],
)
def test_family_defaults(arch: str, name: str, family: str, temperature: float) -> None:
    assert family_of(info(arch, name)).name == family
    assert recommended(info(arch, name), max_tokens=100).temperature == temperature


def test_user_choices_override_the_family() -> None:
    params = recommended(info("qwen3moe", "Qwen3"), max_tokens=64, temperature=0.1)
    assert (params.max_tokens, params.temperature, params.top_k) == (64, 0.1, 20)
    assert recommended(info("qwen3moe", "Qwen3"), max_tokens=64, temperature=-1).temperature == 0.7


def test_every_catalog_model_gets_the_temperature_its_card_recommends() -> None:
    """The catalog records each card's sampling; the engine's families must agree with it."""
    for model in load_catalog().chat_models():
        if model.sampling is None:
            continue
        got = recommended(info(model.shape.architecture, model.name), max_tokens=64)
        assert got.temperature == model.sampling.temperature, model.id
