"""Printing helpers shared by the subcommands."""

from __future__ import annotations

import json
import sys
from typing import Any


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def error(message: str) -> int:
    sys.stderr.write(f"lanterne: {message}\n")
    return 1
