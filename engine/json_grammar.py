"""JSON output for scripts: a JSON schema turned into the grammar llama.cpp samples under, so the
model can only write a JSON value of that shape (llama-cpp-python's converter, which follows
llama.cpp's own json-schema-to-grammar)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from llama_cpp.llama_grammar import json_schema_to_gbnf

from lanterne.foundation.translation import _


class SchemaError(ValueError):
    """A schema that cannot be used, or an answer that is not the JSON it asked for."""


def load_schema(path: Path) -> dict[str, Any]:
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise SchemaError(
            _("Cannot read the JSON schema {path}: {error}").format(path=path, error=exc)
        ) from exc
    if not isinstance(schema, dict):
        raise SchemaError(_("The JSON schema {path} must be an object.").format(path=path))
    return schema


def schema_grammar(schema: dict[str, Any]) -> str:
    """The GBNF grammar of the JSON values `schema` allows."""
    try:
        grammar = str(json_schema_to_gbnf(json.dumps(schema)))
    # The converter reports a bad schema by assertions as well as by exceptions.
    except (
        AssertionError,
        KeyError,
        ValueError,
        TypeError,
        RecursionError,
        NotImplementedError,
    ) as exc:
        raise SchemaError(
            _("This JSON schema cannot be turned into a grammar: {error}").format(error=exc)
        ) from exc
    # The vendored converter lets a string hold raw control characters (a line break), which
    # JSON forbids; llama.cpp's own converter excludes them, as here.
    return grammar.replace(_LOOSE_CHAR, _JSON_CHAR)


_LOOSE_CHAR = 'char ::= [^"\\\\] |'
_JSON_CHAR = 'char ::= [^"\\\\\\x7F\\x00-\\x1F] |'


def parse_output(text: str) -> Any:
    """The JSON value the model wrote; an answer cut short says how to get all of it."""
    try:
        return json.loads(text)
    except ValueError as exc:
        raise SchemaError(
            _(
                "The answer stopped before its JSON was complete ({error}): raise "
                "model.max_answer_tokens."
            ).format(error=exc)
        ) from exc
