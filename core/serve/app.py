"""The API's endpoints, as a Starlette application: `/v1/models`, `/v1/chat/completions`,
`/v1/embeddings`. Work that blocks (the model, the keychain, the index) runs on threads, never
on the event loop."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from typing import Any

import anyio.to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from lanterne.context import AppContext
from lanterne.foundation.translation import _
from lanterne.serve.answer_response import AnswerResponse, Answers
from lanterne.serve.chat_request import parse_chat_request
from lanterne.serve.chat_runs import RunEvent, run_chat
from lanterne.serve.embeddings import create_embeddings
from lanterne.serve.errors import ApiError, api_error, bad_request, no_model_configured
from lanterne.serve.guard import Guard
from lanterne.serve.models import DOCUMENTS_MODEL, OWNER, chat_model, model_list

MAX_BODY = 32 * 1024 * 1024  # a long conversation, or a batch of texts to embed


def error_response(error: ApiError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


async def read_json(request: Request) -> Any:
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_BODY:
        raise ApiError(413, _("The request is too large."), code="request_too_large")
    body = await request.body()
    try:
        return json.loads(body)
    except ValueError:
        raise bad_request(_("The request body is not valid JSON.")) from None


def build_app(ctx: AppContext, answers: Answers) -> ASGIApp:
    async def models(_request: Request) -> Response:
        served = await anyio.to_thread.run_sync(model_list, ctx.settings)
        return JSONResponse(
            {
                "object": "list",
                "data": [
                    {"id": m.id, "object": "model", "created": 0, "owned_by": OWNER} for m in served
                ],
            }
        )

    async def chat_completions(request: Request) -> Response:
        try:
            chat = parse_chat_request(await read_json(request))
            documents = chat.model.lower() == DOCUMENTS_MODEL
            if documents:
                name = DOCUMENTS_MODEL
            else:
                if chat.has_filters:
                    raise bad_request(
                        _("The lanterne object applies to lanterne-documents only."), "lanterne"
                    )
                served = await anyio.to_thread.run_sync(chat_model, ctx.settings)
                if served is None:
                    raise no_model_configured()
                if not served.answers_to(chat.model):
                    raise _unknown_model(chat.model, served.id)
                name = served.id
        except ApiError as error:
            return error_response(error)

        def produce(cancel: threading.Event) -> Iterator[RunEvent]:
            return run_chat(ctx, chat, documents, cancel)

        return AnswerResponse(
            produce,
            name,
            stream=chat.stream,
            include_usage=chat.include_usage,
            answers=answers,
        )

    async def embeddings(request: Request) -> Response:
        try:
            body = await read_json(request)
            result = await anyio.to_thread.run_sync(
                functools.partial(create_embeddings, ctx.settings, body)
            )
        except Exception as exc:
            return error_response(api_error(exc))
        return JSONResponse(result)

    async def not_found(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        message = (
            _("Lanterne does not serve {method} {path}.").format(
                method=request.method, path=request.url.path
            )
            if status in (404, 405)
            else _("Lanterne failed to answer.")
        )
        kind = "invalid_request_error" if status < 500 else "server_error"
        return error_response(ApiError(status, message, kind=kind))

    app = Starlette(
        routes=[
            Route("/v1/models", models, methods=["GET"]),
            Route("/v1/chat/completions", chat_completions, methods=["POST"]),
            Route("/v1/embeddings", embeddings, methods=["POST"]),
        ],
        exception_handlers={HTTPException: not_found},
    )
    return Guard(app, lambda: ctx.settings.get_str("api.allowed_origins"))


def _unknown_model(name: str, chat: str) -> ApiError:
    return ApiError(
        404,
        _("Lanterne has no model named {name}; use {chat} or {documents}.").format(
            name=name, chat=chat, documents=DOCUMENTS_MODEL
        ),
        code="model_not_found",
        param="model",
    )
