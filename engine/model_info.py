"""What a loaded model is, from its own GGUF metadata (as llama.cpp read it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


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
    def from_metadata(cls, path: Path, metadata: dict[str, str]) -> ModelInfo:
        arch = metadata.get("general.architecture", "unknown")

        def number(key: str) -> int:
            try:
                return int(metadata.get(f"{arch}.{key}", "0"))
            except ValueError:
                return 0

        return cls(
            path=path,
            name=metadata.get("general.name") or path.stem,
            architecture=arch,
            n_expert=number("expert_count"),
            n_expert_used=number("expert_used_count"),
            n_layer=number("block_count"),
            context_length=number("context_length"),
            chat_template=metadata.get("tokenizer.chat_template"),
            size_bytes=path.stat().st_size,
        )
