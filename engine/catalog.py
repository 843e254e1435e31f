"""The models Lanterne recommends, read from the versioned data file shipped beside this module.

The catalog is data (`catalog.json`), not code, so it can be reviewed and updated without
touching the engine; this module only reads and checks it. Each entry names a Hugging Face
repository, the file(s) of each quantization (several for split GGUFs), their size, licence,
languages, and the architecture figures the planner needs to judge the fit before a download.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from lanterne.engine.errors import EngineError
from lanterne.engine.gguf_header import GGUFSummary
from lanterne.engine.shape_estimate import ModelShape
from lanterne.translation import _, current_language

CATALOG_PATH = Path(__file__).with_name("catalog.json")
FORMAT = 1


class CatalogError(EngineError):
    """The catalog file is unreadable, or a name matches no entry."""


@dataclass(frozen=True)
class Quant:
    name: str  # "Q4_K_M", "Q8_0", "MXFP4"
    files: tuple[str, ...]  # in the repository; several parts for a split GGUF
    size: int  # bytes, all parts together
    size_exact: bool


@dataclass(frozen=True)
class CatalogModel:
    id: str
    name: str
    maker: str
    role: str  # "chat" or "embedding"
    tier: str  # "small", "medium", "large": the machines it is meant for
    rank: int  # higher is more capable; the recommendation takes the best that runs well
    moe: bool
    params_total: int
    params_active: int
    licence: str
    licence_url: str
    languages: tuple[str, ...]
    repo: str
    revision: str
    default_quant: str
    quants: tuple[Quant, ...]
    shape: ModelShape
    descriptions: dict[str, str] = field(default_factory=dict)
    licence_notes: dict[str, str] = field(default_factory=dict)
    embedding: dict[str, Any] | None = None
    # A small chat model offered beside the recommendation, to use while it downloads; never
    # the recommendation itself where anything else fits (see `model_fit.recommend`).
    starter: bool = False

    @property
    def description(self) -> str:
        """In the interface's language, English when the catalog has no text for it."""
        return self.descriptions.get(current_language()) or self.descriptions.get("en", "")

    @property
    def licence_note(self) -> str:
        notes = self.licence_notes
        return notes.get(current_language()) or notes.get("en", "")

    def quant(self, name: str | None = None) -> Quant:
        wanted = (name or self.default_quant).upper()
        for q in self.quants:
            if q.name.upper() == wanted:
                return q
        raise CatalogError(
            _("{model} has no {quant} file; available: {names}.").format(
                model=self.name, quant=name, names=", ".join(q.name for q in self.quants)
            )
        )

    def estimated_summary(self, quant: Quant) -> GGUFSummary:
        """What the planner would read in the file's header (see `shape_estimate`)."""
        return self.shape.summary(f"{self.name} {quant.name}", quant.size, Path(quant.files[0]))

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "maker": self.maker,
            "role": self.role,
            "tier": self.tier,
            "rank": self.rank,
            "moe": self.moe,
            "params_total": self.params_total,
            "params_active": self.params_active,
            "licence": self.licence,
            "licence_url": self.licence_url,
            "licence_note": self.licence_note or None,
            "languages": list(self.languages),
            "description": self.description,
            "repo": self.repo,
            "revision": self.revision,
            "default_quant": self.default_quant,
            "quants": [
                {"name": q.name, "files": list(q.files), "size": q.size, "size_exact": q.size_exact}
                for q in self.quants
            ],
            "architecture": self.shape.architecture,
            "context_length": self.shape.context_length,
            "starter": self.starter,
        }


@dataclass(frozen=True)
class Catalog:
    version: str
    models: tuple[CatalogModel, ...]

    def chat_models(self) -> tuple[CatalogModel, ...]:
        return tuple(m for m in self.models if m.role == "chat")

    def embedding_models(self) -> tuple[CatalogModel, ...]:
        return tuple(m for m in self.models if m.role == "embedding")

    def starter(self) -> CatalogModel | None:
        """The small chat model to start with while the recommended one downloads."""
        return next((m for m in self.models if m.starter), None)

    def get(self, name: str) -> CatalogModel:
        """By id (`qwen3-30b-a3b-instruct-2507`), case-insensitively, or by its repository."""
        key = name.strip().lower()
        for m in self.models:
            if key in (m.id, m.repo.lower(), m.name.lower()):
                return m
        raise CatalogError(
            _("No model named '{name}' in the catalog. Known: {ids}.").format(
                name=name, ids=", ".join(m.id for m in self.models)
            )
        )


def _model(raw: dict[str, Any]) -> CatalogModel:
    shape = dict(raw["shape"])
    if shape.get("attention_layers") is not None:
        shape["attention_layers"] = tuple(shape["attention_layers"])
    quants = tuple(
        Quant(q["name"], tuple(q["files"]), int(q["size"]), bool(q.get("size_exact", True)))
        for q in raw["quants"]
    )
    model = CatalogModel(
        id=raw["id"],
        name=raw["name"],
        maker=raw["maker"],
        role=raw["role"],
        tier=raw["tier"],
        rank=int(raw["rank"]),
        moe=bool(raw["moe"]),
        params_total=int(raw["params_total"]),
        params_active=int(raw["params_active"]),
        licence=raw["licence"],
        licence_url=raw["licence_url"],
        languages=tuple(raw["languages"]),
        repo=raw["repo"],
        revision=raw.get("revision", "main"),
        default_quant=raw["default_quant"],
        quants=quants,
        shape=ModelShape(**shape),
        descriptions=dict(raw.get("description", {})),
        licence_notes=dict(raw.get("licence_note", {})),
        embedding=raw.get("embedding"),
        starter=_flag(raw, "starter"),
    )
    if model.starter and model.role != "chat":
        raise ValueError(_("{model}: only a chat model can be the starter").format(model=model.id))
    if not quants or not all(q.files for q in quants):
        raise ValueError(
            _("{model}: every quantization needs at least one file").format(model=model.id)
        )
    model.quant()  # the default quantization exists
    return model


def _flag(raw: dict[str, Any], key: str) -> bool:
    """An optional true/false field; anything else ("yes", 1) means a damaged catalog."""
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise ValueError(
            _("{model}: {key} must be true or false").format(model=raw.get("id"), key=key)
        )
    return value


def parse_catalog(text: str) -> Catalog:
    try:
        raw = json.loads(text)
        if raw.get("format") != FORMAT:
            raise ValueError(
                _("format {found!r}, expected {expected}").format(
                    found=raw.get("format"), expected=FORMAT
                )
            )
        models = tuple(_model(m) for m in raw["models"])
    except (ValueError, KeyError, TypeError, CatalogError) as exc:
        raise CatalogError(
            _("The model catalog is damaged ({error}). Reinstall Lanterne.").format(error=exc)
        ) from exc
    ids = [m.id for m in models]
    if len(set(ids)) != len(ids):
        raise CatalogError(_("The model catalog lists a model twice. Reinstall Lanterne."))
    if sum(m.starter for m in models) > 1:
        raise CatalogError(_("The model catalog names two starter models. Reinstall Lanterne."))
    return Catalog(version=str(raw.get("version", "")), models=models)


@cache
def load_catalog(path: Path = CATALOG_PATH) -> Catalog:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(
            _("The model catalog cannot be read ({error}). Reinstall Lanterne.").format(
                error=exc.strerror or exc
            )
        ) from exc
    return parse_catalog(text)
