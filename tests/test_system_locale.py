"""A new user whose system speaks French (or English) meets only that language in every window:
the wizard, the main window and its menus, the chat, Settings, Models, and quick-ask."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from lanterne.context import AppContext
from lanterne.desktop.first_run import FirstRunWizard, needs_first_run
from lanterne.desktop.interface_language import switch_language
from lanterne.desktop.main_window import MainWindow
from lanterne.desktop.quick_ask import QuickAskWindow
from lanterne.foundation.settings import Settings
from lanterne.foundation.translation import choose_language, current_language
from support.widget_texts import foreign_texts, widget_texts

pytestmark = pytest.mark.gui

LOCALES = {"fr": "fr_FR.UTF-8", "en": "en_US.UTF-8"}


@pytest.fixture(params=sorted(LOCALES))
def system_language(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """The system's locale, set as the OS sets it (no LANGUAGE override), then the language
    the app picks for a user who never chose one, as `lanterne` does at start."""
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", LOCALES[request.param])
    switch_language(choose_language(Settings().get_str("ui.language")))
    yield request.param
    switch_language("en")


def test_every_window_speaks_the_system_language(system_language: str, qtbot: QtBot) -> None:
    language = system_language
    assert current_language() == language
    seen: list[str] = []

    settings = Settings()
    assert needs_first_run(settings)
    wizard = FirstRunWizard(settings)
    qtbot.addWidget(wizard)
    wizard.show()
    assert wizard.language_page.buttons[language].isChecked()  # the system's, preselected
    seen += widget_texts(wizard)
    wizard.next()  # keeps the preselected language
    assert settings.get_str("ui.language") == language
    seen += widget_texts(wizard)
    wizard.reject()

    ctx = AppContext(settings)
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    turn = window.chat.add_turn("?")
    turn.status = ""
    turn.answer = "42"
    turn.finished = True
    window.chat.refresh()
    chat = window.chat.toPlainText()
    assert ("Vous" in chat) == (language == "fr") and ("You" in chat) == (language == "en")
    seen += widget_texts(window)

    dialog = window.open_settings()
    cancel = dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel).text().replace("&", "")
    assert cancel == {"fr": "Annuler", "en": "Cancel"}[language]  # Qt's own strings too
    seen += widget_texts(dialog)
    dialog.reject()
    models = window.open_models()
    seen += widget_texts(models)
    models.reject()
    quick = QuickAskWindow(ctx, window.store)
    qtbot.addWidget(quick)
    seen += widget_texts(quick)

    assert len(seen) > 150  # every window was walked
    assert foreign_texts(seen, language) == []
    window.close()
    ctx.close()
