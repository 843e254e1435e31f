"""`lanterne remote use|off|models|set-key|forget-key`: answers from an OpenAI-compatible server."""

from __future__ import annotations

import argparse
import getpass
import sys

from lanterne.cli.output import error, print_json
from lanterne.context import AppContext
from lanterne.engine import secrets
from lanterne.engine.remote import RemoteChatBackend
from lanterne.engine.remote_errors import RemoteError
from lanterne.foundation.server_address import normalize_base_url
from lanterne.foundation.translation import _


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    remote = sub.add_parser("remote", help=_("answer from an OpenAI-compatible server"))
    rsub = remote.add_subparsers(dest="remote_command", required=True, metavar="COMMAND")
    use = rsub.add_parser("use", help=_("send questions to this server from now on"))
    use.add_argument("url", metavar="URL")
    use.add_argument("--model", help=_("model name on the server"))
    use.add_argument("--context-size", type=int, help=_("its context window, in tokens"))
    off = rsub.add_parser("off", help=_("answer with the model on this machine again"))
    models = rsub.add_parser("models", help=_("list the models the server offers"))
    models.add_argument("url", nargs="?", metavar="URL", help=_url_help())
    set_key = rsub.add_parser("set-key", help=_("store the server's API key in the keychain"))
    set_key.add_argument("url", nargs="?", metavar="URL", help=_url_help())
    set_key.add_argument("--stdin", action="store_true", help=_("read the key from standard input"))
    forget = rsub.add_parser("forget-key", help=_("remove the server's API key from the keychain"))
    forget.add_argument("url", nargs="?", metavar="URL", help=_url_help())
    for parser, func in (
        (use, cmd_use),
        (off, cmd_off),
        (models, cmd_models),
        (set_key, cmd_set_key),
        (forget, cmd_forget_key),
    ):
        parser.add_argument("--json", action="store_true", help=_("print the result as JSON"))
        parser.set_defaults(func=func)


def _url_help() -> str:
    return _("server address, such as http://gpu-server:8000 (default: the remote.url setting)")


def _url(args: argparse.Namespace, ctx: AppContext) -> str:
    url = args.url or ctx.settings.get_str("remote.url")
    if not url:
        raise RemoteError(_("No server given: pass its URL or run 'lanterne remote use URL'."))
    ctx.settings.check_remote(normalize_base_url(url))
    return normalize_base_url(url)


def _done(args: argparse.Namespace, message: str, data: dict[str, object]) -> int:
    if args.json:
        print_json(data)
    else:
        print(message)
    return 0


def cmd_use(args: argparse.Namespace, ctx: AppContext) -> int:
    url = normalize_base_url(args.url)
    ctx.settings.check_remote(url)  # before any connection
    with RemoteChatBackend(url, args.model) as backend:
        offered = backend.list_models()  # proves the server answers before anything is saved
    if args.model and offered and args.model not in offered:
        return error(
            _("The server {server} has no model {model}; it offers: {models}.").format(
                server=url, model=args.model, models=", ".join(offered)
            )
        )
    settings = ctx.settings
    settings.set("engine.backend", "remote")
    settings.set("remote.url", url)
    settings.set("remote.model", args.model or "")
    if args.context_size:
        settings.set("remote.context_size", args.context_size)
    settings.save()
    message = _("Questions now go to {server}.").format(server=url)
    return _done(args, message, {"backend": "remote", "url": url, "models": offered})


def cmd_off(args: argparse.Namespace, ctx: AppContext) -> int:
    ctx.settings.set("engine.backend", "local")
    ctx.settings.save()
    return _done(args, _("Questions are answered on this machine again."), {"backend": "local"})


def cmd_models(args: argparse.Namespace, ctx: AppContext) -> int:
    url = _url(args, ctx)
    with RemoteChatBackend(url) as backend:
        offered = backend.list_models()
    return _done(args, "\n".join(offered), {"url": url, "models": offered})


def cmd_set_key(args: argparse.Namespace, ctx: AppContext) -> int:
    url = _url(args, ctx)
    if args.stdin:
        key = sys.stdin.readline()
    else:
        key = getpass.getpass(_("API key for {server}: ").format(server=url))
    secrets.set_api_key(url, key)
    message = _("The key for {server} is in the system keychain.").format(server=url)
    return _done(args, message, {"url": url, "stored": True})


def cmd_forget_key(args: argparse.Namespace, ctx: AppContext) -> int:
    url = _url(args, ctx)
    forgotten = secrets.delete_api_key(url)
    message = (
        _("The key for {server} was removed from the keychain.")
        if forgotten
        else _("No key was stored for {server}.")
    ).format(server=url)
    return _done(args, message, {"url": url, "removed": forgotten})
