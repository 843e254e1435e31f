"""Errors in OpenAI's shape, `{"error": {"message", "type", "code", "param"}}`, with the HTTP
status its clients act on (the `openai` package raises a distinct exception per status, and
retries 429 and 5xx after `Retry-After`). Messages are the user's words, never a traceback."""

from __future__ import annotations

import logging
from typing import Any

from lanterne.engine.errors import (
    EngineError,
    GenerationCancelledError,
    ModelFileMissingError,
    ModelLoadError,
    NoModelConfiguredError,
)
from lanterne.engine.json_grammar import SchemaError
from lanterne.engine.prompt_cache import ContextFullError
from lanterne.engine.remote_errors import RemoteError
from lanterne.engine.secrets import KeychainError
from lanterne.foundation.db_faults import DatabaseDamagedError
from lanterne.foundation.settings import SettingsError
from lanterne.foundation.translation import _
from lanterne.model_gate import GateFullError

log = logging.getLogger("lanterne.serve")


class ApiError(Exception):
    """A request answered with an error; `str()` is the message a client shows."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        kind: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.code = code
        self.param = param
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": str(self),
                "type": self.kind,
                "code": self.code,
                "param": self.param,
            }
        }


def bad_request(message: str, param: str | None = None, code: str | None = None) -> ApiError:
    return ApiError(400, message, param=param, code=code or "invalid_value")


def no_model_configured() -> ApiError:
    return ApiError(
        503,
        _(
            "No chat model is chosen in Lanterne yet. Choose one in the app (File › Models), "
            "or run 'lanterne models recommend', 'lanterne models download NAME' and "
            "'lanterne models use NAME'."
        ),
        kind="server_error",
        code="model_not_configured",
    )


def context_too_long(message: str) -> ApiError:
    return ApiError(400, message, code="context_length_exceeded", param="messages")


def api_error(exc: BaseException) -> ApiError:
    """What a client is told of `exc`, raised while its request was answered."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, GateFullError):
        return ApiError(
            429,
            str(exc),
            kind="requests",
            code="rate_limit_exceeded",
            headers={"Retry-After": str(exc.retry_after)},
        )
    if isinstance(exc, NoModelConfiguredError):
        return no_model_configured()
    if isinstance(exc, ModelFileMissingError | ModelLoadError | KeychainError):
        return ApiError(503, str(exc), kind="server_error", code="model_not_available")
    if isinstance(exc, ContextFullError):
        return context_too_long(str(exc))
    if isinstance(exc, SchemaError):
        return bad_request(str(exc), param="response_format")
    if isinstance(exc, SettingsError):  # the organisation's policy: a model or server refused
        return ApiError(403, str(exc), kind="permission_error", code="forbidden_by_policy")
    if isinstance(exc, RemoteError):
        return ApiError(502, str(exc), kind="server_error", code="upstream_error")
    if isinstance(exc, DatabaseDamagedError):
        return ApiError(503, str(exc), kind="server_error", code="index_unavailable")
    if isinstance(exc, GenerationCancelledError):
        return ApiError(503, str(exc), kind="server_error", code="cancelled")
    if isinstance(exc, EngineError):
        return ApiError(500, str(exc), kind="server_error")
    log.exception("a request failed", exc_info=exc)
    return ApiError(
        500,
        _("Lanterne failed to answer: {error}").format(error=str(exc) or type(exc).__name__),
        kind="server_error",
    )
