"""The starter model (#29): a small model offered beside the recommendation, to answer while the
recommended one downloads. Its architecture (Granite 4.0 H: Mamba-2 and attention layers) loads
and answers through the runtime; the offer is made where it helps and nowhere else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lanterne.engine.catalog import CATALOG_PATH, CatalogError, load_catalog, parse_catalog
from lanterne.engine.gguf_header import read_summary
from lanterne.engine.hardware import Hardware
from lanterne.engine.model_fit import USABLE_TOKENS_PER_SECOND, recommend
from lanterne.engine.runtime import LocalModel, SamplingParams
from lanterne.engine.shape_estimate import ModelShape
from lanterne.engine.starter import SIZE_RATIO, StarterOffer, starter_offer
from lanterne.foundation.policy import Policy
from lanterne.foundation.settings import Settings
from lanterne.model_library import ModelLibrary
from support import tiny_hybrid
from support.hub_server import Hub
from support.machines import machine
from support.tiny_hybrid import write_tiny_hybrid_gguf

CATALOG = load_catalog()
STARTER = "granite-4.0-h-1b"
GREEDY = SamplingParams(max_tokens=16, temperature=0.0, seed=1)


@pytest.fixture(scope="module")
def hybrid_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_hybrid_gguf(tmp_path_factory.mktemp("hybrid") / "tiny-hybrid.gguf")


def offer_on(hardware: Hardware, language: str = "fr") -> StarterOffer | None:
    rec = recommend(CATALOG, hardware, 8192, language)
    return starter_offer(CATALOG, hardware, 8192, rec, language)


# --- The catalog entry ------------------------------------------------------------------------


def test_the_catalog_has_one_small_apache_starter_that_speaks_french() -> None:
    starter = CATALOG.starter()
    assert starter is not None and starter.id == STARTER
    assert [m.id for m in CATALOG.models if m.starter] == [STARTER]
    assert starter.role == "chat" and starter.licence == "Apache-2.0"
    assert {"fr", "en"} <= set(starter.languages)
    assert starter.quant().size < 1_000_000_000  # a few minutes on a modest connection
    assert starter.rank < min(m.rank for m in CATALOG.chat_models() if not m.starter)
    assert starter.to_json()["starter"] is True
    # The Mamba-2 mixers are counted, not sized like attention: 1.46 billion as published.
    assert starter.shape.n_params == pytest.approx(1.46e9, rel=0.02)


def test_a_starter_flag_that_is_not_true_or_false_or_on_an_embedding_model_is_damage() -> None:
    raw = json.loads(CATALOG_PATH.read_text(encoding="utf-8"))
    index = next(i for i, m in enumerate(raw["models"]) if m["id"] == STARTER)
    for field, value in (("starter", "yes"), ("role", "embedding")):
        broken = json.loads(json.dumps(raw))
        broken["models"][index][field] = value
        with pytest.raises(CatalogError, match="damaged") as caught:
            parse_catalog(json.dumps(broken))
        assert STARTER in str(caught.value)
    twice = json.loads(json.dumps(raw))
    twice["models"][0]["starter"] = True
    with pytest.raises(CatalogError, match="two starter models"):
        parse_catalog(json.dumps(twice))


# --- Its architecture runs --------------------------------------------------------------------


@pytest.mark.model
def test_the_starter_architecture_loads_and_answers(hybrid_model: Path) -> None:
    header = read_summary(hybrid_model)
    assert header.architecture == CATALOG.get(STARTER).shape.architecture == "granitehybrid"
    assert header.n_head_kv == (0, tiny_hybrid.HEAD_COUNT_KV, 0, 0)  # KV only where attention
    model = LocalModel.load(hybrid_model, n_ctx=512, n_threads=2)
    try:
        prompt = model.render_chat([{"role": "user", "content": "Où est la gare ?"}])
        answer = "".join(model.stream(prompt, GREEDY))
        assert answer.strip() and answer.isprintable()
        timings = model.last_timings
        assert timings is not None and timings.predicted_tokens >= 8
        # The same prompt again: a recurrent state cannot drop its last token as a KV cache
        # does, so it goes back to a copy of the state (or, for a prompt this short, reads
        # it afresh), and the answer is the same.
        assert "".join(model.stream(prompt, GREEDY)) == answer
    finally:
        model.close()


@pytest.mark.model
def test_a_longer_prompt_goes_on_from_the_recurrent_state(hybrid_model: Path) -> None:
    """A follow-up whose prompt extends the one evaluated is only decoded past it, and answers
    exactly as from scratch: Mamba-2 state and attention cache were carried forward together."""
    model = LocalModel.load(hybrid_model, n_ctx=512, n_threads=2)
    try:
        first = model.render_chat([{"role": "user", "content": "Bonjour."}])
        later = first + "Bonjour ! Que puis-je faire ?"
        list(model.stream(first, SamplingParams(max_tokens=1, temperature=0.0)))
        continued = "".join(model.stream(later, GREEDY))
        timings = model.last_timings
        assert timings is not None and timings.reused_tokens == len(model.tokenize(first))
        model.forget_prompt()
        assert "".join(model.stream(later, GREEDY)) == continued
        assert model.last_timings is not None and model.last_timings.reused_tokens == 0
    finally:
        model.close()


def test_the_catalog_estimate_matches_a_real_hybrid_header(hybrid_model: Path) -> None:
    """The catalog judges the starter from its shape before the download: the Mamba-2 sizes
    agree with the tensors llama.cpp loads, and only attention layers get a KV cache."""
    real = read_summary(hybrid_model)
    shape = ModelShape(
        architecture="granitehybrid",
        n_layer=4,
        n_embd=tiny_hybrid.EMBEDDING_LENGTH,
        n_head=tiny_hybrid.HEAD_COUNT,
        n_head_kv=tiny_hybrid.HEAD_COUNT_KV,
        head_dim=tiny_hybrid.HEAD_DIM,
        n_vocab=real.n_vocab,
        context_length=real.context_length,
        dense_ff=tiny_hybrid.FEED_FORWARD_LENGTH,
        attention_layers=(1,),
        ssm_inner=tiny_hybrid.SSM_INNER,
        ssm_state=tiny_hybrid.SSM_STATE,
        ssm_groups=tiny_hybrid.SSM_GROUPS,
        ssm_heads=tiny_hybrid.SSM_HEADS,
        ssm_conv=tiny_hybrid.SSM_CONV,
    )
    estimate = shape.summary("tiny", real.weight_bytes)
    # The estimate leaves out only the norms (a few hundred values a layer).
    assert shape.n_params == pytest.approx(real.n_params, rel=0.02)
    assert estimate.kv_bytes(4096) == real.kv_bytes(4096)
    # llama.cpp files the Mamba tensors under "other"; the estimate counts them as the mixer.
    mixers = real.groups["attention"] + real.groups["other"]
    assert estimate.groups["attention"] == pytest.approx(mixers, rel=0.1)
    assert estimate.groups["dense_ffn"] == pytest.approx(real.groups["dense_ffn"], rel=0.1)
    for est, got in zip(estimate.layers, real.layers, strict=True):
        assert est.total == pytest.approx(got.total, rel=0.1)


# --- The offer ----------------------------------------------------------------------------------


def test_an_8_gb_laptop_is_offered_the_starter_beside_the_recommendation() -> None:
    laptop = machine(8)
    offer = offer_on(laptop)
    assert offer is not None and offer.model.id == STARTER
    rec = recommend(CATALOG, laptop, 8192, "fr")
    assert rec.model is not None and rec.model is offer.recommended and not rec.model.starter
    # It answers at reading speed on the laptop's CPU alone.
    assert offer.fit.verdict == "cpu" and offer.fit.usable
    assert (offer.fit.tokens_per_second or 0) >= USABLE_TOKENS_PER_SECOND
    assert offer.reason == (
        "Start with Granite 4.0 H 1B (859 MB, ready in a few minutes) while "
        f"{rec.model.name} (3.9 GB) downloads."
    )
    assert "your conversations stay" in offer.then
    assert offer.to_json()["recommended"] == rec.model.id


@pytest.mark.parametrize(("ram", "vram"), [(64, 48), (64, None), (16, 8)])
def test_bigger_machines_still_get_it_while_a_large_model_downloads(
    ram: float, vram: float | None
) -> None:
    offer = offer_on(machine(ram, vram))
    assert offer is not None and offer.model.id == STARTER
    assert offer.recommended_quant.size > 10 * offer.quant.size


def test_where_only_the_starter_fits_it_is_the_recommendation_and_nothing_is_offered() -> None:
    small = machine(2, cores=2)
    rec = recommend(CATALOG, small, 8192, "fr")
    assert rec.model is not None and rec.model.id == STARTER, rec.explanation
    assert "Granite 4.0 H Tiny (too large)" in rec.explanation
    assert offer_on(small) is None
    assert offer_on(machine(1, cores=2)) is None  # nothing fits at all


def test_no_offer_when_the_recommendation_is_about_as_small() -> None:
    raw = json.loads(CATALOG_PATH.read_text(encoding="utf-8"))
    starter_size = next(m for m in raw["models"] if m.get("starter"))["quants"][0]["size"]
    for model in raw["models"]:
        if model["id"] == "granite-4.0-h-tiny":
            model["quants"][0]["size"] = int(starter_size * SIZE_RATIO) - 1
    catalog = parse_catalog(json.dumps(raw))
    laptop = machine(8)
    rec = recommend(catalog, laptop, 8192, "fr")
    assert rec.model is not None and rec.model.id == "granite-4.0-h-tiny"
    assert starter_offer(catalog, laptop, 8192, rec, "fr") is None


# --- Through the library: policy and what is installed -----------------------------------------


def library(settings: Settings, ram: float = 8) -> ModelLibrary:
    lib = ModelLibrary(settings)
    lib.hardware = machine(ram)
    return lib


def test_the_library_offers_it_unless_policy_forbids() -> None:
    offer = library(Settings()).starter_offer()
    assert offer is not None and offer.model.id == STARTER
    assert library(Settings(policy=Policy(downloads=False))).starter_offer() is None
    only_tiny = Policy(allowed_models=("granite-4.0-h-tiny",))
    assert library(Settings(policy=only_tiny)).starter_offer() is None
    only_starter = Policy(allowed_models=(STARTER,))  # the recommendation cannot be fetched
    assert library(Settings(policy=only_starter)).starter_offer() is None
    both = Policy(allowed_models=(STARTER, "granite-4.0-h-tiny"))
    offer = library(Settings(policy=both)).starter_offer()
    assert offer is not None and offer.recommended.id == "granite-4.0-h-tiny"


@pytest.mark.model
def test_once_the_starter_is_downloaded_it_answers_and_is_offered_no_more(
    hub: Hub, hybrid_model: Path
) -> None:
    lib = library(Settings())
    offer = lib.starter_offer()
    assert offer is not None
    hub.add(offer.model.repo, offer.quant.files[0], hybrid_model)
    installed = lib.download(offer.model.id, offer.quant.name)
    assert installed.catalog_id == STARTER and installed.architecture == "granitehybrid"
    assert lib.active_path() == installed.path  # the first chat model is the one in use
    assert lib.starter_offer() is None
    model = LocalModel.load(Path(lib.active_path()), n_ctx=512, n_threads=2)
    try:
        prompt = model.render_chat([{"role": "user", "content": "Bonjour"}])
        assert "".join(model.stream(prompt, GREEDY)).strip()
    finally:
        model.close()
