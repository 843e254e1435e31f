"""`lanterne index add|remove|status|watch`."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from lanterne.cli.damaged_index import repairing
from lanterne.cli.output import disk_full, error, print_json
from lanterne.cli.progress_line import ProgressLine
from lanterne.context import AppContext
from lanterne.disk_space import going_on_text, index_full_error, vectors_full_error
from lanterne.embedding_model import configured_embedder, search_embedder
from lanterne.engine import builtin_embedder
from lanterne.folder_states import state_sentence
from lanterne.foundation.db_faults import DiskFullError, is_disk_full
from lanterne.foundation.translation import _
from lanterne.index_repair import rebuild_notice
from lanterne.index_service import IndexService, ServiceEvents
from lanterne.indexer.embedding import model_key
from lanterne.indexer.embedding_worker import EmbeddingProgress, EmbeddingWorker
from lanterne.indexer.index_for_reading import open_index_for_reading
from lanterne.indexer.index_health import OpenIndex
from lanterne.indexer.indexing import FolderError, Indexer, Progress
from lanterne.indexer.store import IndexStatus, IndexStore


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    index = sub.add_parser("index", help=_("manage the watched folders and their index"))
    isub = index.add_subparsers(dest="index_command", required=True, metavar="COMMAND")
    add = isub.add_parser("add", help=_("watch folders and index them now"))
    add.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    add.add_argument(
        "--no-embed",
        action="store_true",
        help=_("index words only now; embed later (index watch or the app)"),
    )
    add.add_argument("--json", action="store_true", help=_("print the result as JSON"))
    add.set_defaults(func=cmd_add)
    remove = isub.add_parser("remove", help=_("stop watching a folder and forget its index"))
    remove.add_argument("path", type=Path, metavar="PATH")
    remove.add_argument("--json", action="store_true", help=_("print the result as JSON"))
    remove.set_defaults(func=cmd_remove)
    status = isub.add_parser("status", help=_("folders, documents, passages and errors"))
    status.add_argument("--json", action="store_true", help=_("print the result as JSON"))
    status.set_defaults(func=cmd_status)
    watch_p = isub.add_parser("watch", help=_("keep the index up to date until Ctrl-C"))
    watch_p.add_argument("--json", action="store_true", help=_("print each update as JSON"))
    watch_p.set_defaults(func=cmd_watch)


class _ProgressPrinter:
    """One updating line on a terminal; a line every few seconds when stderr is a log."""

    def __init__(self) -> None:
        self.line = ProgressLine()
        self.last = 0.0

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        final = p.current is None
        if not final and not self.line.tty and now - self.last < 2.0:
            return
        self.last = now
        name = p.current.name if p.current else ""
        line = _("[{done}/{total}] {name}").format(done=p.done, total=p.total, name=name)
        self.line.show(line[:120] if self.line.tty else line, final)


def status_json(status: IndexStatus) -> dict[str, object]:
    return {
        "folders": [vars(f) for f in status.folders],
        "documents": status.documents,
        "chunks": status.chunks,
        "pending": status.pending,
        "errors": [vars(e) for e in status.errors],
    }


@repairing
def cmd_add(args: argparse.Namespace, ctx: AppContext) -> int:
    indexer = ctx.indexer()
    totals = {"indexed": 0, "unchanged": 0, "failed": 0}
    try:
        for path in args.paths:
            result = indexer.add_folder(path, _ProgressPrinter())
            totals["indexed"] += result.indexed
            totals["unchanged"] += result.unchanged
            totals["failed"] += result.failed
    except FolderError as exc:
        return error(str(exc))
    except Exception as exc:
        if not is_disk_full(exc):
            raise
        again = _(
            "Indexing stopped; what is indexed so far is kept. Run the same command again once "
            "there is room: it goes on where it stopped."
        )
        return _stopped_by_full_disk(indexer, index_full_error(indexer.store, again))
    embedded = 0
    embedder, problem = configured_embedder(ctx.settings)
    if problem:
        sys.stderr.write(_("lanterne: not embedding: {reason}").format(reason=problem) + "\n")
    elif embedder is not None and not args.no_embed:
        worker = EmbeddingWorker(indexer.store, embedder)
        try:
            embedded = worker.run(on_batch=_embedding_printer())
        except Exception as exc:
            if not is_disk_full(exc):
                raise
            again = _(
                "Every file is indexed and found by its words; search by meaning is not "
                "complete yet. Run the same command again once there is room: it goes on "
                "where it stopped."
            )
            full = vectors_full_error(indexer.store, worker.model, embedder.dimensions, again)
            return _stopped_by_full_disk(indexer, full)
    status = indexer.store.status()
    vectors = _vectors_json(indexer.store, ctx)
    indexer.close()
    if args.json:
        print_json({**totals, "embedded": embedded, **status_json(status), "vectors": vectors})
    else:
        print(
            _("{indexed} indexed, {unchanged} unchanged, {failed} could not be read.").format(
                **totals
            )
        )
        for err in status.errors:
            print(_("  skipped {path}: {reason}").format(path=err.path, reason=err.reason))
    return 0


def _stopped_by_full_disk(indexer: Indexer, full: DiskFullError) -> int:
    """Everything written so far stays, the rest is marked pending: a later run goes on."""
    indexer.close()
    return disk_full(full)


@repairing
def cmd_remove(args: argparse.Namespace, ctx: AppContext) -> int:
    ctx.settings.check_folder_removal(args.path)
    indexer = ctx.indexer()
    removed = indexer.remove_folder(args.path)
    indexer.close()
    folder = args.path.expanduser().resolve()
    if args.json:
        print_json({"removed": removed, "path": str(folder)})
        return 0 if removed else 1
    if not removed:
        return error(_("This folder is not watched: {path}").format(path=folder))
    print(_("No longer watching {path}; its files were left untouched.").format(path=folder))
    return 0


def _embedding_printer() -> Callable[[EmbeddingProgress], None]:
    progress = ProgressLine()
    last = [0.0]

    def show(p: EmbeddingProgress) -> None:
        now = time.monotonic()
        final = p.embedded >= p.total
        if not final and now - last[0] < (0.2 if progress.tty else 2.0):
            return
        last[0] = now
        line = _("[{done}/{total}] passages embedded").format(done=p.embedded, total=p.total)
        progress.show(line, final)

    return show


def _vectors_json(store: IndexStore, ctx: AppContext) -> dict[str, object] | None:
    """Embedding progress for the configured model, or None without one."""
    embedder, problem = configured_embedder(ctx.settings)
    if embedder is None:
        if problem is None:  # words only, as set
            return None
        setting = ctx.settings.get_str("retrieval.embedding_model")
        return {"model": setting or builtin_embedder.NAME, "error": problem}
    embedded, total = store.vector_counts(model_key(embedder))
    searching, _problem = search_embedder(ctx.settings, store)
    return {
        "model": embedder.name,
        "embedded": embedded,
        "total": total,
        "search_model": searching.name if searching is not None else embedder.name,
    }


@repairing
def cmd_status(args: argparse.Namespace, ctx: AppContext) -> int:
    store, read_only = open_index_for_reading(ctx.index_path)
    if read_only:
        sys.stderr.write(f"lanterne: {read_only}\n")
    try:
        if isinstance(store.handle, OpenIndex):
            store.handle.check()  # the command one runs to see how the index is: a quick check
        status = store.status(gone_after_days=ctx.settings.get_int("index.missing_folder_days"))
        vectors = _vectors_json(store, ctx)
        rebuilding = rebuild_notice(ctx.index_path, store)
    finally:
        store.close()
    if args.json:
        rebuild = {"rebuilding": rebuilding} if rebuilding else {}
        print_json({**status_json(status), "vectors": vectors, **rebuild})
        return 0
    if rebuilding:
        print(rebuilding)
    if not status.folders:
        print(_("No folder is watched yet. Add one with: lanterne index add PATH"))
        return 0
    for f in status.folders:
        print(
            _(
                "{path}: {documents} documents, {chunks} passages, {pending} pending, "
                "{errors} errors"
            ).format(**vars(f))
        )
        if (sentence := state_sentence(f, cli=True)) is not None:
            print("  " + sentence)
    if vectors is not None and "error" in vectors:
        print(_("Embedding model unusable: {reason}").format(reason=vectors["error"]))
    elif vectors is not None:
        print(
            _("{embedded} of {total} passages embedded with {model}").format(
                embedded=vectors["embedded"], total=vectors["total"], model=vectors["model"]
            )
        )
        if vectors["search_model"] != vectors["model"]:
            print(
                _("Search by meaning uses {model} until then.").format(
                    model=vectors["search_model"]
                )
            )
    for err in status.errors:
        print(_("  error {path}: {reason}").format(path=err.path, reason=err.reason))
    return 0


@repairing
def cmd_watch(args: argparse.Namespace, ctx: AppContext) -> int:
    store = ctx.open_store()
    folders = len(store.folders())
    store.close()
    if not folders:
        return error(_("No folder is watched yet. Add one with: lanterne index add PATH"))
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_a: stop.set())
    signal.signal(signal.SIGTERM, lambda *_a: stop.set())

    def on_ready(progress: Progress) -> None:
        if args.json:
            print_json({"event": "ready", "indexed": progress.indexed})
        else:
            print(_("Watching {n} folders; press Ctrl-C to stop.").format(n=folders))
        sys.stdout.flush()

    def on_batch(count: int) -> None:
        if args.json:
            print_json({"event": "updated", "changes": count})
        else:
            print(_("{n} changes applied.").format(n=count))
        sys.stdout.flush()

    def on_error(message: str) -> None:
        sys.stderr.write(f"lanterne: {message}\n")

    def on_presence(folder: Path, connected: bool) -> None:
        if args.json:
            event = "connected" if connected else "not_connected"
            print_json({"event": event, "path": str(folder)})
        elif connected:
            print(_("{path} is connected again: only what changed is read.").format(path=folder))
        else:
            print(
                _("{path} is not connected: its documents are kept until it comes back.").format(
                    path=folder
                )
            )
        sys.stdout.flush()

    def on_disk_full(message: str | None) -> None:
        if args.json:
            print_json({"event": "disk_full" if message else "room_again", "message": message})
            sys.stdout.flush()
        else:
            on_error(message or going_on_text())

    events = ServiceEvents(
        progress=_ProgressPrinter(),
        ready=on_ready,
        batch=on_batch,
        error=on_error,
        disk_full=on_disk_full,
        presence=on_presence,
    )
    service = IndexService(ctx, events)
    service.start()
    while not stop.wait(0.5):  # a timed wait lets the signal handlers run
        pass
    service.stop()
    return 0
