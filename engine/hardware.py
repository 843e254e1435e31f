"""What this machine offers a model, as llama.cpp sees it.

GPU devices and their free memory come from ggml's backend registry (the devices llama.cpp will
actually use, with the backend it was built with: CUDA, Metal, Vulkan…), CPU features from
llama.cpp's own system report, RAM and cores from psutil. Nothing is guessed from the OS.
"""

from __future__ import annotations

import ctypes
import platform
import sys
from dataclasses import asdict, dataclass, field

import llama_cpp
import psutil

from lanterne.engine import ggml_api

_DEV_CPU, _DEV_GPU, _DEV_IGPU = 0, 1, 2


@dataclass(frozen=True)
class GpuDevice:
    name: str  # ggml's device name, e.g. "CUDA0", "Metal", "Vulkan0"
    description: str  # e.g. "NVIDIA GeForce RTX 4070"
    backend: str  # the backend registry's name: "CUDA", "Metal", "Vulkan"…
    free_bytes: int
    total_bytes: int
    unified_memory: bool  # shares system RAM (Apple Silicon, integrated GPUs)


@dataclass(frozen=True)
class Hardware:
    cpu_physical: int
    cpu_logical: int
    cpu_features: tuple[str, ...]
    ram_total: int
    ram_available: int
    gpus: tuple[GpuDevice, ...] = ()
    ram_bandwidth: float = 0.0  # bytes/s; 0 until measured (speed_estimate does it on demand)
    system: str = field(default_factory=lambda: f"{platform.system()} {platform.machine()}")

    @property
    def best_gpu(self) -> GpuDevice | None:
        return most_free(self.gpus)

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def cpu_features(system_info: str) -> tuple[str, ...]:
    """`"CPU : SSE3 = 1 | AVX2 = 1 | AVX512 = 0 | …"` -> ("SSE3", "AVX2")."""
    features = []
    for part in system_info.replace("\n", "|").split("|"):
        if "=" in part:
            name, _sep, value = part.rpartition("=")
            name = name.split(":")[-1].strip()
            if value.strip() == "1" and name:
                features.append(name)
    return tuple(features)


def _cpu_features() -> tuple[str, ...]:
    ggml_api.load_backends()  # a dynamic build reports its CPU variant's features once loaded
    return cpu_features(llama_cpp.llama_print_system_info().decode())


def gpu_devices() -> tuple[GpuDevice, ...]:
    """Every GPU device registered in ggml, with its current free memory."""
    p = ctypes.c_void_p
    ggml_api.load_backends()
    count = ggml_api.function("ggml_backend_dev_count", ctypes.c_size_t, [])
    get = ggml_api.function("ggml_backend_dev_get", p, [ctypes.c_size_t])
    dev_type = ggml_api.function("ggml_backend_dev_type", ctypes.c_int, [p])
    name = ggml_api.function("ggml_backend_dev_name", ctypes.c_char_p, [p])
    description = ggml_api.function("ggml_backend_dev_description", ctypes.c_char_p, [p])
    memory = ggml_api.function(
        "ggml_backend_dev_memory",
        None,
        [p, ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(ctypes.c_size_t)],
    )
    reg_of = ggml_api.function("ggml_backend_dev_backend_reg", p, [p])
    reg_name = ggml_api.function("ggml_backend_reg_name", ctypes.c_char_p, [p])
    devices = []
    apple = sys.platform == "darwin" and platform.machine() == "arm64"
    for i in range(count()):
        dev = get(i)
        kind = dev_type(dev)
        if kind not in (_DEV_GPU, _DEV_IGPU):
            continue
        free, total = ctypes.c_size_t(0), ctypes.c_size_t(0)
        memory(dev, ctypes.byref(free), ctypes.byref(total))
        backend = (reg_name(reg_of(dev)) or b"").decode()
        devices.append(
            GpuDevice(
                name=(name(dev) or b"").decode(),
                description=(description(dev) or b"").decode(),
                backend=backend,
                free_bytes=int(free.value),
                total_bytes=int(total.value),
                unified_memory=kind == _DEV_IGPU or (apple and backend == "Metal"),
            )
        )
    return tuple(devices)


def most_free(gpus: tuple[GpuDevice, ...]) -> GpuDevice | None:
    """The GPU with the most free memory, or None (a CPU-only build, or no GPU)."""
    return max(gpus, key=lambda g: g.free_bytes, default=None)


def probe() -> Hardware:
    memory = psutil.virtual_memory()
    logical = psutil.cpu_count(logical=True) or 1
    return Hardware(
        cpu_physical=psutil.cpu_count(logical=False) or logical,
        cpu_logical=logical,
        cpu_features=_cpu_features(),
        ram_total=int(memory.total),
        ram_available=int(memory.available),
        gpus=gpu_devices(),
    )
