"""Errors the engine raises, each with a message a user can act on."""

from __future__ import annotations

from pathlib import Path

from lanterne.foundation.translation import _


class EngineError(Exception):
    """Base class: `str(error)` is a complete, user-facing sentence."""


class NoModelConfiguredError(EngineError):
    pass


class ModelLoadError(EngineError):
    pass


class GenerationCancelledError(EngineError):
    pass


class ModelFileMissingError(ModelLoadError):
    """The chosen model's file is no longer where it was (moved, deleted, or a drive gone)."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            _(
                "The model file {path} is no longer there (moved or deleted). Choose a model "
                "with 'lanterne models list' and 'lanterne models use NAME', or import the "
                "file from its new place with 'lanterne models import PATH'."
            ).format(path=path)
        )
        self.path = path
