"""Saving a question and its answer as it streams, for the main window and the quick-ask window.

The question and an empty 'streaming' answer are written before the first token; the text (and
reasoning) so far every second; the final text, status, sources and figures at the end. All
through the store thread, in order, so the GUI never waits on the disk and a crash loses at most
a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from lanterne.assistant.answer import Answer
from lanterne.conversations.store import ConversationStore, Status
from lanterne.desktop.chat_view import Turn
from lanterne.desktop.store_thread import RowRef, StoreThread

SAVE_EVERY_MS = 1000
TITLE_CHARS = 60


def conversation_title(question: str) -> str:
    """A new conversation's name: its first question, on one line, cut at a word."""
    line = " ".join(question.split())
    if len(line) <= TITLE_CHARS:
        return line
    cut = line.rfind(" ", 0, TITLE_CHARS)
    return line[: cut if cut > TITLE_CHARS // 2 else TITLE_CHARS].rstrip(" ,;:") + "…"


ConversationRef = RowRef


@dataclass
class _Answer:
    conversation: ConversationRef
    turn: Turn  # read on the GUI thread only; store jobs get its row's RowRef (`message`)
    saved_text: str = ""  # what the last save wrote (GUI thread)
    saved_reasoning: str = ""

    @property
    def message(self) -> RowRef:
        """The answer's row: ratings and corrections find it through the turn's own ref."""
        return self.turn.message


class AnswerRecorder(QObject):
    question_saved = Signal(int)  # the conversation's id, once the question is on disk
    answer_saved = Signal(int)  # the conversation's id, once the final answer is on disk

    def __init__(self, store: StoreThread, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self._answer: _Answer | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(SAVE_EVERY_MS)
        self._timer.timeout.connect(self._save_partial)

    def begin_question(self, conversation: ConversationRef, turn: Turn) -> None:
        """Write the question (creating the conversation if new) and an empty answer."""
        message = self._begin(conversation, turn).message
        title, question = conversation_title(turn.question), turn.question

        def save(store: ConversationStore) -> int:
            if conversation.id is None:
                conversation.id = store.create(title)
            store.add_message(conversation.id, "user", question)
            message.id = store.add_message(conversation.id, "assistant", "", "streaming")
            return conversation.id

        self.store.submit(save, self.question_saved.emit)

    def begin_regenerate(self, conversation: ConversationRef, turn: Turn) -> None:
        """The conversation's last answer is written again, in place; its rating and the
        user's correction went with the old text."""
        message = self._begin(conversation, turn).message

        def save(store: ConversationStore) -> None:
            if conversation.id is None:
                return
            last = store.messages(conversation.id)[-1:]
            if last and last[0].role == "assistant":
                message.id = last[0].id
                store.update_message(
                    last[0].id, text="", status="streaming", sources=[], reasoning=""
                )
                store.clear_feedback(last[0].id)
            else:
                message.id = store.add_message(conversation.id, "assistant", "", "streaming")

        self.store.submit(save)

    def finish(self, text: str, status: Status, answer: Answer | None, error: str = "") -> None:
        self._timer.stop()
        current, self._answer = self._answer, None
        if current is None:
            return
        sources = [c.to_record() for c in answer.citations] if answer else []
        details: dict[str, Any] = {"error": error} if error else {}
        if answer is not None:
            details = {
                "language": answer.language,
                "backend": answer.engine.backend,
                "model": answer.engine.name,
                "tokens": answer.timings.predicted_tokens,
                "tokens_per_second": round(answer.timings.tokens_per_second, 2),
            }

        message, conversation = current.message, current.conversation
        # A failed or stopped answer keeps the reasoning shown so far, not the last saved.
        reasoning = answer.reasoning if answer is not None else current.turn.reasoning

        def save(store: ConversationStore) -> int | None:
            if message.id is not None:
                store.update_message(
                    message.id,
                    text=text,
                    status=status,
                    sources=sources,
                    details=details,
                    reasoning=reasoning,
                )
            return conversation.id

        self.store.submit(save, lambda cid: self.answer_saved.emit(cid) if cid else None)

    def _begin(self, conversation: ConversationRef, turn: Turn) -> _Answer:
        self._answer = _Answer(conversation, turn)
        self._timer.start()
        return self._answer

    def _save_partial(self) -> None:
        current = self._answer
        if current is None or (
            current.turn.answer == current.saved_text
            and current.turn.reasoning == current.saved_reasoning
        ):
            return
        text = current.saved_text = current.turn.answer
        reasoning = current.saved_reasoning = current.turn.reasoning  # minutes of it, at times
        message = current.message

        def save(store: ConversationStore) -> None:
            if message.id is not None:
                store.update_message(message.id, text=text, reasoning=reasoning)

        self.store.submit(save)
