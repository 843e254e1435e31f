"""Switching the interface language with windows open: everything switches, nothing restarts."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialogButtonBox, QWidget
from pytestqt.qtbot import QtBot

from lanterne.desktop.main_window import MainWindow
from lanterne.desktop.settings_dialog import apply_system_settings
from lanterne.foundation.translation import _, current_language, source_strings
from support.widget_texts import foreign_texts, widget_texts

pytestmark = pytest.mark.gui


def _english_left(root: QWidget) -> list[str]:
    return foreign_texts(widget_texts(root), "fr")


def test_switching_to_french_and_back_needs_no_restart(window: MainWindow, qtbot: QtBot) -> None:
    turn = window.chat.add_turn("Où sont les sauvegardes ?")
    turn.status = ""
    turn.answer = "Sur le NAS."
    turn.finished = True
    window.chat.refresh()
    assert window.ask_button.text() == "Ask"
    window.ctx.settings.set("ui.language", "fr")
    apply_system_settings(window.ctx.settings)
    assert current_language() == "fr"
    assert window.ask_button.text() == _("Ask") != "Ask"
    assert _english_left(window) == []
    menus = [a.text() for a in window.menuBar().actions()]
    assert menus and all(m == _(source_strings("fr").get(m, m)) for m in menus)
    assert _("You") in window.chat.toPlainText() and "You" not in window.chat.toPlainText()
    assert _("Copy") in window.chat.toPlainText()

    settings = window.open_settings()  # built after the switch: French, Qt's buttons too
    cancel = settings.buttons.button(QDialogButtonBox.StandardButton.Cancel)
    assert cancel.text().replace("&", "") == "Annuler"
    assert _english_left(settings) == []
    settings.reject()

    window.ctx.settings.set("ui.language", "en")
    apply_system_settings(window.ctx.settings)
    assert window.ask_button.text() == "Ask"
    assert "You" in window.chat.toPlainText()
    assert window.menuBar().actions()[0].text().replace("&", "") == "File"
