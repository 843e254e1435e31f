"""What a loaded model is, as the app shows it: the header summary's user-facing part."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lanterne.engine.gguf_header import GGUFSummary


@dataclass(frozen=True)
class ModelInfo:
    path: Path
    name: str
    architecture: str
    n_expert: int
    n_expert_used: int
    n_layer: int
    context_length: int
    chat_template: str | None
    size_bytes: int

    @property
    def is_moe(self) -> bool:
        return self.n_expert > 1

    @classmethod
    def from_summary(cls, summary: GGUFSummary) -> ModelInfo:
        """What the app shows of a model, from the header already read to plan its load."""
        return cls(
            path=summary.path.resolve(),
            name=summary.name,
            architecture=summary.architecture,
            n_expert=summary.n_expert,
            n_expert_used=summary.n_expert_used,
            n_layer=summary.n_layer,
            context_length=summary.context_length,
            chat_template=summary.chat_template,
            size_bytes=summary.file_bytes,
        )
