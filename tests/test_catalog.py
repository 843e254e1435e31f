"""The shipped model catalog: complete, consistent, and read with clear errors when damaged."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from lanterne.engine.catalog import (
    CATALOG_PATH,
    UNVERIFIABLE,
    CatalogError,
    load_catalog,
    parse_catalog,
)
from lanterne.engine.gguf_header import read_summary
from lanterne.engine.shape_estimate import ModelShape
from support import tiny_moe

# llama.cpp's names of the architectures the tests build tiny models of and load: a chat entry
# of another architecture would reach users untested. (gemma3: the tiny test model's.)
TESTED_ARCHITECTURES = {
    "gpt-oss",
    "qwen3moe",
    "granitehybrid",
    "lfm2moe",
    "nemotron_h_moe",
    "qwen35moe",
    "mistral4",
    "gemma4",
    "gemma3",
}
RAM_OF_TIER = {"small": {8}, "medium": {16, 32}, "large": {64}}


def test_every_entry_is_complete() -> None:
    catalog = load_catalog()
    assert catalog.version
    for m in catalog.models:
        assert m.repo.count("/") == 1 and m.licence and m.licence_url.startswith("https://")
        assert m.description and m.role in ("chat", "embedding")
        assert m.tier in ("small", "medium", "large")
        assert m.ram_tier in RAM_OF_TIER[m.tier], m.id
        for q in m.quants:
            assert q.size > 0 and q.files
            # At the repository's top, or in one folder of it (split GGUFs of unsloth, bartowski).
            assert all(f.endswith(".gguf") and f.count("/") <= 1 for f in q.files)
        assert m.quant().name == m.default_quant
        # The shape agrees with the published parameter count (within 15%).
        assert m.shape.n_params == pytest.approx(m.params_total, rel=0.15), m.id
        assert {u.partition(":")[0] for u in m.unverified} <= set(UNVERIFIABLE)
        if m.role == "chat":
            assert m.shape.architecture in TESTED_ARCHITECTURES, m.id
            assert m.sampling is not None or not m.verified("sampling"), m.id


def test_it_leads_with_french_and_english_mixtures_of_experts_for_every_machine_size() -> None:
    catalog = load_catalog()
    chat = catalog.chat_models()
    # Every model it recommends is a mixture of experts; the small dense starter is offered
    # beside the recommendation while it downloads (no MoE near 1 GB qualified: see "about").
    assert chat[0].moe and all(m.moe for m in chat if not m.starter)
    assert [m.id for m in chat if not m.moe] == ["granite-4.0-h-1b"]
    for ram in (8, 16, 32, 64):
        assert any(
            m.ram_tier == ram and m.moe and {"fr", "en"} <= set(m.languages) for m in chat
        ), ram
    # Mistral AI's own mixture of experts leads the largest tier (it replaced Mixtral 8x7B).
    (largest,) = [m for m in chat if m.ram_tier == 64]
    assert largest.maker == "Mistral AI" and largest.rank == max(m.rank for m in chat)
    assert not any("mixtral" in m.id for m in catalog.models)
    (embedding, *_others) = catalog.embedding_models()
    assert {"fr", "en"} <= set(embedding.languages) and embedding.embedding


def test_lookup_by_id_repo_or_name_and_a_clear_error_otherwise() -> None:
    catalog = load_catalog()
    qwen = catalog.get("qwen3-30b-a3b-instruct-2507")
    assert catalog.get("unsloth/qwen3-30b-a3b-instruct-2507-gguf") is qwen
    assert catalog.get("Qwen3 30B A3B Instruct 2507") is qwen
    assert qwen.quant("q8_0").files == ("Qwen3-30B-A3B-Instruct-2507-Q8_0.gguf",)
    with pytest.raises(
        CatalogError, match=r"No model named 'llama-9000' .* Known: granite-4.0-h-tiny"
    ):
        catalog.get("llama-9000")
    with pytest.raises(CatalogError, match="has no Q2_K file; available: Q4_K_M, Q8_0"):
        qwen.quant("Q2_K")


def test_descriptions_follow_the_interface_language() -> None:
    from lanterne.foundation.translation import set_language

    model = load_catalog().get("mistral-small-4-119b")
    assert "64 GB workstation" in model.description
    set_language("fr")
    try:
        assert "station de travail de 64\u00a0Go" in model.description
    finally:
        set_language("en")


def test_french_texts_keep_french_typography() -> None:
    """A non-breaking space before : ; ? ! and inside « », as French typesetting wants."""
    for m in load_catalog().models:
        for text in (m.descriptions.get("fr", ""), m.licence_notes.get("fr", "")):
            for i, char in enumerate(text):
                if char in ":;?!»":
                    assert text[i - 1] in "\u00a0\u202f", (m.id, text[max(0, i - 20) : i + 1])
                if char == "«":
                    assert text[i + 1] in "\u00a0\u202f", (m.id, text[i : i + 20])


def test_a_damaged_catalog_is_reported(tmp_path: Path) -> None:
    raw = json.loads(CATALOG_PATH.read_text(encoding="utf-8"))
    with pytest.raises(CatalogError, match=r"damaged .*Reinstall Lanterne"):
        parse_catalog("{not json")
    del raw["models"][0]["quants"]
    with pytest.raises(CatalogError, match="damaged"):
        parse_catalog(json.dumps(raw))
    raw = json.loads(CATALOG_PATH.read_text(encoding="utf-8"))
    raw["models"].append(raw["models"][0])
    with pytest.raises(CatalogError, match="lists a model twice"):
        parse_catalog(json.dumps(raw))
    with pytest.raises(CatalogError, match="cannot be read"):
        load_catalog(tmp_path / "missing.json")


def _damaged(raw: dict[str, Any], model_id: str, **changes: object) -> str:
    """The error a catalog gets with `changes` made to the entry `model_id`."""
    raw = copy.deepcopy(raw)
    entry = next(m for m in raw["models"] if m["id"] == model_id)
    entry.update(changes)
    with pytest.raises(CatalogError, match="damaged") as info:
        parse_catalog(json.dumps(raw))
    return str(info.value)


def test_new_fields_are_checked() -> None:
    raw = json.loads(CATALOG_PATH.read_text(encoding="utf-8"))
    mistral = "mistral-small-4-119b"
    assert "ram_tier must be one of 8, 16, 32, 64" in _damaged(raw, mistral, ram_tier=48)
    assert "ram_tier" in _damaged(raw, mistral, ram_tier=True)
    assert "'speed' in unverified" in _damaged(raw, mistral, unverified=["speed"])
    # A quantization named in unverified must exist; only files and sizes are per file.
    assert "'size:Q2_K'" in _damaged(raw, mistral, unverified=["size:Q2_K"])
    assert "'licence:Q3_K_M'" in _damaged(raw, mistral, unverified=["licence:Q3_K_M"])
    for sampling in ({"top_p": 0.9}, {"temperature": 3}, {"temperature": 0.7, "top_k": 2.5}):
        assert "sampling must give a temperature" in _damaged(raw, mistral, sampling=sampling)
    reasonings: list[dict[str, object]] = [
        {"control": "think_harder", "values": [True, False], "default": True, "off": False},
        {"control": "reasoning_effort", "values": ["none", "high"], "default": None, "off": "low"},
        {"control": "enable_thinking", "values": [], "default": None, "off": None},
    ]
    for reasoning in reasonings:
        assert "reasoning needs a known control" in _damaged(raw, mistral, reasoning=reasoning)
    bad_files = [{"name": "Q3_K_M", "files": ["../escape.gguf"], "size": 1}]
    assert "../escape.gguf is not a .gguf file of the repository" in _damaged(
        raw, mistral, quants=bad_files, default_quant="Q3_K_M"
    )
    deep = [{"name": "Q3_K_M", "files": ["a/b/c.gguf"], "size": 1}]
    assert "a/b/c.gguf" in _damaged(raw, mistral, quants=deep, default_quant="Q3_K_M")


def test_what_could_not_be_checked_is_said_and_reported() -> None:
    catalog = load_catalog()
    mistral = catalog.get("mistral-small-4-119b")
    assert not mistral.verified("size") and not mistral.verified("files", "Q3_K_M")
    assert mistral.verified("licence")
    gemma = catalog.get("gemma-4-26b-a4b")
    assert gemma.verified("files", "q4_k_m") and not gemma.verified("files", "Q8_0")
    data = mistral.to_json()
    assert data["unverified"] == ["files", "size", "reasoning"] and data["ram_tier"] == 64
    assert data["reasoning"] == {
        "control": "reasoning_effort",
        "values": ["none", "high"],
        "default": None,
        "off": "none",
        "sampling": {"temperature": 0.7},
    }
    qwen = catalog.get("qwen3.6-35b-a3b").to_json()
    assert qwen["sampling"] == {
        "temperature": 0.7,
        "top_p": 0.8,
        "top_k": 20,
        "min_p": 0.0,
        "presence_penalty": 1.5,
    }
    assert catalog.get("lfm2-8b-a1b").to_json()["reasoning"] is None


def test_the_estimated_header_matches_a_real_file(tiny_moe_model: Path) -> None:
    """The catalog's estimate, checked against the header of a file of that shape."""
    real = read_summary(tiny_moe_model)
    shape = ModelShape(
        architecture="qwen3moe",
        n_layer=2,
        n_embd=tiny_moe.EMBEDDING_LENGTH,
        n_head=tiny_moe.HEAD_COUNT,
        n_head_kv=tiny_moe.HEAD_COUNT_KV,
        head_dim=tiny_moe.HEAD_DIM,
        n_vocab=tiny_moe.VOCAB_SIZE,
        context_length=real.context_length,
        n_expert=4,
        n_expert_used=2,
        expert_ff=tiny_moe.EXPERT_FEED_FORWARD_LENGTH,
    )
    estimate = shape.summary("tiny", real.weight_bytes)
    assert shape.n_params == pytest.approx(real.n_params, rel=0.02)
    for group in ("attention", "expert_ffn", "embeddings"):
        assert estimate.groups[group] == pytest.approx(real.groups[group], rel=0.1), group
    assert estimate.kv_bytes(4096) == real.kv_bytes(4096)
