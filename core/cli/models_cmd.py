"""`lanterne models list|recommend|download|import|remove|use|scan|token`."""

from __future__ import annotations

import argparse
import getpass
import signal
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import TextIO

from lanterne.cli.output import print_json
from lanterne.context import AppContext
from lanterne.engine.hub_download import DownloadCancelledError, Progress
from lanterne.engine.other_apps import scan
from lanterne.foundation.translation import _, format_size
from lanterne.model_downloads import DownloadQueue
from lanterne.model_library import ModelLibrary


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    models = sub.add_parser("models", help=_("list, download and choose models"))
    msub = models.add_subparsers(dest="models_command", required=True, metavar="COMMAND")
    listing = msub.add_parser("list", help=_("installed models, and the catalog with its fit"))
    rec = msub.add_parser("recommend", help=_("the best catalog model for this machine, and why"))
    rec.add_argument("--language", choices=("fr", "en"), help=_("the language you will ask in"))
    dl = msub.add_parser("download", help=_("download a catalog model (resumes if interrupted)"))
    dl.add_argument("name", metavar="NAME", help=_("catalog id, as 'models list' shows it"))
    dl.add_argument("--quant", help=_("quantization, such as Q4_K_M (default: the catalog's)"))
    imp = msub.add_parser("import", help=_("use a GGUF file you already have"))
    imp.add_argument("path", type=Path, metavar="PATH")
    imp.add_argument("--name", help=_("name to list it under (default: the file's name)"))
    imp.add_argument("--copy", action="store_true", help=_("copy it into the models folder"))
    imp.add_argument("--use", action="store_true", help=_("answer with it from now on"))
    rm = msub.add_parser("remove", help=_("forget a model (deletes only files Lanterne fetched)"))
    rm.add_argument("name", metavar="NAME")
    use = msub.add_parser("use", help=_("answer with this installed model from now on"))
    use.add_argument("name", metavar="NAME")
    scan = msub.add_parser("scan", help=_("find models other apps (LM Studio, Ollama…) have"))
    scan.add_argument("--import", dest="do_import", action="store_true", help=_("import them"))
    token = msub.add_parser("token", help=_("the Hugging Face token for gated models"))
    token.add_argument("action", choices=("set", "forget"))
    token.add_argument("--stdin", action="store_true", help=_("read the token from standard input"))
    for parser, func in (
        (listing, cmd_list),
        (rec, cmd_recommend),
        (dl, cmd_download),
        (imp, cmd_import),
        (rm, cmd_remove),
        (use, cmd_use),
        (scan, cmd_scan),
        (token, cmd_token),
    ):
        parser.add_argument("--json", action="store_true", help=_("print the result as JSON"))
        parser.set_defaults(func=func)


def _library(ctx: AppContext) -> ModelLibrary:
    return ModelLibrary(ctx.settings, release=ctx.release_model_files)


def cmd_list(args: argparse.Namespace, ctx: AppContext) -> int:
    lib = _library(ctx)
    installed = lib.installed()
    fits = {(f.model_id, f.quant): f for f in lib.fits()}
    wanted = DownloadQueue(lib).wanted()
    if args.json:
        print_json(
            {
                "installed": [dict(m.to_json(), active=active) for m, active in installed],
                "catalog": [
                    dict(
                        m.to_json(),
                        fit={q.name: fits[(m.id, q.name)].to_json() for q in m.quants},
                    )
                    for m in lib.catalog.models
                ],
                "hardware": lib.hardware.to_json(),
                "catalog_version": lib.catalog.version,
                "downloads": [asdict(w) for w in wanted],
            }
        )
        return 0
    for w in wanted:  # what the app goes on fetching at its next start
        print(_("Waiting to download: {model} {quant}").format(model=w.model_id, quant=w.quant))
        if w.error:
            print("  " + _("last try: {error}").format(error=w.error))
    print(_("Installed:"))
    if not installed:
        print("  " + _("none yet: 'lanterne models recommend', then 'lanterne models download'"))
    for have, active in installed:
        mark = "*" if active else " "
        print(f" {mark} {have.name:32} {format_size(have.size):>9}  {have.path}")
    print()
    print(_("Catalog ({version}), for this machine:").format(version=lib.catalog.version))
    for m in lib.catalog.models:
        role = "" if m.role == "chat" else " [" + _("embeddings") + "]"
        print(f"  {m.id}{role} — {m.name}, {m.licence}, {', '.join(m.languages)}")
        for q in m.quants:
            fit = fits[(m.id, q.name)]
            size = ("" if q.size_exact else "~") + format_size(q.size)
            print(f"      {q.name:8} {size:>9}  {fit.label}")
    return 0


def cmd_recommend(args: argparse.Namespace, ctx: AppContext) -> int:
    lib = _library(ctx)
    rec = lib.recommend(args.language)
    offer = lib.starter_offer(rec, args.language)
    if args.json:
        print_json(dict(rec.to_json(), starter=offer.to_json() if offer else None))
    else:
        print(rec.explanation)
        if rec.model is not None and rec.fit is not None:
            print()
            print(
                _("To install it: lanterne models download {id} --quant {quant}").format(
                    id=rec.model.id, quant=rec.fit.quant
                )
            )
        if offer is not None:
            print()
            print(offer.reason)
            print(_("To start with it: lanterne models download {id}").format(id=offer.model.id))
    return 0 if rec.model is not None else 1


