"""Whether each catalog model fits this machine, and which one to recommend.

The verdict comes from the offload planner that will load the model (on a header estimated from
the catalog's shape and file size), never from a size rule of thumb, so "fits" here means the
load will succeed with the same context size. The recommendation is the best model that fits
and still answers at a usable speed, by the catalog's capability rank, skipping models that do not
speak the user's language; on a machine where none is fast enough, the fastest one, said so.
The catalog's starter model is the recommendation only where nothing else fits.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lanterne.engine.catalog import Catalog, CatalogModel, Quant
from lanterne.engine.errors import ModelLoadError
from lanterne.engine.gguf_file_types import quant_name
from lanterne.engine.gguf_header import GGUFSummary, read_summary
from lanterne.engine.hardware import Hardware
from lanterne.engine.offload import OffloadPlan, PlanError, plan_offload
from lanterne.engine.speed_estimate import tokens_per_second
from lanterne.foundation.translation import _, format_size

USABLE_TOKENS_PER_SECOND = 10.0  # a little faster than reading; slower answers feel stuck
_RUNS = ("gpu", "experts_on_cpu", "layers_split", "cpu")


@dataclass(frozen=True)
class Fit:
    model_id: str
    quant: str
    # "gpu", "experts_on_cpu", "layers_split", "cpu", "too_large"; for a file on disk also
    # "not_chat" (an embedding model) and "unreadable"
    verdict: str
    tokens_per_second: float | None  # expected generation speed, when it fits
    plan: OffloadPlan | None
    reason: str  # the planner's words: where it runs, or by how much it does not fit

    @property
    def fits(self) -> bool:
        return self.verdict in _RUNS

    @property
    def usable(self) -> bool:
        return self.fits and (self.tokens_per_second or 0) >= USABLE_TOKENS_PER_SECOND

    @property
    def label(self) -> str:
        speed = round(self.tokens_per_second or 0)
        return {
            "gpu": _("runs fully on GPU (~{n} tok/s expected)"),
            "experts_on_cpu": _("runs with experts on CPU (~{n} tok/s expected)"),
            "layers_split": _("runs partly on GPU (~{n} tok/s expected)"),
            "cpu": _("runs on the CPU (~{n} tok/s expected)"),
            "too_large": _("too large"),
            "not_chat": _("for document search, not chat"),
            "unreadable": _("cannot be read"),
        }[self.verdict].format(n=speed)

    def to_json(self) -> dict[str, object]:
        return {
            "model": self.model_id,
            "quant": self.quant,
            "verdict": self.verdict,
            "label": self.label,
            "tokens_per_second": (
                round(self.tokens_per_second, 1) if self.tokens_per_second is not None else None
            ),
            "reason": self.reason,
            "plan": self.plan.to_json() if self.plan else None,
        }


def _verdict(plan: OffloadPlan, n_layer: int) -> str:
    if plan.backend == "cpu":
        return "cpu"
    if plan.cpu_expert_layers and plan.n_gpu_layers >= n_layer:
        return "experts_on_cpu"
    if plan.n_gpu_layers >= n_layer:
        return "gpu"
    return "layers_split"


def assess(model: CatalogModel, quant: Quant, hardware: Hardware, n_ctx: int) -> Fit:
    """The planner's verdict for one file of the catalog on `hardware`."""
    summary = model.estimated_summary(quant)
    return _planned(model.id, quant.name, summary, hardware, min(n_ctx, model.shape.context_length))


def assess_file(path: Path, hardware: Hardware, n_ctx: int, name: str = "") -> Fit:
    """The planner's verdict for a GGUF file on disk, from its real header. `name` (the file's
    stem by default) becomes `model_id`; the quantization is the header's, or ""."""
    model_id = name or path.name.removesuffix(".gguf")
    try:
        summary = read_summary(path)
    except ModelLoadError as exc:
        return Fit(model_id, "", "unreadable", None, None, str(exc))
    except OSError as exc:  # vanished or became unreadable between its checks
        reason = _("The model file cannot be read: {error}").format(error=exc.strerror or exc)
        return Fit(model_id, "", "unreadable", None, None, reason)
    quant = quant_name(summary.file_type)
    if summary.is_embedding_model:
        reason = _(
            "{name} is an embedding model: it finds passages for document search but cannot "
            "answer questions."
        ).format(name=model_id)
        return Fit(model_id, quant, "not_chat", None, None, reason)
    if summary.context_length:
        n_ctx = min(n_ctx, summary.context_length)
    return _planned(model_id, quant, summary, hardware, n_ctx)


