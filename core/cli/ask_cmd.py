"""`lanterne ask QUESTION`: streams the answer, then lists its sources."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from lanterne.cli.output import error, print_json
from lanterne.cli.shown_reasoning import ShownReasoning
from lanterne.context import AppContext
from lanterne.foundation.translation import _

if TYPE_CHECKING:
    from lanterne.assistant.answer import Answer


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ask = sub.add_parser("ask", help=_("answer a question from your documents"))
    ask.add_argument("question", metavar="QUESTION")
    ask.add_argument("--model", type=Path, metavar="PATH", help=_("GGUF model file to use"))
    ask.add_argument("--no-docs", action="store_true", help=_("answer without the documents"))
    ask.add_argument(
        "--schema",
        type=Path,
        metavar="FILE",
        help=_("answer with JSON that follows this JSON schema (local model)"),
    )
    ask.add_argument(
        "--grammar",
        type=Path,
        metavar="FILE",
        help=_("answer only with text this GBNF grammar allows (local model)"),
    )
    ask.add_argument(
        "--show-reasoning",
        action="store_true",
        help=_("print the model's reasoning before its answer, apart from it"),
    )
    ask.add_argument("--json", action="store_true", help=_("print the result as JSON"))
    ask.set_defaults(func=cmd_ask)


def _print_sources(answer: Answer) -> None:
    if not answer.citations:
        return
    print("\n\n" + _("Sources:"))
    for c in answer.citations:
        where = c.path + (f" — {c.heading}" if c.heading else "")
        if c.page is not None:
            where += " " + _("(page {page})").format(page=c.page)
        print(f"[{c.n}] {where}")


def cmd_ask(args: argparse.Namespace, ctx: AppContext) -> int:
    from lanterne.assistant.pipeline import Finished, Thinking, Token  # the engine: when asking
    from lanterne.engine.json_grammar import SchemaError, load_schema, parse_output
    from lanterne.engine.sampler_chain import GrammarError

    if args.schema and args.grammar:
        return error(_("Give --schema or --grammar, not both."))
    grammar: str | None = None
    if args.grammar:
        try:
            grammar = args.grammar.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            return error(
                _("The grammar file {path} cannot be read: {error}").format(
                    path=args.grammar, error=exc.strerror if isinstance(exc, OSError) else exc
                )
            )

    reasoning = ShownReasoning(sys.stdout)
    cancel = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_a: cancel.set())
    answer: Answer | None = None
    try:
        schema = load_schema(args.schema) if args.schema else None
        for event in ctx.assistant.ask(
            args.question,
            model_path=args.model,
            use_docs=not args.no_docs,
            cancel=cancel,
            schema=schema,
            grammar=grammar,
        ):
            streamed = not (args.json or schema)
            if isinstance(event, Thinking) and streamed and args.show_reasoning:
                reasoning.thought(event.text)
            elif isinstance(event, Token) and streamed:
                reasoning.answer_begins()
                sys.stdout.write(event.text)
                sys.stdout.flush()
            elif isinstance(event, Finished):
                answer = event.answer
        assert answer is not None
        if schema is not None:
            if answer.declined:
                return error(
                    _("Declined by your organisation's rules: {topic}").format(
                        topic=answer.declined
                    )
                )
            data = parse_output(answer.text)
    except (SchemaError, GrammarError) as exc:
        return error(str(exc))
    finally:
        reasoning.close()
        signal.signal(signal.SIGINT, previous)
    if args.json:
        print_json({**answer.to_json(), **({"data": data} if schema is not None else {})})
    elif schema is not None:
        print_json(data)
    else:
        _print_sources(answer)
        sys.stdout.write("\n")
    return 130 if answer.stopped else 0
