"""What wrote an answer: a local model with its offload plan, or a model on a server."""

from __future__ import annotations

from dataclasses import dataclass

from lanterne.engine.cpu_variant import CpuChoice
from lanterne.engine.model_info import ModelInfo
from lanterne.engine.offload import OffloadPlan


@dataclass(frozen=True)
class EngineInfo:
    """What answers, in words for the status bar and in the JSON scripts read."""

    backend: str  # "local" or "remote"
    name: str
    summary: str
    description: str
    model: ModelInfo | None = None
    plan: OffloadPlan | None = None
    server: str | None = None
    cpu: CpuChoice | None = None  # which of llama.cpp's CPU builds runs it, and why
    # Which parser took the reasoning apart: a local model's family ("harmony", "think",
    # "mistral", "gemma4", "none"); for a server, "server" (it sends reasoning apart itself)
    # or "think" once its answers turned out to carry <think> blocks in their text.
    reasoning_format: str = "none"

    def to_json(self) -> dict[str, object]:
        if self.model is None or self.plan is None:
            return {
                "backend": self.backend,
                "name": self.name,
                "server": self.server,
                "reasoning_format": self.reasoning_format,
            }
        return {
            "backend": self.backend,
            "path": str(self.model.path),
            "name": self.model.name,
            "architecture": self.model.architecture,
            "n_expert": self.model.n_expert,
            "n_expert_used": self.model.n_expert_used,
            "offload": self.plan.to_json(),
            "cpu_variant": self.cpu.to_json() if self.cpu is not None else None,
            "reasoning_format": self.reasoning_format,
        }
