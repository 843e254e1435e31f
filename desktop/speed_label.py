"""The status bar's word on the last answer: how fast it came, or that the rules declined it."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from lanterne.assistant.answer import Answer
from lanterne.desktop.interface_language import InterfaceLanguage
from lanterne.foundation.translation import _, format_number


class SpeedLabel(QLabel):
    def __init__(self) -> None:
        super().__init__()
        self.answer: Answer | None = None
        # a method, not a lambda: Qt drops the connection when the label goes
        InterfaceLanguage.instance().changed.connect(self._on_language)

    def show_answer(self, answer: Answer) -> None:
        self.answer = answer
        self.refresh()

    def _on_language(self, _language: str) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Composed text: written again in the new language when the interface's changes."""
        answer = self.answer
        if answer is None:
            return
        if answer.declined:
            self.setText(_("Last answer: declined by your organisation's rules"))
            return
        t = answer.timings
        self.setText(
            _("Last answer: {tokens} tokens at {speed} tokens/s").format(
                tokens=format_number(t.predicted_tokens),
                speed=format_number(t.tokens_per_second, 1),
            )
        )
