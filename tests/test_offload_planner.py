"""The offload planner on synthetic machines and real models' shapes."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import llama_cpp
import pytest

from lanterne.engine import llama_log
from lanterne.engine.gguf_header import GGUFSummary, read_summary
from lanterne.engine.hardware import cpu_features, probe
from lanterne.engine.offload import (
    GB,
    OffloadPlan,
    PlanError,
    PlanOverrides,
    _Placement,
    _vram_needed,
    plan_offload,
)
from lanterne.engine.runtime import _load_llama
from lanterne.engine.tensor_overrides import expert_patterns
from support.machines import machine
from support.model_shapes import (
    GPT_OSS_20B,
    GRANITE_MOE_3B,
    LLAMA_8B,
    MIXTRAL_8X7B,
    QWEN3_30B_A3B,
)


def test_model_sizes_match_the_published_files() -> None:
    for model, size_gb in (
        (QWEN3_30B_A3B, 18.6),
        (MIXTRAL_8X7B, 26.4),
        (LLAMA_8B, 4.9),
        (GPT_OSS_20B, 12.1),
    ):
        assert model.weight_bytes / 1e9 == pytest.approx(size_gb, rel=0.12), model.name


def test_cpu_only_machine() -> None:
    plan = plan_offload(QWEN3_30B_A3B, machine(64), 8192)
    assert (plan.backend, plan.n_gpu_layers, plan.cpu_expert_layers) == ("cpu", 0, ())
    assert plan.n_threads == 8  # physical cores
    assert QWEN3_30B_A3B.weight_bytes < plan.ram_needed < QWEN3_30B_A3B.weight_bytes + 2 * GB
    assert "All layers on the CPU (8 threads): this build of llama.cpp has no GPU backend" in (
        plan.description
    )


def test_moe_on_a_16gb_card_keeps_as_few_experts_on_cpu_as_fit() -> None:
    hw = machine(64, 16)
    plan = plan_offload(QWEN3_30B_A3B, hw, 8192)
    n = QWEN3_30B_A3B.n_layer
    assert plan.backend == "CUDA" and plan.n_gpu_layers == n + 1  # attention & output on GPU
    m = len(plan.cpu_expert_layers)
    assert 0 < m < n and plan.cpu_expert_layers == tuple(range(m))
    assert plan.vram_needed <= plan.vram_available
    # Minimal: one layer's experts fewer on the CPU would not fit.
    fewer = _vram_needed(QWEN3_30B_A3B, _Placement(n + 1, m - 1, plan.kv_type), 8192, 512)
    assert fewer > plan.vram_available
    assert plan.flash_attn and plan.kv_on_gpu
    assert plan.description.startswith(
        f"Attention and shared weights on the GPU, experts of layers 0-{m - 1} on the CPU"
    )
    assert "GB VRAM" in plan.description and plan.summary == f"CUDA, {m} layers' experts on CPU"


@pytest.mark.parametrize("model", [QWEN3_30B_A3B, GPT_OSS_20B, GRANITE_MOE_3B])
def test_moe_that_fits_goes_entirely_to_the_gpu(model: GGUFSummary) -> None:
    plan = plan_offload(model, machine(64, 32), 8192)
    assert plan.n_gpu_layers == model.n_layer + 1 and plan.cpu_expert_layers == ()
    assert plan.kv_type == "f16"
    assert plan.description.startswith(f"All {model.n_layer} layers on the GPU")


def test_mixtral_on_an_8gb_card_puts_most_experts_on_the_cpu() -> None:
    plan = plan_offload(MIXTRAL_8X7B, machine(64, 8), 4096)
    n = MIXTRAL_8X7B.n_layer
    assert plan.n_gpu_layers == n + 1
    assert len(plan.cpu_expert_layers) > n * 3 // 4
    assert plan.vram_needed <= plan.vram_available
    assert plan.ram_needed > 15 * GB


def test_dense_model_gets_a_layer_split() -> None:
    plan = plan_offload(LLAMA_8B, machine(32, 4), 8192)
    assert 0 < plan.n_gpu_layers < LLAMA_8B.n_layer
    assert plan.cpu_expert_layers == ()
    assert plan.vram_needed <= plan.vram_available
    assert f"{plan.n_gpu_layers} of 32 layers on the GPU" in plan.description
    full = plan_offload(LLAMA_8B, machine(32, 12), 8192)
    assert full.n_gpu_layers == 33


def test_quantized_kv_cache_when_it_is_what_makes_the_model_fit() -> None:
    hw = machine(32, 12)
    n_ctx = 65536
    f16 = _vram_needed(LLAMA_8B, _Placement(33, 0, "f16"), n_ctx, 512)
    q8 = _vram_needed(LLAMA_8B, _Placement(33, 0, "q8_0"), n_ctx, 512)
    budget = hw.gpus[0].free_bytes - int(hw.gpus[0].total_bytes * 0.07)
    assert q8 <= budget < f16  # the scenario: only the q8_0 cache fits
    plan = plan_offload(LLAMA_8B, hw, n_ctx)
    assert (plan.n_gpu_layers, plan.kv_type) == (33, "q8_0")
    assert "KV cache in q8_0 to fit" in plan.description


def test_apple_silicon_unified_memory_shares_one_budget() -> None:
    hw = machine(32, 22, backend="Metal", unified=True)
    hw = replace(hw, ram_available=int(12 * GB))  # other apps use the shared memory
    plan = plan_offload(QWEN3_30B_A3B, hw, 4096)
    assert plan.backend == "Metal"
    assert plan.vram_available <= 12 * GB * 0.9
    assert plan.cpu_expert_layers  # does not fit the shared budget whole


def test_nothing_fits_says_by_how_much_before_loading() -> None:
    with pytest.raises(PlanError, match=r"needs about .* GB .* GB short") as info:
        plan_offload(MIXTRAL_8X7B, machine(16), 4096)
    assert "smaller model" in str(info.value)
    with pytest.raises(PlanError, match="does not fit this machine"):
        plan_offload(MIXTRAL_8X7B, machine(8, 4), 4096)


def test_user_overrides_win_and_are_reported() -> None:
    hw = machine(64, 16)
    forced = plan_offload(QWEN3_30B_A3B, hw, 8192, PlanOverrides(cpu_expert_layers=30))
    assert forced.cpu_expert_layers == tuple(range(30))
    assert forced.overridden == ("cpu_expert_layers",)
    off = plan_offload(QWEN3_30B_A3B, hw, 8192, PlanOverrides(n_gpu_layers=0, n_threads=3))
    assert (off.backend, off.n_threads) == ("cpu", 3)
    assert "GPU offload turned off in Settings" in off.description
    split = plan_offload(LLAMA_8B, hw, 8192, PlanOverrides(n_gpu_layers=10))
    assert split.n_gpu_layers == 10


def test_plan_is_plain_json_data() -> None:
    plan = plan_offload(QWEN3_30B_A3B, machine(64, 16), 8192)
    data = plan.to_json()
    assert isinstance(data["cpu_expert_layers"], list)
    assert set(data) >= {
        "backend",
        "n_gpu_layers",
        "cpu_expert_layers",
        "kv_type",
        "flash_attn",
        "vram_needed",
        "ram_needed",
        "description",
    }


def test_hardware_probe_reads_llama_cpp() -> None:
    """What llama.cpp registers, whichever build this is: a CPU build lists no GPU, a CUDA,
    Metal or Vulkan build lists the devices it will offload to."""
    hw = probe()
    assert hw.cpu_physical >= 1 and hw.cpu_logical >= hw.cpu_physical
    assert 0 < hw.ram_available <= hw.ram_total
    if not llama_cpp.llama_supports_gpu_offload():
        assert hw.gpus == ()  # a CPU build registers no GPU device
    for gpu in hw.gpus:
        assert gpu.name and gpu.backend and gpu.backend != "CPU"
        assert 0 <= gpu.free_bytes <= gpu.total_bytes and gpu.total_bytes > 0
    assert hw.best_gpu == max(hw.gpus, key=lambda g: g.free_bytes, default=None)
    assert [g.name for g in probe().gpus] == [g.name for g in hw.gpus]  # the same devices
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    if " avx2" in flags:
        assert "AVX2" in hw.cpu_features
    assert cpu_features("CPU : SSE3 = 1 | AVX512 = 0 | AVX2 = 1 |") == ("SSE3", "AVX2")


def test_real_models_plan_on_this_machine(gemma_model: Path, tiny_moe_model: Path) -> None:
    """The planner on this machine's own hardware, GPU or not, and on it without its GPU."""
    hw = probe()
    gpu = hw.best_gpu
    for path in (gemma_model, tiny_moe_model):
        model = read_summary(path)
        plan = plan_offload(model, hw, 2048)
        assert plan.ram_needed > 0  # the token table stays in RAM even on a GPU
        if gpu is None:
            assert (plan.backend, plan.n_gpu_layers) == ("cpu", 0)
        else:
            assert plan.backend == gpu.backend and plan.vram_needed <= plan.vram_available
            if gpu.free_bytes > 4 * GB:  # a model of a few hundred MB goes there whole
                assert plan.n_gpu_layers == model.n_layer + 1 and not plan.cpu_expert_layers
        cpu_only = plan_offload(model, replace(hw, gpus=()), 2048)
        assert (cpu_only.backend, cpu_only.n_gpu_layers) == ("cpu", 0)
        assert "this build of llama.cpp has no GPU backend" in cpu_only.description


