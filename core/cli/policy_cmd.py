"""`lanterne policy`: what the organisation's policy sets on this machine, for IT to check a
deployment (and for users to see why a setting is greyed)."""

from __future__ import annotations

import argparse

from lanterne.cli.output import print_json
from lanterne.context import AppContext
from lanterne.foundation.translation import _


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("policy", help=_("show what your organisation's policy sets"))
    p.add_argument("--json", action="store_true", help=_("print the result as JSON"))
    p.set_defaults(func=cmd_policy)


def cmd_policy(args: argparse.Namespace, ctx: AppContext) -> int:
    policy = ctx.settings.policy
    if args.json:
        print_json(policy.describe())
        return 0
    if not policy.sources:
        print(_("No policy: every setting is yours to change."))
        return 0
    print(_("Policy read from: {sources}").format(sources=", ".join(policy.sources)))
    for key, value in policy.settings.items():
        print(_("  {key} = {value} (locked)").format(key=key, value=value))
    if policy.allowed_models:
        print(_("  models allowed: {models}").format(models=", ".join(policy.allowed_models)))
    if not policy.downloads:
        print(_("  model downloads: off"))
    if not policy.remote:
        print(_("  answers from a server: off"))
    elif policy.remote_urls:
        print(_("  servers allowed: {urls}").format(urls=", ".join(policy.remote_urls)))
    for folder in policy.folders:
        print(_("  watched for everyone: {folder}").format(folder=folder))
    return 0
