"""Subcommands whose features are announced but not shipped in this version."""

from __future__ import annotations

import argparse

from lanterne.cli.output import error, print_json
from lanterne.context import AppContext
from lanterne.translation import _

PENDING = {
    "quick-ask": _("open the quick-ask window"),
}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for name in PENDING:
        p = sub.add_parser(name, help=_(PENDING[name]) + " " + _("(not yet available)"))
        p.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
        p.add_argument("--json", action="store_true", help=_("print the result as JSON"))
        p.set_defaults(func=cmd_pending, pending_name=name)


def cmd_pending(args: argparse.Namespace, ctx: AppContext) -> int:
    message = _("'lanterne {name}' is not yet available in this version.").format(
        name=args.pending_name
    )
    if args.json:
        print_json({"error": message, "available": False})
        return 1
    return error(message)
