"""`POST /v1/embeddings` with the embedding model search uses (the built-in multilingual-e5-small
unless `retrieval.embedding_model` names another).

Models such as e5 expect a prefix saying whether a text is a question or a passage. A client of
OpenAI's API cannot say, so texts are embedded as queries, what e5's authors advise for
symmetric use (similarity, clustering); `"lanterne": {"input_type": "document"}` embeds them as
passages, as the index stores them. Vectors come back normalised (length 1), as float lists or
as base64 of little-endian float32 (what the `openai` package asks for by default).
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np

from lanterne.embedding_model import configured_embedder
from lanterne.foundation.settings import Settings
from lanterne.foundation.translation import _
from lanterne.serve.errors import ApiError, bad_request
from lanterne.serve.models import embedding_model

MAX_INPUTS = 2048  # OpenAI's own limit per request


def _inputs(value: Any) -> list[str]:
    texts = [value] if isinstance(value, str) else value
    if not isinstance(texts, list) or not texts:
        raise bad_request(_("input must be a string or a list of strings."), "input")
    if not all(isinstance(t, str) for t in texts):
        raise bad_request(_("input must be text: Lanterne does not take token numbers."), "input")
    if len(texts) > MAX_INPUTS:
        raise bad_request(
            _("input holds {n} texts; at most {limit} are embedded at once.").format(
                n=len(texts), limit=MAX_INPUTS
            ),
            "input",
        )
    return texts


def _as_query(options: Any) -> bool:
    if options is None:
        return True
    kind = options.get("input_type", "query") if isinstance(options, dict) else None
    if kind not in ("query", "document"):
        raise bad_request(_("lanterne.input_type must be query or document."), "lanterne")
    return bool(kind == "query")


def create_embeddings(settings: Settings, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_request(_("The request body must be a JSON object."))
    name = body.get("model")
    if not isinstance(name, str) or not name.strip():
        raise bad_request(_("model is required: the name of a model /v1/models lists."), "model")
    texts = _inputs(body.get("input"))
    encoding = body.get("encoding_format") or "float"
    if encoding not in ("float", "base64"):
        raise bad_request(_("encoding_format must be float or base64."), "encoding_format")
    query = _as_query(body.get("lanterne"))
    served = embedding_model(settings)
    if served is None:
        raise ApiError(
            503,
            _(
                "Search by meaning is turned off (retrieval.embedding_model is 'none'), so "
                "Lanterne has no embedding model to serve; empty the setting to use the "
                "built-in one."
            ),
            kind="server_error",
            code="model_not_configured",
        )
    if not served.answers_to(name):
        raise ApiError(
            404,
            _("Lanterne's embedding model is {model}, not {name}.").format(
                model=served.id, name=name
            ),
            code="model_not_found",
            param="model",
        )
    embedder, problem = configured_embedder(settings)
    if embedder is None:
        raise ApiError(503, problem or "", kind="server_error", code="model_not_available")
    dimensions = body.get("dimensions")
    if dimensions is not None and dimensions != embedder.dimensions:
        raise bad_request(
            _("{model} gives vectors of {n} dimensions only.").format(
                model=served.id, n=embedder.dimensions
            ),
            "dimensions",
        )
    vectors = embedder.embed_queries(texts) if query else embedder.embed_documents(texts)
    tokens = embedder.count_tokens(texts, query=query)
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": i, "embedding": _encoded(row, encoding)}
            for i, row in enumerate(vectors)
        ],
        "model": served.id,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def _encoded(row: np.ndarray, encoding: str) -> list[float] | str:
    if encoding == "base64":
        return base64.b64encode(row.astype("<f4").tobytes()).decode("ascii")
    return [float(x) for x in row]
