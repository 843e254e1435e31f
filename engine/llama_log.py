"""llama.cpp's own log, routed into Python logging instead of straight to stderr.

llama-cpp-python prints some llama.cpp warnings even with verbose=False; an app (and a frozen
app's smoke test) needs a quiet stderr, and a log that can still be read when something fails.
"""

from __future__ import annotations

import ctypes
import logging
import threading

import llama_cpp

logger = logging.getLogger("lanterne.engine.llama_cpp")
_LEVELS = {0: logging.CRITICAL, 1: logging.INFO, 2: logging.WARNING, 3: logging.ERROR,
           4: logging.DEBUG}
_CONT = 5
_state = {"level": logging.DEBUG, "buffer": ""}
_lock = threading.Lock()


@llama_cpp.llama_log_callback  # type: ignore[untyped-decorator]
def _callback(level: int, text: bytes, _user_data: ctypes.c_void_p) -> None:
    with _lock:
        if level != _CONT:
            _state["level"] = _LEVELS.get(level, logging.DEBUG)
        _state["buffer"] = str(_state["buffer"]) + text.decode("utf-8", "replace")
        if str(_state["buffer"]).endswith("\n"):
            message = str(_state["buffer"]).rstrip()
            _state["buffer"] = ""
            if message:
                logger.log(int(_state["level"]), "%s", message)


_installed = False


def install() -> None:
    """Replace llama-cpp-python's printing callback with ours (idempotent)."""
    global _installed
    if not _installed:
        llama_cpp.llama_log_set(_callback, ctypes.c_void_p(0))
        _installed = True
