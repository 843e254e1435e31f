"""The status bar's "Rules set by your organisation": shown while house rules apply to answers,
with the rules in words on hover and on click."""

from __future__ import annotations

import html

from PySide6.QtWidgets import QLabel, QMessageBox

from lanterne.assistant.house_rules import HouseRules
from lanterne.foundation.settings import Settings
from lanterne.foundation.translation import _


class RulesLabel(QLabel):
    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings
        self.setAccessibleName(_("Rules set by your organisation"))
        self.linkActivated.connect(lambda _link: self.show_rules())

    def refresh(self) -> None:
        rules = HouseRules.from_settings(self.settings)
        self.setVisible(bool(rules))
        self.setText(_link(_("Rules set by your organisation")))
        self.setToolTip("\n".join(rules_in_words(rules)))

    def show_rules(self) -> None:
        """What the organisation's rules do to every answer, in words."""
        rules = HouseRules.from_settings(self.settings)
        QMessageBox.information(
            self, _("Rules set by your organisation"), "\n\n".join(rules_in_words(rules))
        )


def rules_in_words(rules: HouseRules) -> list[str]:
    lines = []
    if rules.instructions:
        lines.append(_("Instruction given to the model: {text}").format(text=rules.instructions))
    if rules.decline_topics:
        lines.append(
            _("Questions about these topics are declined: {topics}").format(
                topics=", ".join(rules.decline_topics)
            )
        )
    if rules.masked_words:
        lines.append(
            _("These words are masked in answers: {words}").format(
                words=", ".join(rules.masked_words)
            )
        )
    if rules.disclaimer:
        lines.append(_("Every answer ends with: {text}").format(text=rules.disclaimer))
    return lines


def _link(text: str) -> str:
    """`text` as a link a label reports through linkActivated."""
    return f'<a href="#">{html.escape(text)}</a>'
