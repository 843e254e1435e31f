"""Windows of another process on an X server, seen through its events (python-xlib): when a
window named so-and-so is mapped or unmapped, timed as the event arrives."""

from __future__ import annotations

import time
from typing import Any


def window_named(d: Any, root: Any, title: str) -> Any:
    for child in root.query_tree().children:
        try:
            if child.get_wm_name() == title:
                return child
        except Exception:  # a window gone meanwhile
            continue
    return None


def wait_event(d: Any, kind: int, window: Any | None, title: str | None, timeout: float) -> float:
    """The time (perf_counter) the awaited map/unmap event arrived."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        while d.pending_events():
            event = d.next_event()
            if event.type != kind:
                continue
            arrived = time.perf_counter()
            if window is not None and event.window.id == window.id:
                return arrived
            if title is not None:
                try:
                    if event.window.get_wm_name() == title:
                        return arrived
                except Exception:
                    continue
        time.sleep(0.0005)
    raise TimeoutError("the window did not show or hide in time")
