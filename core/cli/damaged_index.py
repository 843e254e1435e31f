"""`lanterne index add|remove|status|watch` and `lanterne search` on a damaged index.

Damage a command meets, or a rebuild a stopped command left unfinished, is repaired in the
foreground: the damaged file is set aside (core/index_repair.py), every watched folder is read
again with its progress on standard error (words: `index add`, `index watch` and the app then
make the vectors, as usual), and the command runs again on the rebuilt index, so it answers as
it would have. A rebuild another process is running (the app) is left to it: the command
answers from what is rebuilt so far and says so.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from collections.abc import Callable

from lanterne.cli.output import error
from lanterne.cli.progress_line import ProgressLine
from lanterne.context import AppContext
from lanterne.foundation.translation import _, format_number
from lanterne.index_repair import Rebuild, RepairError, claim_repair, resume_rebuild
from lanterne.indexer.index_health import IndexDamagedError, index_damage
from lanterne.indexer.indexing import Progress, ProgressCallback

Command = Callable[[argparse.Namespace, AppContext], int]


def repairing(command: Command) -> Command:
    """`command`, run once more on a rebuilt index if it meets damage."""

    @functools.wraps(command)
    def run(args: argparse.Namespace, ctx: AppContext) -> int:
        try:
            unfinished = resume_rebuild(ctx.index_path, ctx.settings)
            if unfinished is not None:
                say(_("Finishing the rebuild of the damaged index from your folders…"))
                rebuild_now(ctx, unfinished)
            return command(args, ctx)
        except Exception as exc:
            damage = index_damage(exc, ctx.index_path)
            if damage is None:
                raise
            identity = damage.identity
            del damage  # its frames hold the failed command's connections: let them close
        try:
            rebuild = claim_repair(ctx.index_path, ctx.settings, identity)
        except RepairError as exc:
            return error(str(exc))
        if rebuild is not None:  # else another process has set it aside and is rebuilding
            say(rebuild.message())
            rebuild_now(ctx, rebuild)
        try:
            return command(args, ctx)
        except Exception as exc:
            again = index_damage(exc, ctx.index_path)
            if again is None:
                raise
            what_now = (
                _(
                    "It was damaged again right after being rebuilt: the disk holding it may "
                    "be failing. Check that disk, then run the command again."
                )
                if rebuild is not None
                else _("Another Lanterne is rebuilding it: try again in a moment.")
            )
            raise IndexDamagedError(ctx.index_path, again.identity, what_now) from None

    return run


def rebuild_now(ctx: AppContext, rebuild: Rebuild) -> None:
    """Read every watched folder into the new index; the rebuild is finished once all are."""
    try:
        indexer = ctx.indexer()
        try:
            for _folder_id, folder in indexer.store.folders():
                indexer.sync_folder(folder, _progress_printer())
            status = indexer.store.status()
        finally:
            indexer.close()
        rebuild.finish()
    finally:
        rebuild.release()
    say(
        _("The index was rebuilt: {documents} documents, {chunks} passages.").format(
            documents=format_number(status.documents), chunks=format_number(status.chunks)
        )
    )


def say(message: str) -> None:
    if sys.stderr is not None:
        sys.stderr.write(f"lanterne: {message}\n")
        sys.stderr.flush()


def _progress_printer() -> ProgressCallback:
    line = ProgressLine()
    last = [0.0]

    def show(p: Progress) -> None:
        now = time.monotonic()
        final = p.current is None
        if not final and now - last[0] < (0.2 if line.tty else 2.0):
            return
        last[0] = now
        name = p.current.name if p.current else ""
        text = _("Rebuilding: [{done}/{total}] {name}").format(
            done=p.done, total=p.total, name=name
        )
        line.show(text[:120] if line.tty else text, final)

    return show
