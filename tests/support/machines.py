"""Synthetic hardware descriptions of typical machines, for planner and fit tests."""

from __future__ import annotations

from lanterne.engine.hardware import GpuDevice, Hardware
from lanterne.engine.offload import GB


def machine(
    ram_gb: float,
    vram_gb: float | None = None,
    *,
    backend: str = "CUDA",
    unified: bool = False,
    cores: int = 8,
    bandwidth_gbs: float = 40.0,
) -> Hardware:
    """A machine with `ram_gb` of RAM (80% free) and optionally a GPU of `vram_gb` (95% free)."""
    gpus: tuple[GpuDevice, ...] = ()
    if vram_gb is not None:
        total = int(vram_gb * GB)
        gpus = (GpuDevice("GPU0", "Test GPU", backend, int(total * 0.95), total, unified),)
    return Hardware(
        cpu_physical=cores,
        cpu_logical=cores * 2,
        cpu_features=("AVX2",),
        ram_total=int(ram_gb * GB),
        ram_available=int(ram_gb * GB * 0.8),
        gpus=gpus,
        ram_bandwidth=bandwidth_gbs * 1e9,
    )
