"""bench/first_answer.py starts and says how to run it (the benchmark itself takes minutes and
is run by hand; see bench/README.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "first_answer.py"


def test_the_first_answer_benchmark_parses_its_options() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    for option in ("--rate-mbps", "--line-mbps", "--language", "--paths", "--json"):
        assert option in done.stdout
    assert "today" in done.stdout and "new" in done.stdout
