"""Rating an answer and correcting it, from the links under it; saved through the store thread.

Both stay on this machine, beside the conversation, for the demonstration-data export (File ›
Export demonstration data…). The model's own text is kept: a correction can be taken back.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from lanterne.conversations.store import ConversationStore
from lanterne.desktop.chat_view import ChatView, Turn
from lanterne.desktop.store_thread import StoreThread
from lanterne.foundation.translation import _


class AnswerEditDialog(QDialog):
    """The answer as it should have been; `restored` when the model's text is wanted back."""

    def __init__(self, turn: Turn, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Correct the answer"))
        self.restored = False
        note = QLabel(
            _(
                "Write the answer as it should have been. Lanterne keeps the model's answer "
                "beside yours, and your version goes into demonstration data you export."
            )
        )
        note.setWordWrap(True)
        self.editor = QPlainTextEdit(turn.answer)
        self.editor.setAccessibleName(_("Corrected answer"))
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.restore_button = QPushButton(_("Restore the model's answer"))
        self.restore_button.clicked.connect(self._restore)
        buttons.addButton(self.restore_button, QDialogButtonBox.ButtonRole.ResetRole)
        self.restore_button.setVisible(turn.original is not None)  # after addButton shows it
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.editor)
        layout.addWidget(buttons)
        self.resize(640, 420)

    def text(self) -> str:
        return self.editor.toPlainText().strip()

    def _restore(self) -> None:
        self.restored = True
        self.accept()


class AnswerFeedback(QObject):
    def __init__(self, chat: ChatView, store: StoreThread, parent: QWidget) -> None:
        super().__init__(parent)
        self.chat = chat
        self.store = store
        self.window = parent
        chat.rate_requested.connect(self.rate)
        chat.edit_requested.connect(self.edit)

    def rate(self, index: int, rating: int) -> None:
        """The rating given; the same one again takes it back."""
        turn = self._turn(index)
        if turn is None:
            return
        turn.rating = value = None if turn.rating == rating else rating
        self.chat.refresh()
        self._save(turn, lambda store, row: store.set_rating(row, value))

    def edit(self, index: int) -> AnswerEditDialog | None:
        turn = self._turn(index)
        if turn is None:
            return None
        dialog = AnswerEditDialog(turn, self.window)
        dialog.accepted.connect(lambda: self._apply(turn, dialog))
        dialog.open()
        return dialog

    def _apply(self, turn: Turn, dialog: AnswerEditDialog) -> None:
        original = turn.answer if turn.original is None else turn.original
        text = dialog.text()
        edit = None if dialog.restored or not text or text == original.strip() else text
        turn.answer, turn.original = (original, None) if edit is None else (edit, original)
        self.chat.refresh()
        self._save(turn, lambda store, row: store.set_edit(row, edit))

    def _save(self, turn: Turn, write: Callable[[ConversationStore, int], None]) -> None:
        """On the answer's row, on the store thread: its id is known there by then (the jobs
        that save the answer ran first)."""
        ref = turn.message
        self.store.submit(lambda store: write(store, ref.id) if ref.id is not None else None)

    def _turn(self, index: int) -> Turn | None:
        """A finished answer: one being written cannot be rated or corrected yet."""
        turns = self.chat.turns
        if 0 <= index < len(turns) and turns[index].finished and not turns[index].error:
            return turns[index]
        return None
