"""How fast a model will generate on this machine, estimated before it is downloaded.

Generating a token reads every weight the token uses once: attention and shared weights, the
router's chosen experts (n_expert_used of n_expert), the output head. That is memory-bound, so
the time per token is the bytes read from RAM over the RAM's bandwidth plus the bytes read from
VRAM over the GPU's. RAM bandwidth is measured here (a large memmove); llama.cpp reaches a
share of it (`CPU_EFFICIENCY`, calibrated with `bench/fit_speed.py` on the test models). GPU
bandwidth cannot be read through ggml, so a typical figure is assumed: the estimate says "~".
"""

from __future__ import annotations

import ctypes
import time
from functools import cache

from lanterne.engine.gguf_header import GGUFSummary
from lanterne.engine.hardware import Hardware
from lanterne.engine.offload import OffloadPlan

# llama.cpp's decode on the CPU as a share of one thread's memmove bandwidth: 0.93 (Gemma 3
# 270M) and 0.79 (the MoE bench model) measured by bench/fit_speed.py on a 2-core machine.
# Many-core machines read faster than one memmove thread, so there the estimate is low.
CPU_EFFICIENCY = 0.85
DISCRETE_GPU_BANDWIDTH = 300e9  # bytes/s: a mid-range card (RTX 4060 272 GB/s, 4070 504 GB/s)
UNIFIED_GPU_BANDWIDTH = 100e9  # Apple M-series base chips; Pro/Max chips have more
_PROBE_BYTES = 64 * 1024**2


@cache
def ram_bandwidth() -> float:
    """Bytes per second a memmove achieves (read plus write), best of a few tries."""
    src = ctypes.create_string_buffer(_PROBE_BYTES)
    dst = ctypes.create_string_buffer(_PROBE_BYTES)
    ctypes.memmove(dst, src, _PROBE_BYTES)  # touch every page first
    best = float("inf")
    for _attempt in range(5):
        start = time.perf_counter()
        ctypes.memmove(dst, src, _PROBE_BYTES)
        best = min(best, time.perf_counter() - start)
    return 2 * _PROBE_BYTES / max(best, 1e-9)


def bytes_per_token(model: GGUFSummary, plan: OffloadPlan) -> tuple[int, int]:
    """(bytes read from RAM, bytes read from VRAM) to generate one token under `plan`."""
    n = model.n_layer
    first_gpu = n - min(max(plan.n_gpu_layers, 0), n)
    cpu_experts = set(plan.cpu_expert_layers)
    used = model.n_expert_used / model.n_expert if model.is_moe else 1.0
    ram = vram = 0
    for i, layer in enumerate(model.layers):
        fixed = layer.attention + layer.dense_ffn + layer.other
        experts = int(layer.expert_ffn * used)
        if i < first_gpu:
            ram += fixed + experts
        elif i in cpu_experts:
            vram += fixed
            ram += experts
        else:
            vram += fixed + experts
    if plan.n_gpu_layers > n:
        vram += model.output_bytes
    else:
        ram += model.output_bytes
    return ram, vram


def tokens_per_second(model: GGUFSummary, plan: OffloadPlan, hardware: Hardware) -> float:
    """The expected generation speed; a rough figure (see the module's docstring)."""
    ram, vram = bytes_per_token(model, plan)
    gpu = hardware.best_gpu
    gpu_bandwidth = (
        UNIFIED_GPU_BANDWIDTH if gpu is not None and gpu.unified_memory else DISCRETE_GPU_BANDWIDTH
    )
    cpu_bandwidth = (hardware.ram_bandwidth or ram_bandwidth()) * CPU_EFFICIENCY
    seconds = ram / cpu_bandwidth + vram / gpu_bandwidth
    return 1.0 / seconds if seconds > 0 else 0.0
