"""One conversation on screen, from the question to the saved answer, and what is done to
conversations (new, open, rename, delete, regenerate): written once for the main window and
the quick-ask window, which lay out their widgets and add what is their own (the sources panel,
the Ask and Stop buttons, the list, carrying an exchange into the main window)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from lanterne.assistant.answer import Answer
from lanterne.assistant.prompt import PastTurn
from lanterne.context import AppContext
from lanterne.conversations.store import ConversationStore, Message
from lanterne.desktop.answer_recorder import AnswerRecorder, ConversationRef
from lanterne.desktop.answer_stream import AnswerStream
from lanterne.desktop.chat_view import ChatView, Turn
from lanterne.desktop.saved_turns import turns_from_messages
from lanterne.desktop.store_thread import StoreThread
from lanterne.desktop.waiting_question import WaitingQuestion
from lanterne.foundation.translation import _


class ConversationController(QObject):
    started = Signal()  # a turn is under way: asked, regenerated, or waiting for its model
    opened = Signal(object)  # a saved conversation is on screen: its last Turn, or None
    cleared = Signal()  # a new conversation: nothing on screen, nothing given to the model
    changed = Signal()  # the saved conversations changed: a list of them reads them again

    def __init__(
        self, ctx: AppContext, store: StoreThread, chat: ChatView, parent: QObject
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.chat = chat
        self.recorder = AnswerRecorder(store, self)
        self.recorder.question_saved.connect(self._on_question_saved)
        self.recorder.answer_saved.connect(lambda _cid: self.changed.emit())
        self.stream = AnswerStream(ctx, chat, self.recorder, self)
        self.stream.answered.connect(self._on_answered)
        self.worker = self.stream.worker
        self.waiting: WaitingQuestion | None = None  # the main window's, while a model downloads
        self.conversation = ConversationRef()  # its row, once the store thread has written it
        self.shown_id: int | None = None  # the conversation on screen, once the GUI knows its id
        self.history: list[PastTurn] = []  # its answered turns, given to the model

    def busy(self) -> bool:
        """An answer is being written, or a question waits for its model."""
        return self.worker.is_running() or (
            self.waiting is not None and self.waiting.turn is not None
        )

    # Asking -------------------------------------------------------------------------------

    def ask(self, question: str) -> Turn | None:
        """`question` as a new turn, saved, then asked (or held until its model arrives)."""
        if not question or self.busy():
            return None
        turn = self.chat.add_turn(question)
        self.recorder.begin_question(self.conversation, turn)
        if self.waiting is not None and self.waiting.hold(turn):
            self.started.emit()  # asked as soon as the model being downloaded arrives
        else:
            self.start(turn)
        return turn

    def start(self, turn: Turn) -> None:
        """Ask `turn` now, after this conversation's answered turns."""
        self.started.emit()
        self.stream.start(turn, self.history)

    def regenerate(self, turn_index: int) -> None:
        """Ask the last question again, in place of its answer."""
        if self.busy() or turn_index != len(self.chat.turns) - 1:
            return
        turn = self.chat.turns[turn_index]
        if self.history and self.history[-1].question == turn.question:
            self.history = self.history[:-1]
        self.recorder.begin_regenerate(self.conversation, turn)
        turn.answer, turn.citations, turn.error, turn.finished = "", [], False, False
        turn.rating = turn.original = None  # they were about the old answer
        turn.status = _("Thinking…")
        self.start(turn)

    def stop(self) -> None:
        """The user's Stop: a waiting question is given up, an answer stops where it is."""
        if self.waiting is None or not self.waiting.drop():
            self.worker.stop()

    def halt(self, timeout: float = 10.0) -> None:
        """At quit: the answer stops and its thread ends before the model goes."""
        self.worker.stop()
        self.worker.wait(timeout)

    def _on_answered(self, answer: Answer) -> None:
        if answer.text:  # a stopped answer stays in the conversation as far as it went
            self.history.append(answer.as_past_turn())

    def _on_question_saved(self, conversation_id: int) -> None:
        self.shown_id = conversation_id
        self.changed.emit()

    # Conversations ------------------------------------------------------------------------

    def new_conversation(self) -> bool:
        """Start afresh: the model no longer sees the earlier questions and answers. False
        while busy (nothing changes)."""
        if self.busy():
            return False
        self.conversation = ConversationRef()
        self.shown_id = None
        self.history = []
        self.chat.clear_turns()
        self.cleared.emit()
        return True

    def open(self, conversation_id: int) -> None:
        """A saved conversation, read on the store thread, in place of the one on screen."""
        if self.busy() or conversation_id == self.shown_id:
            return

        def load(store: ConversationStore) -> list[Message]:
            return store.messages(conversation_id)

        def show(messages: list[Message]) -> None:
            turns, history = turns_from_messages(messages)
            self.conversation = ConversationRef(conversation_id)
            self.shown_id = conversation_id
            self.history = history
            self.chat.set_turns(turns)
            self.opened.emit(turns[-1] if turns else None)

        self.store.submit(load, show)

    def rename(self, conversation_id: int, title: str) -> None:
        self.store.submit(lambda store: store.rename(conversation_id, title))

    def delete(self, conversation_id: int) -> None:
        """The one on screen gives way to a new conversation (not while it is answered)."""
        if conversation_id == self.shown_id and not self.new_conversation():
            return
        self.store.submit(lambda store: store.delete(conversation_id), self._deleted)

    def _deleted(self, _result: object) -> None:
        self.changed.emit()
