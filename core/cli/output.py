"""Printing helpers shared by the subcommands."""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import Any

from lanterne.translation import _


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def error(message: str) -> int:
    sys.stderr.write(f"lanterne: {message}\n")
    return 1


def parse_day(value: str | None) -> date | None:
    """A YYYY-MM-DD option; ValueError says what was wrong, in the user's language."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(_("Not a date (YYYY-MM-DD): {value}").format(value=value)) from None
