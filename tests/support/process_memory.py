"""Resident memory of a running process and of its children (Linux /proc), sampled as it runs."""

from __future__ import annotations

import threading
from pathlib import Path


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def rss_mb(pid: int) -> float:
    return _status_kb(pid, "VmRSS") / 1024


def descendants(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except FileNotFoundError:
        return found
    for task in tasks:
        try:
            children = (task / "children").read_text().split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        for child in map(int, children):
            found += [child, *descendants(child)]
    return found


class PeakMemory:
    """Samples a process (its own peak, VmHWM) and the sum of it and its children every
    `interval` seconds until stopped; figures in MB."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid = pid
        self.own_peak = 0.0
        self.tree_peak = 0.0
        self._stop = threading.Event()
        self._interval = interval
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            own = _status_kb(self.pid, "VmHWM") / 1024
            if own == 0:
                continue
            self.own_peak = max(self.own_peak, own)
            tree = rss_mb(self.pid) + sum(rss_mb(c) for c in descendants(self.pid))
            self.tree_peak = max(self.tree_peak, tree)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
