"""`lanterne ask --schema FILE`: the model samples under the schema's grammar, so even random
weights write JSON of that shape; bad schemas and cut answers are said in words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lanterne.engine.json_grammar import SchemaError, load_schema, parse_output, schema_grammar
from support.cli import lanterne

CHOICE = {
    "type": "object",
    "properties": {
        "answer": {"enum": ["oui", "non"]},
        "confidence": {"enum": ["low", "high"]},
    },
    "required": ["answer", "confidence"],
}


def test_a_schema_becomes_a_grammar_rooted_in_its_shape() -> None:
    grammar = schema_grammar(CHOICE)
    root = next(line for line in grammar.splitlines() if line.startswith("root ::="))
    assert "answer" in root and "confidence" in root


def test_strings_in_the_grammar_hold_no_raw_control_characters() -> None:
    """JSON forbids a raw line break inside a string: the grammar must not let the model write
    one (the vendored converter did, and a real answer then failed to parse)."""
    from llama_cpp.llama_grammar import LlamaGrammar

    grammar = schema_grammar({"type": "object", "properties": {"mirror": {"type": "string"}}})
    (char,) = [line for line in grammar.splitlines() if line.startswith("char ::=")]
    assert char.startswith('char ::= [^"\\\\\\x7F\\x00-\\x1F] |')
    LlamaGrammar.from_string(grammar, verbose=False)  # llama.cpp's parser takes it


def test_unusable_schemas_and_answers_are_explained(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(SchemaError, match="Cannot read the JSON schema"):
        load_schema(bad)
    bad.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(SchemaError, match="must be an object"):
        load_schema(bad)
    with pytest.raises(SchemaError, match="cannot be turned into a grammar"):
        schema_grammar({"$ref": "#/definitions/missing"})
    with pytest.raises(SchemaError, match=r"raise model\.max_answer_tokens"):
        parse_output('{"answer": "ou')


@pytest.mark.model
def test_even_a_random_model_answers_in_the_schema_s_shape(
    lanterne_home: Path, tiny_moe_model: Path, tmp_path: Path
) -> None:
    schema = tmp_path / "choice.json"
    schema.write_text(json.dumps(CHOICE), encoding="utf-8")
    for _attempt in range(2):  # greedy: the same JSON each time
        done = lanterne(
            "ask",
            "Le VPN est-il obligatoire ?",
            "--model",
            str(tiny_moe_model),
            "--no-docs",
            "--schema",
            str(schema),
        )
        assert done.returncode == 0, done.stderr
        data = json.loads(done.stdout)
        assert data["answer"] in ("oui", "non") and data["confidence"] in ("low", "high")
    as_json = lanterne(
        "ask",
        "Is it required?",
        "--model",
        str(tiny_moe_model),
        "--no-docs",
        "--schema",
        str(schema),
        "--json",
    )
    assert as_json.returncode == 0, as_json.stderr
    result = json.loads(as_json.stdout)
    assert json.loads(result["answer"]) == result["data"]


@pytest.mark.model
def test_the_real_model_fills_the_schema_from_the_documents(
    lanterne_home: Path, gemma_model: Path, docs_folder: Path, tmp_path: Path
) -> None:
    assert lanterne("index", "add", str(docs_folder)).returncode == 0
    schema = tmp_path / "mirror.json"
    schema.write_text(
        json.dumps(
            {
                "type": "object",
                "properties": {
                    "mirror": {"type": "string", "maxLength": 40},
                    "source": {"type": "integer"},
                },
                "required": ["mirror", "source"],
            }
        ),
        encoding="utf-8",
    )
    done = lanterne(
        "ask",
        "How do I choose a mirror?",
        "--model",
        str(gemma_model),
        "--schema",
        str(schema),
        "--json",
        env={"LANTERNE_HOME": str(lanterne_home)},
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result["data"]) == {"mirror", "source"}
    assert isinstance(result["data"]["mirror"], str) and isinstance(result["data"]["source"], int)
    assert result["citations"]  # the documents were given to it


def test_a_declined_question_gives_no_json(lanterne_home: Path, tmp_path: Path) -> None:
    lanterne_home.mkdir(parents=True, exist_ok=True)
    (lanterne_home / "settings.json").write_text(
        json.dumps({"house.decline_topics": "bonus"}), encoding="utf-8"
    )
    schema = tmp_path / "choice.json"
    schema.write_text(json.dumps(CHOICE), encoding="utf-8")
    done = lanterne("ask", "What is the bonus?", "--schema", str(schema))
    assert done.returncode == 1 and "Declined by your organisation's rules: bonus" in done.stderr
    assert done.stdout == ""
