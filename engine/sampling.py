"""Sampling settings each model family's authors recommend, which a user can override.

Values are from the model cards' "best practices" / generation_config.json. The family is read
from the GGUF: its architecture, then its name (Mixtral and Llama share the `llama` one).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from lanterne.engine.model_info import ModelInfo
from lanterne.engine.runtime import SamplingParams


@dataclass(frozen=True)
class Family:
    name: str
    architectures: tuple[str, ...]
    name_hints: tuple[str, ...]
    params: SamplingParams


FAMILIES = (
    # Qwen3 Instruct-2507: temperature 0.7, top_p 0.8, top_k 20.
    Family(
        "qwen3",
        ("qwen3", "qwen3moe", "qwen35", "qwen35moe"),  # Qwen3.5 / 3.6 cards: the same values
        ("qwen3",),
        SamplingParams(temperature=0.7, top_p=0.8, top_k=20, repeat_penalty=1.0),
    ),
    # gpt-oss: temperature 1.0, top_p 1.0.
    Family(
        "gpt-oss",
        ("gpt-oss",),
        ("gpt-oss",),
        SamplingParams(temperature=1.0, top_p=1.0, top_k=0, repeat_penalty=1.0),
    ),
    # Gemma 3 and 4: temperature 1.0, top_k 64, top_p 0.95.
    Family(
        "gemma",
        ("gemma4", "gemma3", "gemma2", "gemma"),
        ("gemma",),
        SamplingParams(temperature=1.0, top_p=0.95, top_k=64, repeat_penalty=1.0),
    ),
    # LFM2: temperature 0.3, repetition penalty 1.05.
    Family(
        "lfm2",
        ("lfm2", "lfm2moe"),
        ("lfm2",),
        SamplingParams(temperature=0.3, top_p=0.95, top_k=40, repeat_penalty=1.05),
    ),
    # Nemotron 3 Nano: temperature 1.0, top_p 1.0 (for reasoning and for chat alike).
    Family(
        "nemotron",
        ("nemotron_h_moe", "nemotron_h"),
        ("nemotron",),
        SamplingParams(temperature=1.0, top_p=1.0, top_k=0, repeat_penalty=1.0),
    ),
    # Mistral Small 4: temperature 0.1 (its card; reasoning on or off).
    Family(
        "mistral-small-4",
        ("mistral4",),
        ("mistral-small-4", "mistral small 4"),
        SamplingParams(temperature=0.1, top_p=0.95, top_k=40, repeat_penalty=1.0),
    ),
    # Mistral / Mixtral instruct: temperature 0.7.
    Family(
        "mistral",
        (),
        ("mixtral", "mistral"),
        SamplingParams(temperature=0.7, top_p=0.95, top_k=40, repeat_penalty=1.0),
    ),
    # Llama 3.x instruct: temperature 0.6, top_p 0.9.
    Family(
        "llama",
        ("llama",),
        ("llama",),
        SamplingParams(temperature=0.6, top_p=0.9, top_k=40, repeat_penalty=1.0),
    ),
    # Granite: IBM's examples decode near-greedily.
    Family(
        "granite",
        ("granite", "granitemoe", "granitehybrid", "granitemoehybrid"),  # llama.cpp's, HF's
        ("granite",),
        SamplingParams(temperature=0.2, top_p=0.95, top_k=40, repeat_penalty=1.0),
    ),
)
GENERIC = Family("generic", (), (), SamplingParams(temperature=0.7, repeat_penalty=1.05))


def family_of(info: ModelInfo) -> Family:
    name = info.name.lower()
    for family in FAMILIES:  # the name first: Mixtral's GGUF architecture is "llama"
        if any(hint in name for hint in family.name_hints):
            return family
    for family in FAMILIES:
        if info.architecture in family.architectures:
            return family
    return GENERIC


def recommended(
    info: ModelInfo, *, max_tokens: int, temperature: float | None = None
) -> SamplingParams:
    """The family's settings, with the answer length and any temperature the user chose."""
    params = replace(family_of(info).params, max_tokens=max_tokens)
    if temperature is not None and temperature >= 0:
        params = replace(params, temperature=temperature)
    return params