@pytest.mark.model
def test_expert_overrides_reach_llama_cpp(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from support.tiny_moe import write_tiny_moe_gguf

    path = write_tiny_moe_gguf(tmp_path / "moe3.gguf", n_layers=3)
    assert expert_patterns((0, 2)) == [r"^blk\.(0|2)\.ffn_.*_exps\."]
    caplog.set_level(logging.DEBUG, logger="lanterne.engine.llama_cpp")
    llama_log.install()
    plan = OffloadPlan(
        backend="cpu", n_gpu_layers=0, n_threads=2, n_ctx=256, cpu_expert_layers=(0, 2)
    )
    llm, _keep = _load_llama(path, plan)
    try:
        messages = [r.getMessage() for r in caplog.records]
        moved = [m for m in messages if "buffer type overridden to " in m]
        overridden = sorted(m.split()[1] for m in moved)
        assert overridden == [
            f"blk.{n}.ffn_{k}_exps.weight" for n in (0, 2) for k in ("down", "gate", "up")
        ]
        # Into system RAM: the CPU's buffer or one of its variants (CPU_REPACK…), or, on a
        # GPU build, the GPU backend's pinned host buffer (CUDA_Host), which is RAM too.
        targets = {m.rsplit(" to ", 1)[1].strip() for m in moved}
        assert all(t.startswith("CPU") or t.endswith("_Host") for t in targets), targets
        out = llm.create_completion("hi", max_tokens=3)
        assert isinstance(out, dict) and out["choices"]
    finally:
        llm.close()


def test_quantized_kv_needs_flash_attention() -> None:
    plan = plan_offload(LLAMA_8B, machine(32), 4096, PlanOverrides(kv_type="q8_0"))
    assert plan.kv_type == "q8_0" and plan.flash_attn
    with pytest.raises(PlanError, match="needs flash attention"):
        plan_offload(LLAMA_8B, machine(32), 4096, PlanOverrides(kv_type="q8_0", flash_attn=False))


def test_quantized_kv_only_where_the_head_size_allows(tiny_moe_model: Path) -> None:
    tiny = read_summary(tiny_moe_model)  # 16-value heads: q8_0 blocks are 32
    with pytest.raises(PlanError, match=r"cannot use a q8_0 KV cache: .* \(16 values\)"):
        plan_offload(tiny, machine(32), 1024, PlanOverrides(kv_type="q8_0"))
    small_gpu = machine(32, 0.6)
    assert plan_offload(tiny, small_gpu, 1024).kv_type == "f16"  # never picked automatically


def test_mistral_small_4_on_a_64gb_workstation_with_a_mid_range_card() -> None:
    """The catalog's showcase for expert offload: 119B parameters, most experts in RAM."""
    from lanterne.engine.catalog import load_catalog

    mistral = load_catalog().get("mistral-small-4-119b")
    model = mistral.estimated_summary(mistral.quant())
    hw = machine(64, 16)
    plan = plan_offload(model, hw, 8192)
    n = model.n_layer
    assert plan.n_gpu_layers == n + 1  # attention, shared experts and output on the GPU
    assert n // 2 < len(plan.cpu_expert_layers) < n
    assert plan.vram_needed <= plan.vram_available
    assert plan.ram_needed <= hw.ram_available
    # MLA keeps one compressed head per layer: the whole 8K cache is a few hundred MB.
    assert model.kv_bytes(8192) < 0.2 * GB
    with pytest.raises(PlanError, match=r"needs about .* GB short"):
        plan_offload(model, machine(64), 8192)  # without the card, 64 GB is not enough
