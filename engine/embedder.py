"""Sentence embeddings from a GGUF embedding model (bge-m3, multilingual-e5, Qwen3-Embedding), run
in-process by llama-cpp-python.

Each model family expects its own prompt around queries and passages; getting it wrong silently
costs retrieval quality, so the prompts are chosen from the model's name here, in one place.
Vectors come back L2-normalised as float32 rows. Text is NFKC-normalised and its whitespace runs
made single spaces first, as SentencePiece's nmt_nfkc normaliser does (a converted GGUF may lack
the normaliser's table, and line breaks carry no meaning for a sentence embedding).
"""

from __future__ import annotations

import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import llama_cpp
import numpy as np

from lanterne.engine import ggml_api, hardware, llama_log
from lanterne.engine.errors import ModelLoadError
from lanterne.engine.gguf_header import read_summary
from lanterne.foundation.translation import _

MAX_CONTEXT = 2048  # chunks are ~1,200 characters; longer inputs are truncated


@dataclass(frozen=True)
class EmbeddingPrompts:
    query: str
    document: str


_PROMPTS: tuple[tuple[str, EmbeddingPrompts], ...] = (
    ("e5", EmbeddingPrompts("query: ", "passage: ")),
    (
        "qwen3-embedding",
        EmbeddingPrompts(
            "Instruct: Given a question, retrieve the passages that answer it\nQuery: ", ""
        ),
    ),
    ("nomic-embed", EmbeddingPrompts("search_query: ", "search_document: ")),
    ("embeddinggemma", EmbeddingPrompts("task: search result | query: ", "title: none | text: ")),
)
_NO_PROMPTS = EmbeddingPrompts("", "")  # bge-m3, granite-embedding and most others


def prompts_for(model_name: str) -> EmbeddingPrompts:
    key = model_name.lower().replace("_", "-").replace(" ", "-")
    for marker, prompts in _PROMPTS:
        if marker in key:
            return prompts
    return _NO_PROMPTS


def normalise(text: str) -> str:
    """The text as the model sees it: NFKC, whitespace runs as single spaces, never empty."""
    return " ".join(unicodedata.normalize("NFKC", text).split()) or " "


def _gpu_for(path: Path) -> str | None:
    """The GPU with the most free memory if it holds the model three times over (weights,
    compute buffers and the chat model's growth), else None."""
    best = hardware.most_free(hardware.gpu_devices())
    if best is None or best.free_bytes < 3 * path.stat().st_size + (256 << 20):
        return None
    return best.name


class Embedder:
    """One loaded embedding model; calls are serialised (a llama.cpp context is single-threaded)."""

    def __init__(self, path: Path, *, n_threads: int = 0, gpu: bool | None = None) -> None:
        """`gpu`: None offloads the whole model to the GPU when llama.cpp has one with room for
        it (an embedding model is small: a tenth of a GB, for passages/s many times the CPU's)."""
        ggml_api.load_backends()  # llama.cpp's log to logging, then a dynamic build's backends
        summary = read_summary(path)
        if not summary.is_embedding_model:
            raise ModelLoadError(_("{name} is not an embedding model.").format(name=path.name))
        self.path = path
        self.name = summary.name
        self.prompts = prompts_for(f"{summary.name} {path.name}")
        n_ctx = min(summary.context_length or 512, MAX_CONTEXT)
        device = _gpu_for(path) if gpu is not False else None
        self.device = device or "CPU"
        with llama_log.explained_load_failure(path):
            self._llm = llama_cpp.Llama(
                model_path=str(path),
                embedding=True,
                n_ctx=n_ctx,
                n_batch=n_ctx,
                n_ubatch=n_ctx,  # an encoder sees a whole input in one micro-batch
                n_threads=n_threads or None,
                n_threads_batch=n_threads or None,
                n_gpu_layers=-1 if device else 0,
                # llama.cpp's own default ("auto") picks flash attention on the CPU;
                # llama-cpp-python's boolean defaults to off, which made embedding ~1.6x slower
                # than `llama-embedding` on the same model (bench/embedding_speed.py).
                flash_attn=True,
                verbose=False,
            )
        self.dimensions = int(self._llm.n_embd())
        self._lock = threading.Lock()

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        return self._embed([self.prompts.document + t for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        vector: np.ndarray = self._embed([self.prompts.query + text])[0]
        return vector

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Several short texts embedded as questions are (single words, for their neighbours)."""
        return self._embed([self.prompts.query + t for t in texts])

    def count_tokens(self, texts: list[str], *, query: bool = False) -> int:
        """Tokens the model reads for `texts` embedded as queries or documents (prompts
        included, each truncated to the context as `_embed` does): an API's usage."""
        prefix = self.prompts.query if query else self.prompts.document
        n_ctx = int(self._llm.n_ctx())
        with self._lock:
            return sum(
                min(n_ctx, len(self._llm.tokenize(normalise(prefix + t).encode("utf-8"))))
                for t in texts
            )

    def _embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        normalised = [normalise(t) for t in texts]
        with self._lock:
            vectors = self._llm.embed(normalised, normalize=True, truncate=True)
        rows: np.ndarray = np.asarray(vectors, dtype=np.float32)
        return rows.reshape(len(texts), self.dimensions)

    def close(self) -> None:
        with self._lock:
            self._llm.close()
