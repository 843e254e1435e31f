"""Telling a quiet machine from a busy one, so disturbed benchmark runs can be left out."""

from __future__ import annotations

import os
import time
from pathlib import Path


class ForeignLoad:
    """CPU that other processes use, in cores, from /proc/stat minus this process and children.

    With llama.cpp's threads on every core, a process that takes even part of one core makes
    its threads wait for each other at every barrier of the graph: a decode then runs several
    times slower, on either side. Runs during which others used more than a threshold are
    marked disturbed and left out of the headline. (Linux only; elsewhere it reads 0.)
    """

    def __init__(self) -> None:
        self._start = self._sample()

    @staticmethod
    def _sample() -> tuple[float, float, float]:
        busy = 0.0
        try:
            with Path("/proc/stat").open() as f:
                fields = [int(x) for x in f.readline().split()[1:]]
            # user nice system idle iowait irq softirq steal: all but idle and iowait are busy
            busy = (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            pass
        t = os.times()
        own = t.user + t.system + t.children_user + t.children_system
        return time.perf_counter(), busy, own

    def machine_cpu_s(self) -> float:
        """CPU seconds every process used since this object was made: for work done in
        processes this one did not start directly (a fork server's children)."""
        _wall0, busy0, _own0 = self._start
        return self._sample()[1] - busy0

    def cores(self) -> float:
        """Other processes' average CPU use since this object was made, in cores."""
        wall0, busy0, own0 = self._start
        wall, busy, own = self._sample()
        if busy0 == busy == 0.0 or wall <= wall0:
            return 0.0
        return max(0.0, (busy - busy0) - (own - own0)) / (wall - wall0)


def wait_for_quiet(threshold: float, patience: float) -> float:
    """Wait (up to `patience` s) for a second in which others use under `threshold` cores."""
    start = time.perf_counter()
    while time.perf_counter() - start < patience:
        load = ForeignLoad()
        time.sleep(1.0)
        if load.cores() < threshold:
            break
    return time.perf_counter() - start
