"""`lanterne export FILE`: conversations as demonstration data (JSONL), previewed or written."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lanterne.assistant.pipeline import answer_style
from lanterne.assistant.prompt import AnswerStyle
from lanterne.cli.output import (
    disk_full,
    error,
    holds_any_text,
    json_text,
    parse_day,
    print_json,
)
from lanterne.context import AppContext
from lanterne.conversations.demonstrations import (
    RATINGS,
    DemonstrationFilter,
    demonstrations,
    export_file,
    exported_text,
    first_matches,
    write_jsonl,
)
from lanterne.conversations.store import ConversationStore
from lanterne.foundation.db_faults import DiskFullError
from lanterne.foundation.translation import _, ngettext


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    export = sub.add_parser(
        "export",
        help=_("write conversations as demonstration data for fine-tuning (JSONL)"),
        description=_(
            "One example per answer, in the chat fine-tuning format: the conversation so far, "
            "the question with its sources, and the answer (your correction if you made one). "
            "The file is written where you say; nothing is sent anywhere."
        ),
    )
    export.add_argument(
        "output", nargs="?", metavar="FILE", help=_("where to write (- for standard output)")
    )
    export.add_argument(
        "--since", metavar="YYYY-MM-DD", help=_("only questions asked on or after this day")
    )
    export.add_argument(
        "--until", metavar="YYYY-MM-DD", help=_("only questions asked on or before this day")
    )
    export.add_argument(
        "--folder", type=Path, metavar="DIR", help=_("only answers with a source under this folder")
    )
    export.add_argument(
        "--rating",
        choices=RATINGS,
        default="any",
        help=_("only answers rated up, down, or not rated (default: any)"),
    )
    export.add_argument("--edited", action="store_true", help=_("only answers you corrected"))
    export.add_argument(
        "--preview",
        type=int,
        nargs="?",
        const=3,
        metavar="N",
        help=_("show how many answers match and the first N examples (3), writing nothing"),
    )
    export.add_argument(
        "--no-metadata",
        action="store_true",
        help=_("messages only, for tools that reject other keys"),
    )
    export.add_argument("--json", action="store_true", help=_("print the outcome as JSON"))
    export.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace, ctx: AppContext) -> int:
    if not ctx.settings.get_bool("house.allow_export"):
        return error(
            _("Your organisation does not allow exporting conversations (house.allow_export).")
        )
    if args.output is None and args.preview is None:
        return error(
            _("Say where to write the export (a file, or - for the screen), or --preview.")
        )
    try:
        where = DemonstrationFilter(
            since=parse_day(args.since),
            until=parse_day(args.until),
            folder=args.folder,
            rating=args.rating,
            edited_only=args.edited,
        )
    except ValueError as exc:
        return error(str(exc))
    style, metadata = answer_style(ctx.settings), not args.no_metadata
    store = ConversationStore(ctx.conversations_path)
    try:
        if args.preview is not None:
            return _preview(store, where, args, style, metadata)
        if args.output == "-":
            ascii_only = not holds_any_text(sys.stdout)
            write_jsonl(demonstrations(store, where), sys.stdout, style, metadata, ascii_only)
            return 0
        path = Path(args.output)
        if not path.expanduser().parent.is_dir():
            return error(_("No such folder: {path}").format(path=path.expanduser().parent))
        try:
            count = export_file(demonstrations(store, where), path, style, metadata)
        except DiskFullError as exc:
            return disk_full(exc)
        except OSError as exc:
            return error(_("Could not write {path}: {reason}").format(path=path, reason=exc))
    finally:
        for notice in store.take_notices():  # the database was damaged and restored
            print(notice, file=sys.stderr)
        store.close()
    if args.json:
        print_json({"count": count, "path": str(path.expanduser().resolve())})
    else:
        print(exported_text(count, path))
    return 0


def _preview(
    store: ConversationStore,
    where: DemonstrationFilter,
    args: argparse.Namespace,
    style: AnswerStyle,
    metadata: bool,
) -> int:
    count, first = first_matches(store, where, args.preview)
    examples = [demo.example(style, metadata) for demo in first]
    if args.json:
        print_json({"count": count, "examples": examples})
        return 0
    text = ngettext("{n} answer matches.", "{n} answers match.", count)
    print(text.format(n=count))
    for example in examples:
        print(json_text(example, sys.stdout))
    return 0
