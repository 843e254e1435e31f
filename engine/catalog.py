"""The models Lanterne recommends, read from the versioned data file shipped beside this module.

The catalog is data (`catalog.json`), not code, so it can be reviewed and updated without
touching the engine; this module only reads and checks it. Each entry names a Hugging Face
repository, the file(s) of each quantization (several for split GGUFs, possibly in a folder of
the repository), their size, licence, languages, the sampling its card recommends, how its
reasoning is switched, and the architecture figures the planner needs to judge the fit before a
download. What could not be checked against the publisher's own listing is named in the
entry's `unverified` list (see docs/models.md), so a reviewer knows what to confirm.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from lanterne.engine.errors import EngineError
from lanterne.engine.gguf_header import GGUFSummary
from lanterne.engine.shape_estimate import ModelShape
from lanterne.foundation.translation import _, current_language

CATALOG_PATH = Path(__file__).with_name("catalog.json")
FORMAT = 1
RAM_TIERS = (8, 16, 32, 64)  # GB: the machines an entry is meant for (64: 64 GB and more)
# The fields an entry may mark as not checked against the publisher's listing or card; "files"
# and "size" may also name one quantization ("size:Q8_0").
UNVERIFIABLE = ("repo", "files", "size", "licence", "languages", "sampling", "reasoning", "shape")
REASONING_CONTROLS = ("enable_thinking", "reasoning_effort")  # the chat templates' switches


class CatalogError(EngineError):
    """The catalog file is unreadable, or a name matches no entry."""


@dataclass(frozen=True)
class Quant:
    name: str  # "Q4_K_M", "Q8_0", "MXFP4"
    files: tuple[str, ...]  # in the repository; several parts for a split GGUF
    size: int  # bytes, all parts together
    size_exact: bool


@dataclass(frozen=True)
class Sampling:
    """The sampling a model card recommends; None where the card says nothing of a setting."""

    temperature: float
    top_p: float | None = None
    top_k: int | None = None
    min_p: float | None = None
    repeat_penalty: float | None = None
    presence_penalty: float | None = None

    def to_json(self) -> dict[str, float | int]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class Reasoning:
    """How the chat template switches the model's reasoning before its answer."""

    control: str  # the template variable: "enable_thinking" or "reasoning_effort"
    values: tuple[str | bool, ...]
    default: str | bool | None  # what the template does when not told; None: not stated
    off: str | bool | None  # the value that answers without reasoning; None: it always reasons
    sampling: Sampling | None = None  # what the card recommends while reasoning, if different

    def to_json(self) -> dict[str, object]:
        return {
            "control": self.control,
            "values": list(self.values),
            "default": self.default,
            "off": self.off,
            "sampling": self.sampling.to_json() if self.sampling else None,
        }


@dataclass(frozen=True)
class CatalogModel:
    id: str
    name: str
    maker: str
    role: str  # "chat" or "embedding"
    tier: str  # "small", "medium", "large": the machines it is meant for
    ram_tier: int  # the same in GB of RAM (RAM_TIERS), for the lineup and the docs
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
    sampling: Sampling | None = None  # None: the card recommends nothing (or it was not read)
    reasoning: Reasoning | None = None  # None: the model does not reason before answering
    unverified: tuple[str, ...] = ()  # UNVERIFIABLE names not checked against the publisher

    def verified(self, name: str, quant: str | None = None) -> bool:
        """Whether `name` ("size", "files"…) was checked, for the whole entry or `quant`."""
        return name not in self.unverified and (
            quant is None or f"{name}:{quant.upper()}" not in self.unverified
        )

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
            "ram_tier": self.ram_tier,
            "sampling": self.sampling.to_json() if self.sampling else None,
            "reasoning": self.reasoning.to_json() if self.reasoning else None,
            "unverified": list(self.unverified),
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
        ram_tier=_ram_tier(raw),
        sampling=_sampling(raw.get("sampling"), raw["id"]),
        reasoning=_reasoning(raw.get("reasoning"), raw["id"]),
        unverified=tuple(raw.get("unverified", ())),
    )
    if model.starter and model.role != "chat":
        raise ValueError(_("{model}: only a chat model can be the starter").format(model=model.id))
    if not quants or not all(q.files for q in quants):
        raise ValueError(
            _("{model}: every quantization needs at least one file").format(model=model.id)
        )
    model.quant()  # the default quantization exists
    for name in (f for q in quants for f in q.files):
        if not _repo_path(name):
            raise ValueError(
                _("{model}: {file} is not a .gguf file of the repository").format(
                    model=model.id, file=name
                )
            )
    _check_unverified(model)
    return model


