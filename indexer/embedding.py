"""What the indexer needs from an embedding model; the engine's Embedder provides it.

The indexer never loads a model itself (that is the engine's job, and the CLI or the GUI wires the
two together), so it depends on this small protocol only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np


class TextEmbedder(Protocol):
    path: Path
    name: str
    dimensions: int

    def embed_documents(self, texts: list[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...


def model_key(embedder: TextEmbedder) -> str:
    """Vectors are only comparable within one model file: its name, size and dimensions."""
    return f"{embedder.path.name}:{embedder.path.stat().st_size}:{embedder.dimensions}"
