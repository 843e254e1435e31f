"""Settings variants to compare, as written on the command line or in the evaluation page."""

from __future__ import annotations

from pathlib import Path

from lanterne.foundation.settings import SettingsError, Value, checked
from lanterne.foundation.translation import _


def parse_variant(text: str) -> dict[str, Value]:
    """ "answer.length=short,answer.tone=formal" -> their checked values."""
    values: dict[str, Value] = {}
    for part in (p for p in text.split(",") if p.strip()):
        key, sep, value = part.partition("=")
        if not sep:
            raise SettingsError(
                _("A variant is written KEY=VALUE, not {text!r}").format(text=part.strip())
            )
        values[key.strip()] = checked(key.strip(), value.strip())
    return values


def run_label(model: Path, overrides: dict[str, Value], with_model: bool) -> str:
    """What tells this run from the others beside it: the model when several are compared,
    the settings it changes."""
    parts = [model.stem] if with_model else []
    parts += [f"{key.split('.')[-1]}={value}" for key, value in overrides.items()]
    return " ".join(parts) or model.stem
