"""A `POST /v1/chat/completions` body, checked field by field into what Lanterne runs.

Fields follow OpenAI's API as the `openai` package sends them; what Lanterne cannot honour is
refused with the field's name (400) rather than silently ignored: images and audio, tools, more
than one choice. The optional `lanterne` object filters the sources of `lanterne-documents`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from lanterne.foundation.translation import _
from lanterne.indexer.retriever import NO_FILTERS, SearchFilters
from lanterne.serve.errors import bad_request

Message = dict[str, str]
ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}
LANGUAGES = ("fr", "en", "other")
MAX_STOPS = 4


@dataclass(frozen=True)
class ChatRequest:
    model: str
    messages: list[Message]
    stream: bool = False
    include_usage: bool = False
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: list[str] = field(default_factory=list)
    seed: int | None = None
    schema: dict[str, Any] | None = None  # the JSON schema the answer must follow
    filters: SearchFilters = NO_FILTERS
    has_filters: bool = False
    reasoning: str | None = None  # `reasoning_effort`, as answer.reasoning names it


def _number(body: dict[str, Any], name: str, low: float, high: float) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise bad_request(
            _("{name} must be a number from {low} to {high}.").format(
                name=name, low=low, high=high
            ),
            param=name,
        )
    return float(value)


def _integer(body: dict[str, Any], name: str, low: int) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise bad_request(
            _("{name} must be a whole number of at least {low}.").format(name=name, low=low),
            param=name,
        )
    return value


def _content(value: Any, param: str) -> str:
    """A message's text: a string, or a list of text parts (what newer clients send)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        texts = []
        for j, part in enumerate(value):
            kind = part.get("type") if isinstance(part, dict) else None
            if kind != "text" or not isinstance(part.get("text"), str):
                raise bad_request(
                    _("Lanterne reads text only; {param}[{j}] is {kind}.").format(
                        param=param, j=j, kind=kind or _("not a text part")
                    ),
                    param=param,
                )
            texts.append(part["text"])
        return "".join(texts)
    raise bad_request(_("{param} must be text.").format(param=param), param=param)


def _messages(value: Any) -> list[Message]:
    if not isinstance(value, list) or not value:
        raise bad_request(_("messages must be a list of at least one message."), "messages")
    messages = []
    for i, message in enumerate(value):
        param = f"messages[{i}]"
        if not isinstance(message, dict):
            raise bad_request(_("{param} must be an object.").format(param=param), param)
        role = message.get("role")
        if role not in ROLES:
            raise bad_request(
                _(
                    "{param}.role must be system, developer, user or assistant, not {role!r}."
                ).format(param=param, role=role),
                f"{param}.role",
            )
        if message.get("tool_calls") or message.get("function_call"):
            raise bad_request(_("Lanterne does not call tools."), f"{param}.tool_calls")
        content = _content(message.get("content"), f"{param}.content")
        entry = {"role": ROLES[role], "content": content}
        # A turn's reasoning, as vLLM's clients send it back (newer ones: `reasoning`).
        reasoning = message.get("reasoning_content") or message.get("reasoning")
        if role == "assistant" and isinstance(reasoning, str) and reasoning:
            entry["reasoning_content"] = reasoning
        messages.append(entry)
    return messages


# OpenAI's `reasoning_effort` values, as answer.reasoning names them.
EFFORTS = {"none": "off", "off": "off", "minimal": "low", "low": "low"}
EFFORTS |= {"medium": "medium", "high": "high"}


