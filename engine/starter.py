"""The small model to start with while the recommended one downloads.

A first run should not wait for a download of several gigabytes before its first answer. The
catalog marks one small chat model as the starter (`"starter": true`); it is offered beside the
recommendation when waiting for the recommendation would be much longer and the starter runs on
this machine. Catalog and hardware are judged here; the organisation's policy and what is
already installed are the library's to check (`ModelLibrary.starter_offer`).
"""

from __future__ import annotations

from dataclasses import dataclass

from lanterne.engine.catalog import Catalog, CatalogModel, Quant
from lanterne.engine.hardware import Hardware
from lanterne.engine.model_fit import Fit, Recommendation, assess
from lanterne.foundation.translation import _, format_size

# The recommendation's download must be at least this many times the starter's: a model about
# as small is as quick to fetch, and two downloads would only slow the better one.
SIZE_RATIO = 2.0


@dataclass(frozen=True)
class StarterOffer:
    model: CatalogModel  # the starter
    quant: Quant
    fit: Fit  # the planner's verdict for the starter here
    recommended: CatalogModel
    recommended_quant: Quant
    reason: str  # one sentence in the interface's language, for the wizard and Models dialog
    then: str  # what to do once the recommended model is ready

    def to_json(self) -> dict[str, object]:
        return {
            "model": self.model.id,
            "quant": self.quant.name,
            "size": self.quant.size,
            "fit": self.fit.to_json(),
            "recommended": self.recommended.id,
            "recommended_quant": self.recommended_quant.name,
            "reason": self.reason,
            "then": self.then,
        }


def starter_offer(
    catalog: Catalog,
    hardware: Hardware,
    n_ctx: int,
    recommendation: Recommendation,
    language: str,
) -> StarterOffer | None:
    """The starter to offer beside `recommendation`, or None: no starter in the catalog, none
    recommended, the starter is the recommendation or about as small, it does not speak
    `language`, or it does not fit this machine."""
    starter = catalog.starter()
    recommended, fit = recommendation.model, recommendation.fit
    if starter is None or recommended is None or fit is None or recommended.id == starter.id:
        return None
    if language not in starter.languages and language != "en":
        return None
    quant = starter.quant()
    recommended_quant = recommended.quant(fit.quant)
    if recommended_quant.size < SIZE_RATIO * quant.size:
        return None
    starter_fit = assess(starter, quant, hardware, n_ctx)
    if not starter_fit.fits:
        return None
    reason = _(
        "Start with {starter} ({size}, ready in a few minutes) while {recommended} "
        "({recommended_size}) downloads."
    ).format(
        starter=starter.name,
        size=format_size(quant.size),
        recommended=recommended.name,
        recommended_size=format_size(recommended_quant.size),
    )
    then = _(
        "Once {recommended} is ready, switch to it in one click: your conversations stay."
    ).format(recommended=recommended.name)
    return StarterOffer(starter, quant, starter_fit, recommended, recommended_quant, reason, then)
