"""How a model is spread over GPU and CPU, as a plain object the user can read.

This first planner knows two cases: a llama.cpp build without any GPU backend (everything on the
CPU), and one with a GPU backend (every layer offloaded). The full planner (free VRAM, expert
tensors kept on the CPU, KV-cache placement) replaces `plan_offload` without changing the shape.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import llama_cpp
import psutil

from lanterne.translation import _


@dataclass(frozen=True)
class OffloadPlan:
    backend: str  # "cpu", or the GPU backend's name
    n_gpu_layers: int
    n_threads: int
    n_ctx: int
    description: str

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    @property
    def summary(self) -> str:
        """A few words for a status bar; `description` says the rest."""
        if self.backend == "cpu":
            return _("CPU, {threads} threads").format(threads=self.n_threads)
        return _("GPU, all layers")


def default_threads() -> int:
    """Physical cores: hyper-threads slow llama.cpp's matrix kernels down rather than up."""
    return max(1, psutil.cpu_count(logical=False) or psutil.cpu_count() or 1)


def plan_offload(n_ctx: int, n_threads: int = 0) -> OffloadPlan:
    threads = n_threads if n_threads > 0 else default_threads()
    if llama_cpp.llama_supports_gpu_offload():
        return OffloadPlan(
            backend="gpu",
            n_gpu_layers=-1,
            n_threads=threads,
            n_ctx=n_ctx,
            description=_("All layers on the GPU ({threads} CPU threads).").format(threads=threads),
        )
    return OffloadPlan(
        backend="cpu",
        n_gpu_layers=0,
        n_threads=threads,
        n_ctx=n_ctx,
        description=_(
            "All layers on the CPU ({threads} threads): this build of llama.cpp has no GPU backend."
        ).format(threads=threads),
    )
