"""The configured embedding model, loaded once per process and shared by search, ask and indexing.

With `retrieval.embedding_model` empty (the default) it is the model every install ships
(`engine/builtin_embedder.py`), so search is by meaning from the first folder added; "none" turns
it off. A missing or broken embedding model must never stop search: callers get None and the
reason, and fall back to words only.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from lanterne.engine.errors import ModelLoadError
from lanterne.indexer.embedding import model_key
from lanterne.indexer.retriever import Mode
from lanterne.indexer.store import IndexStore

if TYPE_CHECKING:  # llama.cpp is loaded only when an embedding model is configured
    from lanterne.engine.embedder import Embedder
from lanterne.foundation.settings import Settings
from lanterne.foundation.translation import _

NONE = "none"  # retrieval.embedding_model's value for "words only"
_lock = threading.Lock()
_loaded: dict[str, Embedder] = {}


def configured_embedder(settings: Settings) -> tuple[Embedder | None, str | None]:
    """(the model, None), (None, None) when none is set, or (None, why it cannot be used)."""
    setting = settings.get_str("retrieval.embedding_model")
    if setting.lower() == NONE:
        return None, None
    if not setting:
        from lanterne.engine import builtin_embedder

        path = builtin_embedder.shipped_path()
        if problem := builtin_embedder.problem(path):
            return None, problem
    else:
        path = Path(setting).expanduser()
    return _load(path)


def search_embedder(settings: Settings, store: IndexStore) -> tuple[Embedder | None, str | None]:
    """The model whose vectors search reads: the configured one, except while a newly chosen
    model has embedded fewer passages than the one before it; then the earlier model (its
    vectors are kept until the new ones are complete), so search by meaning never gets worse
    while a larger model is embedding in the background."""
    embedder, problem = configured_embedder(settings)
    if embedder is None:
        return embedder, problem
    key = model_key(embedder)
    if not store.has_other_vectors(key):  # the usual case, answered without a scan
        return embedder, None
    models = store.vector_models()  # most vectors first
    mine = next((m.count for m in models if m.model == key), 0)
    for earlier in models:
        if earlier.model == key or earlier.count <= mine:
            break
        path = Path(earlier.path)
        if earlier.path and path.is_file():
            previous, _problem = _load(path)
            if previous is not None and model_key(previous) == earlier.model:
                return previous, None
    return embedder, None


def _load(path: Path) -> tuple[Embedder | None, str | None]:
    with _lock:
        if str(path) in _loaded:
            return _loaded[str(path)], None
        if not path.is_file():
            return None, _("The embedding model is missing: {path}").format(path=path)
        from lanterne.engine.embedder import Embedder

        try:
            embedder = Embedder(path)
        except ModelLoadError as exc:
            return None, str(exc)
        _loaded[str(path)] = embedder
        return embedder, None


def retrieval_mode(settings: Settings) -> Mode:
    mode = settings.get_str("retrieval.mode")
    if mode == "lexical":
        return "lexical"
    return "dense" if mode == "dense" else "hybrid"


def close_embedders() -> None:
    with _lock:
        for embedder in _loaded.values():
            embedder.close()
        _loaded.clear()
