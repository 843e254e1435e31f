"""`lanterne search QUERY`."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from lanterne.cli.damaged_index import repairing
from lanterne.cli.output import error, parse_day, print_json
from lanterne.cli.progress_line import understands_ansi
from lanterne.context import AppContext
from lanterne.embedding_model import retrieval_mode, search_embedder
from lanterne.foundation.translation import _
from lanterne.index_repair import rebuild_notice
from lanterne.indexer.index_for_reading import open_index_for_reading
from lanterne.indexer.retriever import Retriever, SearchFilters, SearchResult
from lanterne.indexer.snippets import marked
from lanterne.search_labels import more_passages_label

_LANGUAGES = ("fr", "en", "other")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    search = sub.add_parser("search", help=_("find passages in the indexed documents"))
    search.add_argument("query", metavar="QUERY")
    search.add_argument("-k", type=int, default=10, help=_("how many results (default 10)"))
    search.add_argument(
        "--folder",
        action="append",
        default=[],
        type=Path,
        metavar="DIR",
        help=_("only files under this folder (repeatable)"),
    )
    search.add_argument(
        "--type",
        action="append",
        default=[],
        metavar="EXT",
        help=_("only files with this extension, e.g. pdf (repeatable)"),
    )
    search.add_argument(
        "--lang",
        action="append",
        default=[],
        choices=_LANGUAGES,
        help=_("only passages in this language (repeatable)"),
    )
    search.add_argument(
        "--since", metavar="YYYY-MM-DD", help=_("only files modified on or after this day")
    )
    search.add_argument(
        "--before", metavar="YYYY-MM-DD", help=_("only files modified before this day")
    )
    search.add_argument(
        "--mode",
        choices=("hybrid", "lexical", "dense"),
        help=_("words and meaning fused, words only, or meaning only (default: the setting)"),
    )
    search.add_argument("--json", action="store_true", help=_("print the result as JSON"))
    search.set_defaults(func=cmd_search)


def _day(value: str | None) -> datetime | None:
    day = parse_day(value)
    return None if day is None else datetime(day.year, day.month, day.day).astimezone()


@repairing
def cmd_search(args: argparse.Namespace, ctx: AppContext) -> int:
    try:
        filters = SearchFilters(
            folders=tuple(p.expanduser().resolve() for p in args.folder),
            types=tuple(args.type),
            languages=tuple(args.lang),
            modified_after=_day(args.since),
            modified_before=_day(args.before),
        )
    except ValueError as exc:
        return error(str(exc))
    store, read_only = open_index_for_reading(ctx.index_path)
    if read_only:
        sys.stderr.write(f"lanterne: {read_only}\n")
    try:
        embedder, problem = search_embedder(ctx.settings, store)
        if problem:
            sys.stderr.write(
                _("lanterne: searching by words only: {reason}").format(reason=problem) + "\n"
            )
        mode = args.mode or retrieval_mode(ctx.settings)
        if mode == "dense" and embedder is None:
            return error(
                _("Searching by meaning needs an embedding model (retrieval.embedding_model).")
            )
        hits = Retriever(store, embedder).search_documents(args.query, args.k, filters, mode)
        rebuilding = rebuild_notice(ctx.index_path, store)  # another process is rebuilding it
    finally:
        store.close()
    if rebuilding:
        sys.stderr.write(f"lanterne: {rebuilding}\n")
    if args.json:
        print_json({"results": [hit.to_json() for hit in hits]})
        return 0
    if not hits:
        print(_("No passage matches."))
    emphasis = sys.stdout.isatty() and understands_ansi(sys.stdout)  # not the classic console
    for i, hit in enumerate(hits, start=1):
        r = hit.best
        where = r.path + (f" — {r.heading}" if r.heading else "")
        if r.page is not None:
            where += " " + _("(page {page})").format(page=r.page)
        if r.offline:
            where += " " + _("[not connected: it opens again once its folder is back]")
        print(f"{i}. {where}\n   {_marked(r, emphasis)}")
        if hit.more_count:
            print("   " + more_passages_label(hit))
    return 0


def _marked(result: SearchResult, emphasis: bool) -> str:
    """The snippet with its matched words in bold on a terminal."""
    if not emphasis:
        return result.snippet
    return marked(result.snippet, result.highlights, "\033[1m", "\033[0m")
