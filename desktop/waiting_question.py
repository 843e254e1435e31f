"""A question asked before any model is here, while one downloads: it waits on its turn, which
says what for ("The model is downloading: 2.1 GB of 4.2 GB, about 3 min"), and is asked as soon
as the model arrives. The question box says the same before anyone asks."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject

from lanterne.desktop.answer_stream import AnswerStream
from lanterne.desktop.chat_view import ChatView, Turn
from lanterne.desktop.download_service import DownloadService
from lanterne.desktop.question_box import QuestionBox
from lanterne.engine.hub_download import Progress
from lanterne.engine.model_store import InstalledModel
from lanterne.foundation.settings import Settings
from lanterne.foundation.translation import _
from lanterne.model_downloads import waiting_text


def _turn_text(progress: Progress | None) -> str:
    return waiting_text(progress) + " " + _("The answer comes as soon as it is here.")


class WaitingQuestion(QObject):
    def __init__(
        self,
        settings: Settings,
        downloads: DownloadService,
        chat: ChatView,
        question: QuestionBox,
        stream: AnswerStream,
        start: Callable[[Turn], None],
    ) -> None:
        """`start`: asks a turn, as the window does once a model is there."""
        super().__init__(stream)
        self.settings = settings
        self.downloads = downloads
        self.chat = chat
        self.question = question
        self.stream = stream
        self._start = start
        self.turn: Turn | None = None
        downloads.started.connect(lambda _name: self._show(None))
        downloads.progress.connect(self._show)
        downloads.arrived.connect(self._arrived)
        downloads.idle.connect(self._idle)
        if downloads.is_active():
            self._show(downloads.last_progress)

    def _no_model(self) -> bool:
        return not self.settings.get_str("model.path")

    def hold(self, turn: Turn) -> bool:
        """Keep `turn` until the model arrives; False when there is no reason to wait (a model
        is in use, or none is coming: the turn then says so in the usual way)."""
        if not self._no_model() or not self.downloads.is_active():
            return False
        self.turn = turn
        turn.status = _turn_text(self.downloads.last_progress)
        self.chat.busy = True
        self.chat.refresh()
        return True

    def drop(self) -> bool:
        """The user's Stop: the waiting question is given up, saved as stopped."""
        turn, self.turn = self.turn, None
        if turn is None:
            return False
        self.stream.fail(turn, _("Stopped before the model arrived."))
        return True

    def _show(self, progress: Progress | None) -> None:
        if not self._no_model():
            return
        text = waiting_text(progress)
        self.question.setPlaceholderText(text + " " + _("You can ask already."))
        if self.turn is not None:
            self.turn.status = _turn_text(progress)
            self.chat.schedule_refresh()

    def _arrived(self, _model: InstalledModel) -> None:
        if self._no_model():  # an embedding model, or one the organisation then refused
            return
        self.question.reset_placeholder()
        turn, self.turn = self.turn, None
        if turn is not None:
            turn.status = _("Thinking…")
            self._start(turn)

    def _idle(self) -> None:
        """Nothing more is coming this session: a question still waiting ends in words."""
        self.question.reset_placeholder()
        turn, self.turn = self.turn, None
        if turn is not None and self._no_model():
            self.stream.fail(
                turn,
                _(
                    "The model could not be downloaded, so this question was not answered: "
                    "see File › Models, then ask again."
                ),
            )