def _planned(
    model_id: str, quant: str, summary: GGUFSummary, hardware: Hardware, n_ctx: int
) -> Fit:
    try:
        plan = plan_offload(summary, hardware, n_ctx)
    except PlanError as exc:
        return Fit(model_id, quant, "too_large", None, None, str(exc))
    speed = tokens_per_second(summary, plan, hardware)
    return Fit(model_id, quant, _verdict(plan, summary.n_layer), speed, plan, plan.description)


def assess_all(catalog: Catalog, hardware: Hardware, n_ctx: int) -> list[Fit]:
    return [assess(m, q, hardware, n_ctx) for m in catalog.models for q in m.quants]


@dataclass(frozen=True)
class Recommendation:
    model: CatalogModel | None
    fit: Fit | None
    explanation: str
    considered: tuple[Fit, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "model": self.model.to_json() if self.model else None,
            "fit": self.fit.to_json() if self.fit else None,
            "explanation": self.explanation,
            "considered": [f.to_json() for f in self.considered],
        }


def _choice(model: CatalogModel, hardware: Hardware, n_ctx: int) -> tuple[Fit, list[Fit]]:
    """The best quantization of `model`: a larger one only when it runs fully on the GPU."""
    default = assess(model, model.quant(), hardware, n_ctx)
    fits = [default]
    best = default
    for q in sorted(model.quants, key=lambda q: q.size, reverse=True):
        if q.size <= model.quant().size:
            continue
        fit = assess(model, q, hardware, n_ctx)
        fits.append(fit)
        if fit.verdict == "gpu" and fit.usable and best.quant == default.quant:
            best = fit
    return best, fits


def recommend(catalog: Catalog, hardware: Hardware, n_ctx: int, language: str) -> Recommendation:
    chat = [m for m in catalog.chat_models() if language in m.languages or language == "en"]
    chat.sort(key=lambda m: (m.starter, -m.rank))  # the starter last, whatever its rank
    considered: list[Fit] = []
    skipped: list[str] = []
    fastest: tuple[CatalogModel, Fit] | None = None
    for model in chat:
        if model.starter and fastest is not None:
            break  # a better model fits: the starter is offered beside it (`starter.py`)
        fit, fits = _choice(model, hardware, n_ctx)
        considered.extend(fits)
        if fit.usable:
            explanation = _(
                "{name} ({quant}, {size}) is the most capable model that runs well here: "
                "{label}. {where}"
            ).format(**_words(model, fit))
            if skipped:
                explanation += " " + _("Not chosen: {models}.").format(models="; ".join(skipped))
            return Recommendation(model, fit, explanation, tuple(considered))
        if fit.fits and (
            fastest is None or (fit.tokens_per_second or 0) > (fastest[1].tokens_per_second or 0)
        ):
            fastest = (model, fit)
        why = fit.label if not fit.fits else _("too slow here, {label}").format(label=fit.label)
        skipped.append(f"{model.name} ({why})")
    if fastest is not None:
        model, fit = fastest
        explanation = _(
            "No catalog model answers at a comfortable speed on this machine (at least {n} "
            "tokens a second); the fastest is {name} ({quant}, {size}): {label}. {where}"
        ).format(n=round(USABLE_TOKENS_PER_SECOND), **_words(model, fit))
        return Recommendation(model, fit, explanation, tuple(considered))
    explanation = _("No catalog model fits this machine: {models}.").format(
        models="; ".join(skipped) or _("none speaks this language")
    )
    return Recommendation(None, None, explanation, tuple(considered))


def _words(model: CatalogModel, fit: Fit) -> dict[str, str]:
    quant = model.quant(fit.quant)
    return {
        "name": model.name,
        "quant": quant.name,
        "size": format_size(quant.size),
        "label": fit.label,
        "where": fit.reason,
    }
