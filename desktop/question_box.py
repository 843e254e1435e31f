"""The question box under the chat: Enter sends, Shift+Enter starts a new line."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QPlainTextEdit

from lanterne.foundation.translation import _


class QuestionBox(QPlainTextEdit):
    submitted = Signal()  # Enter (or the keypad's) without Shift

    def __init__(self) -> None:
        super().__init__()
        self.reset_placeholder()
        self.setAccessibleName(_("Question"))  # a screen reader does not read the placeholder
        self.setTabChangesFocus(True)  # Tab leaves for the next control, as keyboard users expect
        self.setMaximumHeight(90)

    def reset_placeholder(self) -> None:
        """The usual invitation, once nothing is awaited (a download may have replaced it)."""
        self.setPlaceholderText(_("Ask a question about your documents…"))

    def keyPressEvent(self, event):  # type: ignore[no-untyped-def]  # noqa: N802 (Qt override)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not (
            event.modifiers() & Qt.KeyboardModifier.ShiftModifier
        ):
            self.submitted.emit()
            return
        super().keyPressEvent(event)