def _repo_path(name: str) -> bool:
    """A .gguf file at the repository's top or in one folder of it (split GGUFs often are)."""
    parts = name.split("/")
    return (
        name.endswith(".gguf")
        and "\\" not in name
        and len(parts) <= 2
        and all(p and p not in (".", "..") for p in parts)
    )


def _ram_tier(raw: dict[str, Any]) -> int:
    value = raw.get("ram_tier")
    if value not in RAM_TIERS or isinstance(value, bool):
        raise ValueError(
            _("{model}: ram_tier must be one of {tiers}").format(
                model=raw.get("id"), tiers=", ".join(map(str, RAM_TIERS))
            )
        )
    return int(value)


_SAMPLING_LIMITS = {
    "temperature": (0.0, 2.0),
    "top_p": (0.0, 1.0),
    "top_k": (0, 1000),
    "min_p": (0.0, 1.0),
    "repeat_penalty": (1.0, 2.0),
    "presence_penalty": (0.0, 2.0),
}


def _sampling(raw: object, model: str) -> Sampling | None:
    if raw is None:
        return None
    bad = _("{model}: sampling must give a temperature and known settings within their range")
    if not isinstance(raw, dict) or "temperature" not in raw:
        raise ValueError(bad.format(model=model))
    for key, value in raw.items():
        low, high = _SAMPLING_LIMITS.get(key, (1, 0))
        integral = key == "top_k"
        if (
            isinstance(value, bool)
            or not isinstance(value, int if integral else (int, float))
            or not low <= value <= high
        ):
            raise ValueError(bad.format(model=model))
    return Sampling(**raw)


def _reasoning(raw: object, model: str) -> Reasoning | None:
    if raw is None:
        return None
    bad = _(
        "{model}: reasoning needs a known control, its values, and a default and an 'off' "
        "among them"
    )
    if not isinstance(raw, dict) or raw.get("control") not in REASONING_CONTROLS:
        raise ValueError(bad.format(model=model))
    values = raw.get("values")
    if not isinstance(values, list) or not values:
        raise ValueError(bad.format(model=model))
    if not all(isinstance(v, (str, bool)) for v in values):
        raise ValueError(bad.format(model=model))
    default, off = raw.get("default"), raw.get("off")
    chosen = [v for v in (default, off) if v is not None]
    if not all(isinstance(v, (str, bool)) and v in values for v in chosen):
        raise ValueError(bad.format(model=model))
    return Reasoning(
        control=raw["control"],
        values=tuple(values),
        default=default,
        off=off,
        sampling=_sampling(raw.get("sampling"), model),
    )


def _check_unverified(model: CatalogModel) -> None:
    quants = {q.name.upper() for q in model.quants}
    for name in model.unverified:
        field_name, _sep, quant = str(name).partition(":")
        known = field_name in UNVERIFIABLE and (
            not quant or (field_name in ("files", "size") and quant.upper() in quants)
        )
        if not isinstance(name, str) or not known:
            raise ValueError(
                _("{model}: '{name}' in unverified is not one of {fields}").format(
                    model=model.id, name=name, fields=", ".join(UNVERIFIABLE)
                )
            )


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
