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
from lanterne.indexer.retriever import Mode

if TYPE_CHECKING:  # llama.cpp is loaded only when an embedding model is configured
    from lanterne.engine.embedder import Embedder
from lanterne.settings import Settings
from lanterne.translation import _

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
    with _lock:
        if setting in _loaded:
            return _loaded[setting], None
        if not path.is_file():
            return None, _("The embedding model is missing: {path}").format(path=path)
        from lanterne.engine.embedder import Embedder

        try:
            embedder = Embedder(path)
        except ModelLoadError as exc:
            return None, str(exc)
        _loaded[setting] = embedder
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
