"""llama.cpp's own log, routed into Python logging instead of straight to stderr.

llama-cpp-python prints some llama.cpp warnings even with verbose=False; an app (and a frozen
app's smoke test) needs a quiet stderr, and a log that can still be read when something fails.
"""

from __future__ import annotations

import ctypes
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import llama_cpp

from lanterne.engine.errors import ModelLoadError
from lanterne.foundation.translation import _

logger = logging.getLogger("lanterne.engine.llama_cpp")
# ggml.h's enum ggml_log_level (NONE, DEBUG, INFO, WARN, ERROR, CONT). llama-cpp-python 0.3.36's
# own table predates DEBUG and is off by one, which is why its verbose=False still prints.
_LEVELS = {0: logging.INFO, 1: logging.DEBUG, 2: logging.INFO, 3: logging.WARNING, 4: logging.ERROR}
_CONT = 5
_state: dict[str, int] = {"level": logging.DEBUG}
_buffer: list[str] = []
_problems: list[str] = []  # errors since the last take_last_problem(), first ones kept
_lock = threading.Lock()


@llama_cpp.llama_log_callback  # type: ignore[untyped-decorator]
def _callback(level: int, text: bytes, _user_data: ctypes.c_void_p) -> None:
    with _lock:
        if level != _CONT:
            _state["level"] = _LEVELS.get(level, logging.DEBUG)
        _buffer.append(text.decode("utf-8", "replace"))
        if _buffer[-1].endswith("\n"):  # llama.cpp writes a line in several calls
            message = "".join(_buffer).rstrip()
            _buffer.clear()
            if message:
                logger.log(_state["level"], "%s", message)
                if _state["level"] >= logging.ERROR and len(_problems) < 4:
                    _problems.append(message)


_installed = False


def take_last_problem() -> str | None:
    """llama.cpp's errors since the last call, joined: the reason behind a failed call.

    The first lines matter most: llama.cpp says what went wrong, then that loading failed.
    """
    with _lock:
        message = "; ".join(dict.fromkeys(_problems)) or None
        _problems.clear()
        return message


class _KeepStreams:
    """Stands in for llama-cpp-python's `suppress_stdout_stderr`, which, with verbose=False,
    points the whole process's file descriptors 1 and 2 at /dev/null while a model loads: every
    other thread's output is lost meanwhile (`index watch --json` dropped an "updated" event
    printed while the embedding model loaded). llama.cpp's log already comes through our
    callback, so nothing needs silencing."""

    def __init__(self, disable: bool = True) -> None:
        self.disable = disable

    def __enter__(self) -> _KeepStreams:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None


def install() -> None:
    """Replace llama-cpp-python's printing callback with ours, and its silencing of the
    process's stdout and stderr with nothing (idempotent)."""
    global _installed
    if not _installed:
        llama_cpp.llama_log_set(_callback, ctypes.c_void_p(0))
        from llama_cpp import _internals, llama, llama_chat_format

        for module in (_internals, llama, llama_chat_format):
            if hasattr(module, "suppress_stdout_stderr"):
                setattr(module, "suppress_stdout_stderr", _KeepStreams)  # noqa: B010
        _installed = True


@contextmanager
def explained_load_failure(path: Path) -> Iterator[None]:
    """Turn llama-cpp-python's bare "failed to load" into a ModelLoadError that carries the reason
    llama.cpp logged while loading `path`."""
    take_last_problem()  # forget errors from before this load
    try:
        yield
    except (ValueError, RuntimeError) as exc:
        reason = take_last_problem()
        detail = f"{exc} ({reason})" if reason else str(exc)
        raise ModelLoadError(
            _("llama.cpp could not load {name}: {error}").format(name=path.name, error=detail)
        ) from exc
