"""Bridges from plain Python threads to Qt signals, so the GUI thread never waits."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Signal

from lanterne.assistant.pipeline import (
    Finished,
    LoadingModel,
    ModelReady,
    Retrieved,
    Thinking,
    Token,
)
from lanterne.assistant.prompt import PastTurn
from lanterne.context import AppContext
from lanterne.engine.errors import ModelFileMissingError, NoModelConfiguredError
from lanterne.foundation.translation import _
from lanterne.model_gate import KEYBOARD


class AskWorker(QObject):
    """Runs one question through the assistant on a thread of its own."""

    loading = Signal(object)  # LoadingModel
    model_ready = Signal(object)  # ModelReady
    retrieved = Signal(object)  # list[Citation]
    token = Signal(str)
    thinking = Signal(str)  # a piece of the reasoning, before the answer's tokens
    finished = Signal(object)  # Answer
    failed = Signal(str)

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, question: str, use_docs: bool = True, history: Sequence[PastTurn] = ()) -> None:
        """Ask on a new thread; `history` is the conversation so far, oldest turn first."""
        self._cancel = threading.Event()
        self._thread = threading.Thread(
            target=self._run,
            args=(question, use_docs, tuple(history), self._cancel),
            name="lanterne-ask",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        self._cancel.set()

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(
        self,
        question: str,
        use_docs: bool,
        history: tuple[PastTurn, ...],
        cancel: threading.Event,
    ) -> None:
        try:
            # The model's turn first: other apps' requests wait behind the person's question.
            with self._ctx.model_gate.hold(KEYBOARD, cancel):
                events = self._ctx.assistant.ask(
                    question, use_docs=use_docs, cancel=cancel, history=history
                )
                for event in events:
                    if isinstance(event, Token):
                        self.token.emit(event.text)
                    elif isinstance(event, Thinking):
                        self.thinking.emit(event.text)
                    elif isinstance(event, ModelReady):
                        self.model_ready.emit(event)
                    elif isinstance(event, LoadingModel):
                        self.loading.emit(event)
                    elif isinstance(event, Retrieved):
                        self.retrieved.emit(event.citations)
                    elif isinstance(event, Finished):
                        self.finished.emit(event.answer)
        except NoModelConfiguredError:  # the CLI's advice names commands; here, the menu
            self.failed.emit(
                _(
                    "No model is chosen yet: download or import one in File › Models, then "
                    "ask again."
                )
            )
        except ModelFileMissingError as exc:  # the CLI's advice names commands; here, the menu
            self.failed.emit(
                _(
                    "The model file {path} is no longer there (moved or deleted): choose a "
                    "model in File › Models, then ask again."
                ).format(path=exc.path)
            )
        except Exception as exc:  # shown in place in the chat, never a crash
            self.failed.emit(str(exc))


class BackgroundTask(QObject):
    """Any blocking call (model load, indexing) on a thread, its result delivered as a signal.

    With an `owner` (the widget that shows the result), a result arriving after the owner is
    gone (a window closed meanwhile) is dropped instead of reaching deleted widgets.
    """

    succeeded = Signal(object)
    failed = Signal(str)
    progress = Signal(object)

    def __init__(self, owner: QObject | None = None) -> None:
        super().__init__()
        self._owner = owner

    def alive(self) -> bool:
        return self._owner is None or shiboken6.isValid(self._owner)

    def connect_outcome(
        self, succeeded: Callable[[Any], None], failed: Callable[[str], None]
    ) -> None:
        """Deliver the result or the error, if the owner still exists."""
        self.succeeded.connect(lambda result: succeeded(result) if self.alive() else None)
        self.failed.connect(lambda message: failed(message) if self.alive() else None)

    def run(self, fn: Callable[[Callable[[Any], None]], Any]) -> None:
        def target() -> None:
            try:
                self.succeeded.emit(fn(self.progress.emit))
            except Exception as exc:
                self.failed.emit(str(exc))

        threading.Thread(target=target, name="lanterne-task", daemon=True).start()
