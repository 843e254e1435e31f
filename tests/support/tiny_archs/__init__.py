"""Tiny random-weight models of every architecture in the catalog, with the family's real chat
template and tokenizer from the llama.cpp sources the installed llama-cpp-python was built from.

`SPECS` maps a test name ("gpt-oss", "qwen3moe-thinking", ...) to its `TinySpec`; `write(key,
path)` makes the file. Each module holds one architecture's tensors and keys, as llama.cpp's
converter writes them, at a width of 64 so the files stay small (the vocabulary dominates).
"""

from __future__ import annotations

from pathlib import Path

from support.tiny_archs import (
    gemma4,
    gpt_oss,
    granitehybrid,
    lfm2moe,
    mistral4,
    nemotron_h_moe,
    qwen3moe,
    qwen35moe,
)
from support.tiny_archs.common import TinySpec

SPECS: dict[str, TinySpec] = {
    spec.key: spec
    for spec in (
        qwen3moe.THINKING,
        qwen3moe.INSTRUCT,
        gpt_oss.SPEC,
        gemma4.SPEC,
        qwen35moe.SPEC,
        granitehybrid.SPEC,
        lfm2moe.SPEC,
        nemotron_h_moe.SPEC,
        mistral4.SPEC,
    )
}


def write(key: str, path: Path, seed: int = 0) -> Path:
    return SPECS[key].write(path, seed)
