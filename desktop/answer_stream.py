"""One answer at a time, from the question to the saved answer: the worker's events shown on the
turn as they arrive, and the outcome handed to the recorder. Shared by the main window and the
quick-ask window, which add what is their own (sources panel, speed, expanding)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from lanterne.assistant.answer import Answer, Citation
from lanterne.assistant.pipeline import LoadingModel
from lanterne.assistant.prompt import PastTurn
from lanterne.context import AppContext
from lanterne.desktop.answer_recorder import AnswerRecorder
from lanterne.desktop.chat_view import ChatView, Turn
from lanterne.desktop.workers import AskWorker
from lanterne.foundation.translation import _, format_size


def loading_text(loading: LoadingModel) -> str:
    return _("Loading the model {name} ({size})…").format(
        name=loading.name, size=format_size(loading.size_bytes)
    )


def model_status_text(path: Path) -> str:
    """The status bar's word on the chosen model until it loads."""
    if not path.expanduser().exists():
        return _(
            "The model file {name} is no longer there (moved or deleted): choose a model in "
            "File › Models…"
        ).format(name=path.name)
    return _("Model: {name} (loads on the first question)").format(name=path.name)


class AnswerStream(QObject):
    retrieved = Signal(object)  # the Turn, now with its sources
    answered = Signal(object)  # the Answer (complete or stopped), after the turn shows it
    settled = Signal()  # the turn is over, whatever the outcome

    def __init__(
        self, ctx: AppContext, chat: ChatView, recorder: AnswerRecorder, parent: QObject
    ) -> None:
        super().__init__(parent)
        self.chat = chat
        self.recorder = recorder
        self.worker = AskWorker(ctx, self)
        self.worker.loading.connect(self._on_loading)
        self.worker.retrieved.connect(self._on_retrieved)
        self.worker.thinking.connect(self._on_thinking)
        self.worker.token.connect(self._on_token)
        self.worker.finished.connect(self._on_finished)
        self.worker.failed.connect(self._on_failed)
        self.turn: Turn | None = None

    def start(self, turn: Turn, history: list[PastTurn]) -> None:
        self.turn = turn
        turn.reasoning = ""  # a regenerated answer reasons afresh
        self.chat.busy = True
        self.chat.refresh()
        self.worker.start(turn.question, history=history)

    def _on_loading(self, loading: LoadingModel) -> None:
        if self.turn is not None:
            self.turn.status = loading_text(loading)
            self.chat.schedule_refresh()

    def _on_retrieved(self, citations: list[Citation]) -> None:
        if self.turn is not None:
            self.turn.citations = list(citations)
            self.turn.status = _("Writing…")
            self.chat.schedule_refresh()
            self.retrieved.emit(self.turn)

    def _on_thinking(self, text: str) -> None:
        """Reasoning pieces go to the turn's own section, never into its answer."""
        if self.turn is not None:
            self.turn.reasoning += text
            self.turn.status = ""  # the section's "Reasoning…" says what is happening
            self.chat.schedule_refresh()

    def _on_token(self, text: str) -> None:
        if self.turn is not None:
            if not self.turn.answer:
                self.turn.reasoning_open = False  # the answer begins: the reasoning folds away
            self.turn.answer += text
            self.turn.status = ""
            self.chat.schedule_refresh()

    def _on_finished(self, answer: Answer) -> None:
        if self.turn is not None:
            self.turn.answer = answer.text
            self.turn.reasoning = answer.reasoning or self.turn.reasoning
            self.turn.citations = answer.citations
            self.turn.status = _("Stopped.") if answer.stopped else ""
        self.recorder.finish(answer.text, "stopped" if answer.stopped else "complete", answer)
        self.answered.emit(answer)
        self._settle()

    def fail(self, turn: Turn, message: str) -> None:
        """A turn that never reached the model (the download it waited for failed) ends as
        an error, saved like any other."""
        self.turn = turn
        self._on_failed(message)

    def _on_failed(self, message: str) -> None:
        text = ""
        if self.turn is not None:
            text = self.turn.answer
            self.turn.status = message
            self.turn.error = True
        self.recorder.finish(text, "error", None, error=message)
        self._settle()

    def _settle(self) -> None:
        if self.turn is not None:
            self.turn.finished = True
        self.turn = None
        self.chat.busy = False
        self.chat.refresh()
        self.settled.emit()
