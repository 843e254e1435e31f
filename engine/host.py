"""A thread that owns the loaded model, so nothing else ever blocks on it.

llama.cpp contexts are not thread-safe and loading takes seconds: every model call goes through
this one worker thread. Callers get Futures, or an iterator that streams pieces from it.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Collection, Generator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeVar, overload

from lanterne.engine.activity import GENERATION
from lanterne.engine.errors import ModelFileMissingError
from lanterne.engine.offload import PlanOverrides
from lanterne.engine.reasoning import Piece, Thought
from lanterne.engine.runtime import LocalModel, SamplingParams

T = TypeVar("T")

_DONE = object()
# Pieces produced within this interval of the last hand-over travel together. Each hand-over
# wakes the consumer's thread, which competes with llama.cpp's threads for the cores in the
# middle of the next token's computation; 20 hand-overs a second read as smooth streaming.
HANDOVER_INTERVAL_S = 0.05


@dataclass(frozen=True)
class LoadRequest:
    path: Path
    n_ctx: int
    n_threads: int
    overrides: PlanOverrides = field(default_factory=PlanOverrides)


# A model file as it was when loaded: (device, inode, size, modification time). A file replaced
# (new content under the same name, or the same file cut short) is a different file.
FileIdentity = tuple[int, int, int, int]


def file_identity(path: Path) -> FileIdentity | None:
    """The file's identity, or None when nothing is there any more (moved or deleted)."""
    try:
        st = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError:
        return (-1, -1, -1, -1)  # unreadable: never taken for the loaded file; load says why
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


class ModelHost:
    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lanterne-model")
        self._model: LocalModel | None = None
        self._loaded: LoadRequest | None = None
        self._identity: FileIdentity | None = None  # the loaded file's, when it was loaded

    def submit(self, fn: Callable[[], T]) -> Future[T]:
        return self._executor.submit(fn)

    def load(self, request: LoadRequest) -> Future[LocalModel]:
        """Load (or keep, if already loaded with the same settings from the same file) the
        requested model. A file deleted or moved since raises ModelFileMissingError, and the
        model loaded from it is let go (on Linux a deleted file mapped by llama.cpp keeps its
        disk space until then); a file replaced since is loaded afresh (its header checked
        again), never taken for the one in memory."""

        def job() -> LocalModel:
            identity = file_identity(request.path)
            if identity is None:
                if self._loaded is not None and self._loaded.path == request.path:
                    self._unload()
                raise ModelFileMissingError(request.path)
            if self._holds(request, identity):
                assert self._model is not None
                return self._model
            self._unload()
            self._model = LocalModel.load(
                request.path,
                n_ctx=request.n_ctx,
                n_threads=request.n_threads,
                overrides=request.overrides,
            )
            self._loaded, self._identity = request, identity
            return self._model

        return self.submit(job)

    def _holds(self, request: LoadRequest, identity: FileIdentity | None) -> bool:
        return self._model is not None and self._loaded == request and self._identity == identity

    def _unload(self) -> None:
        """Free the model (on the model's thread)."""
        if self._model is not None:
            self._model.close()
        self._model = None
        self._loaded = None
        self._identity = None

    @property
    def model(self) -> LocalModel | None:
        return self._model

    def is_loaded(self, request: LoadRequest) -> bool:
        """Whether `load(request)` would return at once (the same model, same settings, and
        its file unchanged)."""
        return self._holds(request, file_identity(request.path))

    def release(self, paths: Collection[Path]) -> bool:
        """Unload the model if it was loaded from one of `paths`, files about to be deleted
        (Windows refuses to delete a file llama.cpp has mapped); whether it was. An answer
        being written finishes first; the next question loads the model in use again."""
        wanted = {_same_file_key(p) for p in paths}

        def job() -> bool:
            if self._model is None or self._loaded is None:
                return False
            if _same_file_key(self._loaded.path) not in wanted:
                return False
            self._unload()
            return True

        return self.submit(job).result()

    @overload
    def stream(
        self,
        model: LocalModel,
        prompt: str,
        params: SamplingParams,
        cancel: threading.Event | None = None,
        stop: list[str] | None = None,
        reasoning: Literal[False] = False,
    ) -> Generator[str, None, None]: ...

    @overload
    def stream(
        self,
        model: LocalModel,
        prompt: str,
        params: SamplingParams,
        cancel: threading.Event | None = None,
        stop: list[str] | None = None,
        *,
        reasoning: Literal[True],
    ) -> Generator[Piece, None, None]: ...

    @overload
    def stream(
        self,
        model: LocalModel,
        prompt: str,
        params: SamplingParams,
        cancel: threading.Event | None = None,
        stop: list[str] | None = None,
        reasoning: bool = False,
    ) -> Generator[Piece, None, None]: ...

    def stream(
        self,
        model: LocalModel,
        prompt: str,
        params: SamplingParams,
        cancel: threading.Event | None = None,
        stop: list[str] | None = None,
        reasoning: bool = False,
    ) -> Generator[Piece, None, None]:
        """Generate on the model thread; the caller's thread receives pieces as they come
        (several tokens' text at once when they come faster than `HANDOVER_INTERVAL_S`).
        The answer's text comes as `str`; with `reasoning`, the model's reasoning comes too,
        as `Thought` pieces, in the order it was written.

        A caller that stops iterating early (closes the generator) stops the generation too.
        """
        pieces: queue.Queue[object] = queue.Queue()
        cancel = cancel or threading.Event()

        def job() -> None:
            held: list[Piece] = []
            last = 0.0

            def hand_over() -> None:
                for piece in _joined(held):
                    pieces.put(piece)
                held.clear()

            def hold(piece: Piece) -> None:
                nonlocal last
                held.append(piece)
                now = time.perf_counter()
                if now - last >= HANDOVER_INTERVAL_S:  # the first piece goes at once
                    hand_over()
                    last = now

            on_reasoning = (lambda text: hold(Thought(text))) if reasoning else None
            try:
                with GENERATION.generating():
                    for piece in model.stream(
                        prompt, params, cancel=cancel, stop=stop, on_reasoning=on_reasoning
                    ):
                        hold(piece)
            except BaseException as exc:
                hand_over()
                pieces.put(exc)
            finally:
                hand_over()
                pieces.put(_DONE)

        self.submit(job)
        finished = False
        try:
            while True:
                item = pieces.get()
                if item is _DONE:
                    finished = True
                    return
                if isinstance(item, BaseException):
                    finished = True
                    raise item
                assert isinstance(item, str | Thought)
                yield item
        finally:
            if not finished:
                cancel.set()

    def shutdown(self) -> None:
        """Free the model on its own thread, then stop the thread."""

        self.submit(self._unload).result()
        self._executor.shutdown(wait=True)


def _joined(pieces: list[Piece]) -> list[Piece]:
    """Neighbouring pieces of one kind (answer text, reasoning) as one."""
    out: list[Piece] = []
    for piece in pieces:
        last = out[-1] if out else None
        if isinstance(piece, str) and isinstance(last, str):
            out[-1] = last + piece
        elif isinstance(piece, Thought) and isinstance(last, Thought):
            out[-1] = Thought(last.text + piece.text)
        else:
            out.append(piece)
    return out


def _same_file_key(path: Path) -> str:
    """One spelling per file: resolved, and case-folded where Windows ignores case."""
    return os.path.normcase(path.resolve())
