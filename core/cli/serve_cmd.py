"""`lanterne serve [--host H] [--port P] [--show-token] [--json]`: the OpenAI-compatible API in
the foreground until Ctrl+C, for editors, scripts and internal tools on this computer."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from types import FrameType

from lanterne.cli.output import error, json_text
from lanterne.context import AppContext
from lanterne.engine.secrets import KeychainError
from lanterne.foundation.translation import _


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("serve", help=_("let other apps use Lanterne (an OpenAI-compatible API)"))
    p.add_argument("--host", help=_("address to listen on (default: the api.host setting)"))
    p.add_argument("--port", type=int, help=_("port to listen on (default: the api.port setting)"))
    p.add_argument(
        "--show-token", action="store_true", help=_("print the API token apps need, and exit")
    )
    p.add_argument("--json", action="store_true", help=_("print the result as JSON"))
    p.set_defaults(func=cmd_serve)


def _say(args: argparse.Namespace, data: dict[str, object], lines: list[str]) -> None:
    text = json_text(data, sys.stdout, indent=None) if args.json else "\n".join(lines)
    print(text, flush=True)  # a script waiting for the address reads it at once


def _refusal(args: argparse.Namespace, ctx: AppContext) -> str | None:
    """Why the organisation's policy forbids this, or None."""
    settings = ctx.settings
    if settings.is_locked("api.enabled") and not settings.get_bool("api.enabled"):
        return _(
            "Your organisation has turned off the API for other apps (api.enabled): "
            "lanterne serve cannot run."
        )
    for key, given in (("api.host", args.host), ("api.port", args.port)):
        if given is not None and settings.is_locked(key) and given != settings.get(key):
            return _("{key} is set by your organisation and cannot be changed here.").format(
                key=key
            )
    return None


def _token(args: argparse.Namespace) -> str | None:
    from lanterne.serve.access import api_token

    try:
        return api_token()
    except KeychainError as exc:
        error(
            _(
                "{error} Set the environment variable LANTERNE_API_KEY to a token of your "
                "choice, then start again."
            ).format(error=exc)
        )
        return None


def cmd_serve(args: argparse.Namespace, ctx: AppContext) -> int:
    if refused := _refusal(args, ctx):
        return error(refused)
    token = _token(args)
    if token is None:
        return 1
    if args.show_token:
        _say(args, {"token": token}, [token])
        return 0
    from lanterne.serve.access import TOKEN_ENV
    from lanterne.serve.server import ApiServer, ApiServerError, is_loopback

    server = ApiServer(ctx, host=args.host, port=args.port)
    if not is_loopback(server.host):
        sys.stderr.write(
            _(
                "Warning: {host} opens the API to the network. Anyone who can reach this "
                "computer and has the token can read answers drawn from your documents; keep "
                "the token secret, or listen on 127.0.0.1 only."
            ).format(host=server.host)
            + "\n"
        )
    _log_requests()
    try:
        url = server.start()
    except ApiServerError as exc:
        return error(str(exc))
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_signal)  # a service manager's stop: as Ctrl+C
    from_env = bool(os.environ.get(TOKEN_ENV, "").strip())
    _say(
        args,
        {
            "url": url + "/v1",
            "host": server.host,
            "port": server.port,
            "token": "environment" if from_env else "keychain",
        },
        [
            _("Lanterne's API listens on {url}").format(url=url + "/v1"),
            _(
                "Apps send the API token as their API key (the header 'Authorization: Bearer "
                "TOKEN'); 'lanterne serve --show-token' prints it."
            )
            if not from_env
            else _("Apps send the token set in LANTERNE_API_KEY as their API key."),
            _("Press Ctrl+C to stop."),
        ],
    )
    try:
        while not stop.wait(0.5):  # a timed wait: Ctrl+C interrupts it on Windows too
            if not server.running:
                return error(_("The API server stopped unexpectedly."))
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def _log_requests() -> None:
    """Each request, and each refused token (never the token itself), on standard error."""
    logger = logging.getLogger("lanterne.serve")
    if not logger.handlers and sys.stderr is not None:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
