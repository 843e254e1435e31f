"""The user's models: catalog, fit, downloads, imports and the one in use, from settings.

The engine modules each do one job on plain inputs (catalog, planner, hub download, registry);
this joins them to the settings (models folder, hub or mirror address, context size, the active
model) and the keychain (the Hugging Face token), for the CLI and the GUI alike.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path

from lanterne.engine import secrets
from lanterne.engine.catalog import Catalog, CatalogModel, Quant, load_catalog
from lanterne.engine.errors import ModelLoadError
from lanterne.engine.gguf_header import read_summary
from lanterne.engine.hardware import Hardware, probe
from lanterne.engine.hub_download import (
    ProgressCallback,
    RemoteFile,
    download_files,
)
from lanterne.engine.model_fit import Fit, Recommendation, assess, assess_all, recommend
from lanterne.engine.model_store import InstalledModel, ModelStore
from lanterne.engine.secrets import KeychainError
from lanterne.engine.starter import StarterOffer, starter_offer
from lanterne.foundation import paths
from lanterne.foundation.settings import Settings, SettingsError
from lanterne.foundation.translation import _, current_language

DEFAULT_HUB = "https://huggingface.co"


ReleaseFiles = Callable[[Sequence[Path]], object]


class ModelLibrary:
    def __init__(
        self,
        settings: Settings,
        catalog: Catalog | None = None,
        *,
        release: ReleaseFiles | None = None,
    ) -> None:
        """`release`: lets go of model files this process holds (the loaded chat model) before
        they are deleted, since Windows cannot delete a file that is mapped."""
        self.settings = settings
        self.catalog = catalog or load_catalog()
        self.release = release

    @property
    def models_dir(self) -> Path:
        folder = self.settings.get_str("models.directory")
        return Path(folder).expanduser() if folder else paths.data_dir() / "models"

    @cached_property
    def store(self) -> ModelStore:
        return ModelStore(paths.data_dir() / "models.json", self.models_dir)

    @property
    def endpoint(self) -> str:
        """The hub or mirror: the setting (IT policy), else HF_ENDPOINT, else huggingface.co."""
        url = self.settings.get_str("models.hub_url") or os.environ.get("HF_ENDPOINT", "")
        return (url or DEFAULT_HUB).rstrip("/")

    # --- Hugging Face token, in the keychain under the hub's address -----------------------

    def token(self) -> str | None:
        """The stored token; None without one, or without a keychain (public repos need none)."""
        try:
            return secrets.get_api_key(self.endpoint)
        except KeychainError:
            return None

    def set_token(self, token: str) -> None:
        secrets.set_api_key(self.endpoint, token)

    def forget_token(self) -> bool:
        return secrets.delete_api_key(self.endpoint)

    # --- Fit and recommendation ------------------------------------------------------------

    @cached_property
    def hardware(self) -> Hardware:
        return probe()

    @property
    def n_ctx(self) -> int:
        return self.settings.get_int("model.context_size")

    def fits(self) -> list[Fit]:
        return assess_all(self.catalog, self.hardware, self.n_ctx)

    def fit(self, model: CatalogModel, quant: Quant) -> Fit:
        return assess(model, quant, self.hardware, self.n_ctx)

    def _language(self, language: str | None) -> str:
        language = language or self.settings.get_str("ui.language") or current_language()
        return language if language in ("fr", "en") else "en"  # the languages Lanterne answers in

    def recommend(self, language: str | None = None) -> Recommendation:
        return recommend(self.catalog, self.hardware, self.n_ctx, self._language(language))

    def starter_offer(
        self, recommendation: Recommendation | None = None, language: str | None = None
    ) -> StarterOffer | None:
        """The catalog's small model to start with while the recommended one downloads, or
        None: see `engine.starter`; also None when downloads are off or either model is not
        allowed by policy, or when either is already installed (nothing to wait for)."""
        if not self.settings.policy.downloads:
            return None
        language = self._language(language)
        recommendation = recommendation or recommend(
            self.catalog, self.hardware, self.n_ctx, language
        )
        offer = starter_offer(self.catalog, self.hardware, self.n_ctx, recommendation, language)
        if offer is None:
            return None
        try:
            self.settings.check_model(offer.model.id)
            self.settings.check_model(offer.recommended.id)
        except SettingsError:
            return None
        if self.store.find(offer.model.id) or self.store.find(offer.recommended.id):
            return None
        return offer

    # --- Installing ------------------------------------------------------------------------

    def download(
        self,
        name: str,
        quant: str | None = None,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> InstalledModel:
        """Fetch a catalog model (resuming a partial download), verify it, register it."""
        policy = self.settings.policy
        if not policy.downloads:
            raise SettingsError(_("Model downloads are turned off by your organisation."))
        model = self.catalog.get(name)
        self.settings.check_model(model.id)
        q = model.quant(quant)
        dest = self.models_dir.joinpath(*model.repo.split("/"))
        known = self.store.find(model.id)

        def already_verified(path: Path, remote: RemoteFile) -> bool:
            return known is not None and remote.sha256 in known.sha256 and str(path) in known.files

        results = download_files(
            model.repo,
            q.files,
            dest,
            revision=model.revision,
            endpoint=self.endpoint,
            token=self.token(),
            progress=progress,
            cancel=cancel,
            verified=already_verified,
        )
        files = tuple(str(path) for path, _remote in results)
        header = read_summary(
            results[0][0]
        )  # a verified file that llama.cpp cannot read is no model
        installed = InstalledModel(
            name=model.id if known is None or known.quant == q.name else f"{model.id}-{q.name}",
            path=files[0],
            files=files,
            size=sum(r.size for _p, r in results),
            source="catalog",
            architecture=header.architecture,
            catalog_id=model.id,
            quant=q.name,
            repo=model.repo,
            revision=results[0][1].commit,
            sha256=tuple(r.sha256 for _p, r in results),
        )
        self.store.record_download(installed)
        if model.role == "embedding":
            if not self.settings.get_str("retrieval.embedding_model"):
                self.use(installed.name)
        elif not self.active_path():
            self.use(installed.name)
        return installed

    def import_file(
        self, path: Path, *, name: str | None = None, copy: bool = False, use: bool = False
    ) -> InstalledModel:
        self.settings.check_model(str(path))
        model = self.store.import_file(path, name=name, copy=copy)
        if use or not (self.embedding_path() if self._is_embedding(model) else self.active_path()):
            self.use(model.name)
        return model

    def remove(self, name: str) -> InstalledModel:
        """Forget a model and delete the files Lanterne owns. A file still in use raises
        ModelStoreError in words, and the entry and settings stay as they were."""
        model = self.store.get(name)
        if model.owned and self.release is not None:
            self.release([Path(f) for f in model.files])
        model = self.store.remove(model.name)
        for key in ("model.path", "retrieval.embedding_model"):
            if self.settings.get_str(key) == model.path:
                self.settings.set(key, "")
                self.settings.save()
        return model

    # --- The model in use ------------------------------------------------------------------

    def active_path(self) -> str:
        return self.settings.get_str("model.path")

    def embedding_path(self) -> str:
        return self.settings.get_str("retrieval.embedding_model")

    def use(self, name: str) -> InstalledModel:
        """Answer with it, or, for an embedding model, search with it."""
        model = self.store.get(name)
        self.settings.check_model(
            model.name, model.path, *([model.catalog_id] if model.catalog_id else [])
        )
        key = "retrieval.embedding_model" if self._is_embedding(model) else "model.path"
        self.settings.set(key, model.path)
        self.settings.save()
        return model

    def _is_embedding(self, model: InstalledModel) -> bool:
        listed = {m.id: m for m in self.catalog.models}
        if model.catalog_id in listed:
            return listed[model.catalog_id].role == "embedding"
        try:
            return read_summary(Path(model.path)).is_embedding_model
        except ModelLoadError:
            return False

    def installed(self) -> list[tuple[InstalledModel, bool]]:
        """Each registered model and whether it is the one in use."""
        active = {self.active_path(), self.embedding_path()} - {""}
        return [(m, m.path in active) for m in self.store.list()]
