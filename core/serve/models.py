"""Which model names the API answers to: the chat model, `lanterne-documents`, the embedding model.

Names are read from the settings at each request, so a model chosen in the app is served at once.
The chat model is known by its installed name (a catalog id, or an imported file's stem), its
file's stem and its file name; with a remote backend, by the server's model name.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from lanterne.embedding_model import NONE
from lanterne.engine import builtin_embedder
from lanterne.engine.model_store import ModelStore, ModelStoreError
from lanterne.foundation import paths
from lanterne.foundation.settings import Settings

DOCUMENTS_MODEL = "lanterne-documents"
OWNER = "lanterne"
log = logging.getLogger("lanterne.serve")


@dataclass(frozen=True)
class Served:
    """A model as `/v1/models` lists it, and every name a request may use for it."""

    id: str
    names: frozenset[str]

    def answers_to(self, name: str) -> bool:
        return name.strip().lower() in self.names


def _served(id_: str, *names: str) -> Served:
    return Served(id_, frozenset(n.strip().lower() for n in (id_, *names) if n.strip()))


def _installed_names(path: str) -> list[str]:
    """The names `lanterne models` lists the file under (catalog id first)."""
    store = ModelStore(paths.data_dir() / "models.json", paths.data_dir() / "models")
    try:
        models = store.list()
    except (ModelStoreError, OSError):
        return []
    found = [m for m in models if m.path == path]
    return [n for m in found for n in (m.catalog_id or "", m.name) if n]


def _local_file(path: str) -> Served:
    names = _installed_names(path)
    file = Path(path)
    return _served(names[0] if names else file.stem, *names, file.stem, file.name)


def chat_model(settings: Settings) -> Served | None:
    """The plain chat model, or None when none is chosen. With a remote backend whose model is
    not named, the server is asked which one it serves (None if it cannot say)."""
    if settings.get_str("engine.backend") == "remote":
        url = settings.get_str("remote.url")
        if not url:
            return None
        if name := settings.get_str("remote.model"):
            return _served(name)
        from lanterne.engine.remote import RemoteChatBackend
        from lanterne.engine.remote_errors import RemoteError

        try:
            with RemoteChatBackend(url, timeout=10.0) as backend:
                models = backend.list_models()
        except RemoteError as exc:
            log.info("the remote server's models could not be listed: %s", exc)
            return None
        return _served(models[0]) if len(models) == 1 else None
    path = settings.get_str("model.path")
    return _local_file(path) if path else None


def embedding_model(settings: Settings) -> Served | None:
    """The model `/v1/embeddings` uses: the one search uses, None when search is by words."""
    setting = settings.get_str("retrieval.embedding_model")
    if setting.lower() == NONE:
        return None
    if not setting:
        return _served(builtin_embedder.NAME, Path(builtin_embedder.FILE_NAME).stem)
    return _local_file(setting)


def model_list(settings: Settings) -> list[Served]:
    found = [chat_model(settings), _served(DOCUMENTS_MODEL), embedding_model(settings)]
    return [m for m in found if m is not None]
