"""Files the app ships (icons), installed as the data package `lanterne.assets`."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def asset_path(name: str) -> Path:
    """The installed path of a shipped file, e.g. `asset_path("lanterne.svg")`."""
    return Path(str(files(__name__).joinpath(name)))
