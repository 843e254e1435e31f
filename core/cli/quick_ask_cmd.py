"""`lanterne quick-ask`: the quick-ask window of the running Lanterne (started if need be), for
desktops where the global shortcut is the system's to bind (Wayland) or from scripts."""

from __future__ import annotations

import argparse

from lanterne.cli.output import print_json
from lanterne.context import AppContext
from lanterne.foundation.translation import _


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("quick-ask", help=_("open the quick-ask window"))
    p.add_argument("text", nargs="*", help=_("text to start the question with"))
    p.add_argument(
        "--show-hotkey",
        action="store_true",
        help=_("print the configured shortcut (as ctrl+shift+space) and exit"),
    )
    p.add_argument("--json", action="store_true", help=_("print the result as JSON"))
    p.set_defaults(func=cmd_quick_ask)


def cmd_quick_ask(args: argparse.Namespace, ctx: AppContext) -> int:
    hotkey = ctx.settings.get_str("quick_ask.hotkey")
    if args.show_hotkey:
        if args.json:
            print_json({"hotkey": hotkey})
        else:
            print(hotkey or _("(none)"))
        return 0
    request = {"command": "quick-ask", "text": " ".join(args.text)}
    return int(args.open_gui(ctx.settings, request))  # cli.main's GuiStarter
