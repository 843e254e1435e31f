"""Light and dark: forced from Settings whatever the platform says; back to the system's."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from lanterne.desktop.chat_view import ChatView, Turn
from lanterne.desktop.theme import apply_theme

pytestmark = pytest.mark.gui


def lightness(app: QApplication) -> int:
    return app.palette().window().color().lightness()


def test_dark_light_and_back_to_the_system(qapp: QApplication, qtbot: QtBot) -> None:
    system = lightness(qapp)
    view = ChatView()
    qtbot.addWidget(view)
    view.set_turns([Turn(question="Où ?", answer="Ici.", finished=True)])
    try:
        apply_theme(qapp, "dark")
        assert lightness(qapp) < 80
        qtbot.waitUntil(lambda: view.palette().base().color().lightness() < 80, timeout=2000)
        # The chat's own colours follow: its muted labels are light on the dark background.
        muted = view.palette().placeholderText().color().name()
        assert muted in view.toHtml()
        apply_theme(qapp, "light")
        assert lightness(qapp) > 180
    finally:
        apply_theme(qapp, "system")
    assert lightness(qapp) == system