def _reasoning(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value.lower() not in EFFORTS:
        raise bad_request(
            _("reasoning_effort must be none, minimal, low, medium or high."), "reasoning_effort"
        )
    return EFFORTS[value.lower()]


def _stop(value: Any) -> list[str]:
    if value is None:
        return []
    stops = [value] if isinstance(value, str) else value
    if (
        not isinstance(stops, list)
        or len(stops) > MAX_STOPS
        or not all(isinstance(s, str) for s in stops)
    ):
        raise bad_request(
            _("stop must be a string or a list of at most {n} strings.").format(n=MAX_STOPS),
            "stop",
        )
    return [s for s in stops if s]


def _schema(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    kind = value.get("type") if isinstance(value, dict) else None
    if kind == "text":
        return None
    if kind == "json_object":
        return {"type": "object"}
    if kind == "json_schema":
        spec = value.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if not isinstance(schema, dict):
            raise bad_request(
                _("response_format.json_schema.schema must be a JSON schema (an object)."),
                "response_format.json_schema.schema",
            )
        return schema
    raise bad_request(
        _("response_format.type must be text, json_object or json_schema."), "response_format"
    )


def _strings(options: dict[str, Any], name: str) -> tuple[str, ...]:
    value = options.get(name, [])
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
        raise bad_request(
            _("lanterne.{name} must be a list of strings.").format(name=name), f"lanterne.{name}"
        )
    return tuple(values)


def _moment(options: dict[str, Any], name: str) -> datetime | None:
    value = options.get(name)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise bad_request(
            _("lanterne.{name} must be a date such as 2025-01-31.").format(name=name),
            f"lanterne.{name}",
        ) from None
    return moment if moment.tzinfo else moment.astimezone()


def parse_filters(value: Any) -> SearchFilters:
    """The `lanterne` object: `folders` (absolute paths), `types` (suffixes: "pdf"),
    `languages` (fr, en, other), `modified_after` and `modified_before` (ISO dates)."""
    if value is None:
        return NO_FILTERS
    if not isinstance(value, dict):
        raise bad_request(_("lanterne must be an object."), "lanterne")
    known = {"folders", "types", "languages", "modified_after", "modified_before"}
    if unknown := sorted(set(value) - known):
        raise bad_request(
            _("lanterne accepts {known}; not {unknown}.").format(
                known=", ".join(sorted(known)), unknown=", ".join(unknown)
            ),
            "lanterne",
        )
    folders = []
    for folder in _strings(value, "folders"):
        path = Path(folder).expanduser()
        if not path.is_absolute():
            raise bad_request(
                _("lanterne.folders must hold absolute paths, not {path}.").format(path=folder),
                "lanterne.folders",
            )
        folders.append(path.resolve())
    languages = _strings(value, "languages")
    if bad := [lang for lang in languages if lang not in LANGUAGES]:
        raise bad_request(
            _("lanterne.languages accepts fr, en and other; not {values}.").format(
                values=", ".join(bad)
            ),
            "lanterne.languages",
        )
    return SearchFilters(
        folders=tuple(folders),
        types=tuple(t.lower().lstrip(".") for t in _strings(value, "types")),
        languages=languages,
        modified_after=_moment(value, "modified_after"),
        modified_before=_moment(value, "modified_before"),
    )


def parse_chat_request(body: Any) -> ChatRequest:
    if not isinstance(body, dict):
        raise bad_request(_("The request body must be a JSON object."))
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise bad_request(_("model is required: the name of a model /v1/models lists."), "model")
    if body.get("n") not in (None, 1):
        raise bad_request(_("Lanterne writes one answer per request: n must be 1."), "n")
    if body.get("tools") or body.get("functions"):
        raise bad_request(_("Lanterne does not call tools."), "tools")
    options = body.get("stream_options")
    if options is not None and not isinstance(options, dict):
        raise bad_request(_("stream_options must be an object."), "stream_options")
    stream = body.get("stream") is True
    max_tokens = _integer(body, "max_completion_tokens", 1)
    if max_tokens is None:
        max_tokens = _integer(body, "max_tokens", 1)
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise bad_request(_("seed must be a whole number."), "seed")
    return ChatRequest(
        model=model.strip(),
        messages=_messages(body.get("messages")),
        stream=stream,
        include_usage=stream and bool((options or {}).get("include_usage")),
        max_tokens=max_tokens,
        temperature=_number(body, "temperature", 0.0, 2.0),
        top_p=_number(body, "top_p", 0.0, 1.0),
        stop=_stop(body.get("stop")),
        seed=seed,
        schema=_schema(body.get("response_format")),
        filters=parse_filters(body.get("lanterne")),
        has_filters=body.get("lanterne") is not None,
        reasoning=_reasoning(body.get("reasoning_effort")),
    )
