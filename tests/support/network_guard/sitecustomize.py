"""Loaded by every Python process started with this folder on PYTHONPATH (Python imports
`sitecustomize` at start-up): an audit hook that records each network connection and host
name lookup that is not loopback into $LANTERNE_NETWORK_LOG, one JSON line each, and refuses
it. Lanterne's processes and the readers they start inherit it, so a test can prove a whole
session touched no network (tests/test_local_only.py)."""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import sys
from pathlib import Path
from typing import Any

_LOG = os.environ.get("LANTERNE_NETWORK_LOG")
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def _is_local(host: Any) -> bool:
    if host is None:  # getaddrinfo(None, port): the local machine
        return True
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    host = str(host).strip("[]")
    if host.lower() in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _refuse(kind: str, host: Any, port: Any) -> None:
    record = {"event": kind, "host": repr(host), "port": repr(port), "pid": os.getpid(),
              "argv": sys.argv[:3]}  # fmt: skip
    if _LOG:
        with Path(_LOG).open("a", encoding="utf-8") as log:
            log.write(json.dumps(record) + "\n")
    raise PermissionError(f"network refused by the test's guard: {kind} {host!r}:{port!r}")


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if event == "socket.connect":
        sock, address = args
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
            _refuse("connect", address[0], address[1])
    elif event == "socket.getaddrinfo":
        host, port = args[0], args[1]
        if not _is_local(host):
            _refuse("getaddrinfo", host, port)
    elif event == "socket.sendto":
        sock, address = args
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
            _refuse("sendto", address[0], address[1])


if _LOG:
    sys.addaudithook(_hook)
