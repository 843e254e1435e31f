"""`lanterne search QUERY`."""

from __future__ import annotations

import argparse

from lanterne.cli.output import print_json
from lanterne.context import AppContext
from lanterne.indexer.retriever import Retriever
from lanterne.translation import _


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    search = sub.add_parser("search", help=_("find passages in the indexed documents"))
    search.add_argument("query", metavar="QUERY")
    search.add_argument("-k", type=int, default=10, help=_("how many results (default 10)"))
    search.add_argument("--json", action="store_true", help=_("print the result as JSON"))
    search.set_defaults(func=cmd_search)


def cmd_search(args: argparse.Namespace, ctx: AppContext) -> int:
    store = ctx.open_store()
    results = Retriever(store).search(args.query, args.k)
    store.close()
    if args.json:
        print_json({"results": [r.to_json() for r in results]})
        return 0
    if not results:
        print(_("No passage matches."))
    for i, r in enumerate(results, start=1):
        where = r.path + (f" — {r.heading}" if r.heading else "")
        if r.page is not None:
            where += " " + _("(page {page})").format(page=r.page)
        print(f"{i}. {where}\n   {r.snippet}")
    return 0