class ProgressBar:
    """One line on stderr, redrawn in place: bar, bytes, speed, time left."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self._last = 0.0
        self._step: tuple[str, int] = ("", 0)

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        step = (p.stage, p.part)
        if now - self._last < 0.25 and step == self._step and p.done < p.total:
            return
        if step != self._step and self._step[1]:
            self.stream.write("\n")
        self._last, self._step = now, step
        width = 24
        filled = int(width * p.fraction)
        bar = f"[{'#' * filled}{'.' * (width - filled)}]"
        line = f"\r{bar} {p.fraction:4.0%} {p.describe()}  "
        self.stream.write(line)
        self.stream.flush()

    def end(self) -> None:
        self.stream.write("\n")


def cmd_download(args: argparse.Namespace, ctx: AppContext) -> int:
    lib = _library(ctx)
    cancel = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_a: cancel.set())
    bar = None if args.json else ProgressBar()
    try:
        model = lib.download(args.name, args.quant, progress=bar, cancel=cancel)
    except DownloadCancelledError:
        if bar:
            bar.end()
        print(_("Stopped. Run the same command again to resume where it stopped."), file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, previous)
    if bar:
        bar.end()
    active = lib.active_path() == model.path
    if args.json:
        print_json(dict(model.to_json(), active=active))
    else:
        print(
            _("{name} is installed and verified ({size}): {path}").format(
                name=model.name, size=format_size(model.size), path=model.path
            )
        )
        if active:
            print(_("Lanterne answers with it from now on."))
        else:
            print(_("To answer with it: lanterne models use {name}").format(name=model.name))
    return 0


def cmd_import(args: argparse.Namespace, ctx: AppContext) -> int:
    lib = _library(ctx)
    model = lib.import_file(args.path, name=args.name, copy=args.copy, use=args.use)
    active = lib.active_path() == model.path
    if args.json:
        print_json(dict(model.to_json(), active=active))
    else:
        print(
            _("Imported {name} ({arch}, {size}) from {path}.").format(
                name=model.name,
                arch=model.architecture,
                size=format_size(model.size),
                path=model.path,
            )
        )
        if active:
            print(_("Lanterne answers with it from now on."))
    return 0


def cmd_remove(args: argparse.Namespace, ctx: AppContext) -> int:
    model = _library(ctx).remove(args.name)
    if args.json:
        print_json(dict(model.to_json(), files_deleted=model.owned))
    elif model.owned:
        print(_("Removed {name} and deleted its files.").format(name=model.name))
    else:
        print(
            _("Removed {name} from the list; its file stays at {path}.").format(
                name=model.name, path=model.path
            )
        )
    return 0


def cmd_use(args: argparse.Namespace, ctx: AppContext) -> int:
    model = _library(ctx).use(args.name)
    if args.json:
        print_json(dict(model.to_json(), active=True))
    else:
        print(_("Lanterne answers with {name} from now on.").format(name=model.name))
    return 0


def cmd_scan(args: argparse.Namespace, ctx: AppContext) -> int:
    result = scan()
    found = result.found
    imported = []
    if args.do_import:
        lib = _library(ctx)
        known = {Path(m.path).resolve() for m in lib.store.list()}  # a second scan adds none
        imported = [
            lib.import_file(f.path, name=lib.store.unique_name(f.name)).name
            for f in found
            if f.path.resolve() not in known
        ]
    if args.json:
        print_json(dict(result.to_json(), imported=imported))
        return 0
    if not found:
        print(_("No models found in LM Studio, Ollama, GPT4All, Jan or the Hugging Face cache."))
    for f in found:
        print(f"{f.app:20} {f.name:40} {format_size(f.size):>9}  {f.path}")
    if result.skipped:
        print(_("Not read:"))
        for s in result.skipped:
            print(f"  {s.app:20} {s.path}: {s.reason}")
    if imported:
        print(_("Imported: {names}.").format(names=", ".join(imported)))
    elif found:
        print(_("Import one with 'lanterne models import PATH', or all with --import."))
    return 0


def cmd_token(args: argparse.Namespace, ctx: AppContext) -> int:
    lib = _library(ctx)
    if args.action == "forget":
        removed = lib.forget_token()
        message = _("The token for {hub} was removed.") if removed else _("No token for {hub}.")
        data: dict[str, object] = {"hub": lib.endpoint, "removed": removed}
    else:
        if args.stdin:
            token = sys.stdin.readline()
        else:
            token = getpass.getpass(_("Hugging Face token for {hub}: ").format(hub=lib.endpoint))
        lib.set_token(token)
        message = _("The token for {hub} is in the system keychain.")
        data = {"hub": lib.endpoint, "stored": True}
    if args.json:
        print_json(data)
    else:
        print(message.format(hub=lib.endpoint))
    return 0
