"""Running the installed `lanterne` command as a script would, in a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

LANTERNE = Path(sys.executable).with_name("lanterne")


def lanterne(
    *args: str, env: dict[str, str] | None = None, timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    """`lanterne ARGS…` with this environment plus `env`; output captured as text."""
    return subprocess.run(
        [str(LANTERNE), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
