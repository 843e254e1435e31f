"""The shipped model catalog: complete, consistent, and read with clear errors when damaged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lanterne.engine.catalog import CATALOG_PATH, CatalogError, load_catalog, parse_catalog
from lanterne.engine.gguf_header import read_summary
from lanterne.engine.shape_estimate import ModelShape
from support import tiny_moe


def test_every_entry_is_complete() -> None:
    catalog = load_catalog()
    assert catalog.version
    for m in catalog.models:
        assert m.repo.count("/") == 1 and m.licence and m.licence_url.startswith("https://")
        assert m.description and m.role in ("chat", "embedding")
        assert m.tier in ("small", "medium", "large")
        for q in m.quants:
            assert q.size > 0 and q.files
            assert all(f.endswith(".gguf") and "/" not in f for f in q.files)
        assert m.quant().name == m.default_quant
        # The shape agrees with the published parameter count (within 15%).
        assert m.shape.n_params == pytest.approx(m.params_total, rel=0.15), m.id


def test_it_leads_with_french_and_english_mixtures_of_experts_for_every_machine_size() -> None:
    catalog = load_catalog()
    chat = catalog.chat_models()
    # Every model it recommends is a mixture of experts; the small dense starter is offered
    # beside the recommendation while it downloads (no MoE near 1 GB qualified: see "about").
    assert chat[0].moe and all(m.moe for m in chat if not m.starter)
    assert [m.id for m in chat if not m.moe] == ["granite-4.0-h-1b"]
    for tier in ("small", "medium", "large"):
        assert any(m.tier == tier and {"fr", "en"} <= set(m.languages) for m in chat), tier
    assert any(m.id.startswith("mixtral") and m.maker == "Mistral AI" for m in chat)
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
    from lanterne.translation import set_language

    model = load_catalog().get("mixtral-8x7b-instruct")
    assert "big machines" in model.description
    set_language("fr")
    try:
        assert "grosses machines" in model.description
    finally:
        set_language("en")


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
