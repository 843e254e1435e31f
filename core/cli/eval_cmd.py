"""`lanterne eval QUESTIONS`: answer a question set with one or more models or settings, check
each answer, save the runs and show them side by side; `--compare` shows saved runs again."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Any

from lanterne.assets import asset_path
from lanterne.cli.output import error, print_json
from lanterne.context import AppContext
from lanterne.evaluation.variants import parse_variant, run_label
from lanterne.foundation.settings import Value
from lanterne.foundation.translation import _


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "eval",
        help=_("measure models and settings on a question set over your documents"),
        description=_(
            "Each model (--model) is run with each settings variant (--variant); every run is "
            "saved under the data directory and the runs are shown side by side."
        ),
    )
    p.add_argument("questions", nargs="?", type=Path, metavar="QUESTIONS")
    p.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="NAME",
        help=_("an installed model's name or a GGUF file (repeat to compare models)"),
    )
    p.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="KEY=VALUE[,KEY=VALUE]",
        help=_("settings for one run, e.g. answer.length=short (repeat to compare settings)"),
    )
    p.add_argument(
        "--compare", nargs="+", type=Path, metavar="RUN", help=_("show saved runs side by side")
    )
    p.add_argument("--list", action="store_true", help=_("list the saved runs"))
    p.add_argument(
        "--example",
        type=Path,
        metavar="FOLDER",
        help=_("write the sample documents and question set (French and English) to FOLDER"),
    )
    p.add_argument("--json", action="store_true", help=_("print the result as JSON"))
    p.set_defaults(func=cmd_eval)


def _model_path(ctx: AppContext, name: str) -> Path:
    path = Path(name).expanduser()
    if path.is_file():
        return path
    from lanterne.model_library import ModelLibrary

    return Path(ModelLibrary(ctx.settings).store.get(name).path)


def print_table(rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for number, row in enumerate(rows):
        first = row[0].ljust(widths[0])
        print(
            "  ".join(
                [first, *(cell.rjust(w) for cell, w in zip(row[1:], widths[1:], strict=True))]
            )
        )
        if number == 0:
            print("  ".join("-" * w for w in widths))


def _show(runs: list[dict[str, Any]], saved: list[Path], as_json: bool) -> None:
    from lanterne.evaluation.results import comparison_table

    if as_json:
        print_json({"runs": [{**r, "file": str(p)} for r, p in zip(runs, saved, strict=True)]})
        return
    print_table(comparison_table(runs))
    print()
    for path in saved:
        print(_("Saved: {path}").format(path=path))


def cmd_eval(args: argparse.Namespace, ctx: AppContext) -> int:
    from lanterne.evaluation.question_set import QuestionSetError, load_question_set
    from lanterne.evaluation.results import load_run, save_run

    if args.example is not None:
        target = args.example
        shutil.copytree(asset_path("eval"), target, dirs_exist_ok=True)
        print(
            _(
                "Sample written to {folder}. Try:\n  lanterne index add {docs}\n"
                "  lanterne eval {questions} --variant answer.length=short "
                "--variant answer.length=detailed"
            ).format(folder=target, docs=target / "documents", questions=target / "questions.jsonl")
        )
        return 0
    if args.list:
        return _list(args.json)
    if args.compare:
        try:
            compared = [load_run(p) for p in args.compare]
        except ValueError as exc:
            return error(str(exc))
        _show(compared, list(args.compare), args.json)
        return 0
    if args.questions is None:
        return error(_("Give a question set (QUESTIONS), or --compare, --list or --example."))
    variants = [parse_variant(v) for v in args.variant] or [{}]
    try:
        questions = load_question_set(args.questions)
    except QuestionSetError as exc:
        return error(str(exc))
    models: list[Path | None] = [_model_path(ctx, m) for m in args.model] or [None]
    runs: list[dict[str, Any]] = []
    saved: list[Path] = []
    for model in models:
        for overrides in variants:
            label = run_label(
                model or Path(ctx.settings.get_str("model.path")),
                overrides,
                with_model=len(models) > 1 or not args.variant,
            )
            run = _run(ctx, questions, label, model, overrides, quiet=args.json)
            runs.append(run)
            saved.append(save_run(run))
    _show(runs, saved, args.json)
    return 0


def _list(as_json: bool) -> int:
    from lanterne.evaluation.results import load_run, saved_runs

    listed = []
    for path in saved_runs():
        try:
            run = load_run(path)
        except ValueError as exc:  # a file someone edited: said, and the others still listed
            sys.stderr.write(f"lanterne: {exc}\n")
            continue
        listed.append(
            {"file": str(path), "label": run["label"], "created": run["created"], **run["summary"]}
        )
    if as_json:
        print_json(listed)
    for entry in [] if as_json else listed:
        print(f"{Path(entry['file']).name}  {entry['label']}  ({entry['created']})")
    return 0


def _run(
    ctx: AppContext,
    questions: Any,
    label: str,
    model: Path | None,
    overrides: dict[str, Value],
    quiet: bool,
) -> dict[str, Any]:
    from lanterne.evaluation.runner import run_evaluation

    def progress(number: int, total: int, item: Any) -> None:
        if not quiet:
            sys.stderr.write(f"[{label}] {number}/{total} {item.question}\n")

    run = run_evaluation(
        questions,
        ctx.settings,
        ctx.host,
        ctx.index_path,
        label=label,
        model_path=model,
        overrides=overrides,
        progress=progress,
    )
    if run["summary"]["errors"]:
        sys.stderr.write(
            _("lanterne: {count} of {total} questions failed in {label}: {error}").format(
                count=run["summary"]["errors"],
                total=run["summary"]["questions"],
                label=label,
                error=run["first_error"],
            )
            + "\n"
        )
    return run
