"""What every request passes before an endpoint: the bearer token, and CORS for browser pages.

A pure ASGI middleware (Starlette's BaseHTTPMiddleware would wrap `receive` and hide the
client's disconnect from a streaming answer). Browser pages get no CORS access unless their
origin is listed in `api.allowed_origins`; preflights from those origins are answered here,
without a token, as browsers send none. A refused token is logged with the client's address and
the path, never the header.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable

import anyio.to_thread
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lanterne.engine.secrets import KeychainError
from lanterne.foundation.translation import _
from lanterne.serve.access import api_token, authorized
from lanterne.serve.errors import ApiError

log = logging.getLogger("lanterne.serve")
_METHODS = "GET, POST, OPTIONS"
_MAX_AGE = "600"


def parse_origins(setting: str) -> frozenset[str]:
    """`api.allowed_origins`: origins separated by spaces or commas, as browsers send them
    (scheme://host[:port], no trailing slash)."""
    return frozenset(o.rstrip("/") for o in re.split(r"[\s,]+", setting) if o)


class Guard:
    def __init__(self, app: ASGIApp, origins: Callable[[], str]) -> None:
        self._app = app
        self._origins = origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        allowed = origin is not None and origin in parse_origins(self._origins())
        method = scope["method"]
        started = time.perf_counter()
        status = 0

        async def send_with_cors(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                if allowed and origin is not None:
                    extra = [
                        (b"access-control-allow-origin", origin.encode("latin-1")),
                        (b"access-control-expose-headers", b"Retry-After"),
                        (b"vary", b"Origin"),
                    ]
                    message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        try:
            if method == "OPTIONS" and "access-control-request-method" in headers:
                await self._preflight(headers, allowed, send_with_cors)
                return
            refused = await self._refusal(headers)
            if refused is not None:
                client = scope.get("client") or ("?", 0)
                log.warning(
                    "refused %s %s from %s: %s", method, scope["path"], client[0], refused.code
                )
                await _send_error(send_with_cors, refused)
                return
            await self._app(scope, receive, send_with_cors)
        finally:
            log.info(
                "%s %s %s %.0f ms",
                method,
                scope["path"],
                status or "-",
                (time.perf_counter() - started) * 1000,
            )

    async def _refusal(self, headers: Headers) -> ApiError | None:
        try:
            token = await anyio.to_thread.run_sync(api_token)
        except KeychainError as exc:
            return ApiError(503, str(exc), kind="server_error", code="token_unavailable")
        if authorized(headers.get("authorization"), token):
            return None
        given = "authorization" in headers
        return ApiError(
            401,
            _("This API key is not Lanterne's: copy the token from Settings › Other apps.")
            if given
            else _(
                "Lanterne needs its API token: send it as 'Authorization: Bearer TOKEN' (the "
                "API key of OpenAI clients). It is shown in Settings › Other apps and by "
                "'lanterne serve --show-token'."
            ),
            code="invalid_api_key",
            headers={"WWW-Authenticate": "Bearer"},
        )

    @staticmethod
    async def _preflight(headers: Headers, allowed: bool, send: Send) -> None:
        if not allowed:
            error = ApiError(
                403,
                _("This web page's origin is not allowed: add it in Settings › Other apps."),
                kind="permission_error",
                code="origin_not_allowed",
            )
            await _send_error(send, error)
            return
        requested = headers.get("access-control-request-headers", "authorization, content-type")
        response_headers = [
            (b"access-control-allow-methods", _METHODS.encode("latin-1")),
            (b"access-control-allow-headers", requested.encode("latin-1")),
            (b"access-control-max-age", _MAX_AGE.encode("latin-1")),
            (b"content-length", b"0"),
        ]
        await send({"type": "http.response.start", "status": 204, "headers": response_headers})
        await send({"type": "http.response.body", "body": b""})


async def _send_error(send: Send, error: ApiError) -> None:
    body = json.dumps(error.body(), ensure_ascii=False).encode("utf-8")
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode("latin-1")),
        *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in error.headers.items()),
    ]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
