"""What every release step shares: running a tool (its output on failure, in the error), the
build's log lines, and the one error that stops a release with its reason."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


class ReleaseError(RuntimeError):
    """A step failed; the message says which and why."""


def log(message: str) -> None:
    print(f"[build_release] {message}", flush=True)


def run(*args: str | Path, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    result = subprocess.run(
        [str(a) for a in args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )
    if result.returncode != 0:
        raise ReleaseError(
            f"{' '.join(str(a) for a in args)} exited with {result.returncode}:\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result.stdout
