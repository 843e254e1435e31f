"""Errors the engine raises, each with a message a user can act on."""


class EngineError(Exception):
    """Base class: `str(error)` is a complete, user-facing sentence."""


class NoModelConfiguredError(EngineError):
    pass


class ModelLoadError(EngineError):
    pass


class GenerationCancelledError(EngineError):
    pass
