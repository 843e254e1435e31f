"""Hardware fit of the catalog, by the offload planner, and the recommendation it leads to."""

from __future__ import annotations

import pytest

from lanterne.engine.catalog import Catalog, load_catalog
from lanterne.engine.model_fit import Fit, assess, assess_all, recommend
from lanterne.engine.offload import OffloadPlan, plan_offload
from lanterne.engine.speed_estimate import bytes_per_token, ram_bandwidth, tokens_per_second
from support.machines import machine
from support.model_shapes import QWEN3_30B_A3B

CATALOG = load_catalog()


def fit_of(model_id: str, ram: float, vram: float | None) -> Fit:
    model = CATALOG.get(model_id)
    return assess(model, model.quant(), machine(ram, vram), 8192)


def test_verdicts_come_from_the_planner() -> None:
    laptop = fit_of("lfm2-8b-a1b", 8, None)
    assert laptop.verdict == "cpu" and laptop.plan is not None and laptop.plan.backend == "cpu"
    assert laptop.label.startswith("runs on the CPU (~")
    gaming = fit_of("qwen3-30b-a3b-instruct-2507", 32, 8)
    assert gaming.verdict == "experts_on_cpu" and gaming.plan is not None
    assert gaming.plan.cpu_expert_layers and gaming.plan.n_gpu_layers >= 48
    assert gaming.label.startswith("runs with experts on CPU (~")
    assert "experts of layers 0-" in gaming.reason
    workstation = fit_of("qwen3-30b-a3b-instruct-2507", 64, 24)
    assert workstation.verdict == "gpu" and workstation.label.startswith("runs fully on GPU")
    small = fit_of("mistral-small-4-119b", 16, None)
    assert small.verdict == "too_large" and small.plan is None and not small.fits
    assert "GB short" in small.reason and small.label == "too large"


def test_every_catalog_file_gets_a_verdict() -> None:
    fits = assess_all(CATALOG, machine(32, 12), 8192)
    assert len(fits) == sum(len(m.quants) for m in CATALOG.models)
    assert {f.verdict for f in fits} <= {
        "gpu",
        "experts_on_cpu",
        "layers_split",
        "cpu",
        "too_large",
    }
    assert all(f.to_json()["label"] for f in fits)


@pytest.mark.parametrize(
    ("ram", "vram", "language", "expected", "quant"),
    [
        (8, None, "fr", "granite-4.0-h-tiny", "Q4_K_M"),  # an 8 GB laptop
        (16, 8, "fr", "gemma-4-26b-a4b", "Q4_K_M"),  # experts in RAM beside a small card
        (32, None, "fr", "qwen3.6-35b-a3b", "Q4_K_M"),  # a 32 GB machine without a GPU
        (32, 24, "fr", "qwen3.6-35b-a3b", "Q4_K_M"),  # all on the GPU; Mistral Small 4 too large
        (64, 16, "fr", "mistral-small-4-119b", "Q3_K_M"),  # 64 GB and a mid-range card
        (64, 48, "en", "mistral-small-4-119b", "Q3_K_M"),  # Q4_K_M does not fit even here
        (8, 12, "en", "gpt-oss-20b", "MXFP4"),  # Qwen3's experts do not fit 8 GB of RAM
        (8, 12, "fr", "granite-4.0-h-tiny", "Q8_0"),  # gpt-oss is not for French
    ],
)
def test_the_recommendation_is_the_best_model_that_fits(
    ram: float, vram: float | None, language: str, expected: str, quant: str
) -> None:
    rec = recommend(CATALOG, machine(ram, vram), 8192, language)
    assert rec.model is not None and rec.fit is not None, rec.explanation
    assert (rec.model.id, rec.fit.quant) == (expected, quant), rec.explanation
    assert rec.fit.usable and rec.model.name in rec.explanation
    assert rec.to_json()["fit"]


def test_a_larger_file_is_chosen_only_where_it_runs_fully_on_the_gpu() -> None:
    gemma = CATALOG.get("gemma-4-26b-a4b")
    alone = Catalog(CATALOG.version, (gemma,))
    big_card = recommend(alone, machine(64, 48), 8192, "fr")
    assert big_card.fit is not None and big_card.fit.quant == "Q8_0"
    assert big_card.fit.verdict == "gpu"
    small_card = recommend(alone, machine(64, 16), 8192, "fr")
    assert small_card.fit is not None and small_card.fit.quant == "Q4_K_M"


def test_a_model_that_does_not_speak_the_language_is_not_recommended() -> None:
    hardware = machine(24, 16)
    english = recommend(CATALOG, hardware, 8192, "en")
    french = recommend(CATALOG, hardware, 8192, "fr")
    considered_fr = {f.model_id for f in french.considered}
    assert "gpt-oss-20b" not in considered_fr
    assert english.model is not None and french.model is not None


def test_a_machine_too_small_for_everything_says_why() -> None:
    # 2 GB: only the starter (under 1 GB) fits, so it is the recommendation there.
    rec = recommend(CATALOG, machine(2, None, cores=2), 8192, "fr")
    assert rec.model is not None and rec.model.starter
    assert "LFM2 8B A1B (too large)" in rec.explanation
    rec = recommend(CATALOG, machine(1, None, cores=2), 8192, "fr")
    assert rec.model is None
    assert rec.explanation.startswith("No catalog model fits this machine")
    assert "too large" in rec.explanation


def test_on_a_slow_machine_the_fastest_model_is_offered_and_said_to_be_slow() -> None:
    rec = recommend(CATALOG, machine(32, None, cores=2, bandwidth_gbs=4), 8192, "fr")
    assert rec.model is not None and rec.fit is not None and not rec.fit.usable
    assert rec.explanation.startswith("No catalog model answers at a comfortable speed")
    assert not rec.model.starter  # the starter is offered beside it, never instead of it
    speeds = [f.tokens_per_second or 0 for f in rec.considered if f.fits]
    assert rec.fit.tokens_per_second == max(speeds)


def test_a_slow_fit_is_not_recommended() -> None:
    """Qwen3 30B fits 32 GB of RAM, but at a few tokens per second on the CPU alone."""
    hardware = machine(32, None, bandwidth_gbs=10)
    model = CATALOG.get("qwen3-30b-a3b-instruct-2507")
    qwen = assess(model, model.quant(), hardware, 8192)
    assert qwen.fits and not qwen.usable
    rec = recommend(CATALOG, hardware, 8192, "fr")
    assert rec.model is not None and rec.model.tier == "small"
    assert "Qwen3 30B A3B Instruct 2507 (too slow here" in rec.explanation


def test_speed_estimate_counts_the_bytes_each_token_reads() -> None:
    cpu = plan_offload(QWEN3_30B_A3B, machine(64, None), 4096)
    ram, vram = bytes_per_token(QWEN3_30B_A3B, cpu)
    assert vram == 0
    experts = QWEN3_30B_A3B.groups["expert_ffn"]
    # 8 of 128 experts per token, plus everything that is not an expert except the token table.
    assert ram == pytest.approx(
        experts * 8 / 128
        + QWEN3_30B_A3B.groups["attention"]
        + QWEN3_30B_A3B.groups["dense_ffn"]
        + QWEN3_30B_A3B.output_bytes,
        rel=0.01,
    )
    gpu = plan_offload(QWEN3_30B_A3B, machine(64, 12), 4096)
    ram_split, vram_split = bytes_per_token(QWEN3_30B_A3B, gpu)
    assert (
        ram_split < ram
        and vram_split > 0
        and ram_split + vram_split == pytest.approx(ram, rel=0.01)
    )
    hardware = machine(64, 12)
    assert tokens_per_second(QWEN3_30B_A3B, gpu, hardware) > tokens_per_second(
        QWEN3_30B_A3B, cpu, hardware
    )


def test_ram_bandwidth_is_measured() -> None:
    assert 1e9 < ram_bandwidth() < 2e12  # between an old laptop and a server's


def test_more_experts_on_the_cpu_is_slower() -> None:
    hardware = machine(64, 16)
    base = plan_offload(QWEN3_30B_A3B, hardware, 4096)
    speeds = []
    for n in (0, 12, 24, 48):
        plan = OffloadPlan(
            backend=base.backend,
            n_gpu_layers=49,
            n_threads=8,
            n_ctx=4096,
            cpu_expert_layers=tuple(range(n)),
        )
        speeds.append(tokens_per_second(QWEN3_30B_A3B, plan, hardware))
    assert speeds == sorted(speeds, reverse=True)
