"""The first-run wizard: language, a model (imported here), folders, the shortcut; all kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QWizard
from pytestqt.qtbot import QtBot

from lanterne.desktop.first_run import FirstRunWizard, needs_first_run
from lanterne.foundation.settings import Settings

pytestmark = pytest.mark.gui


def test_the_wizard_walks_a_new_user_through_setup(
    qtbot: QtBot, tiny_moe_model: Path, docs_folder: Path
) -> None:
    settings = Settings()
    assert needs_first_run(settings)
    wizard = FirstRunWizard(settings)
    qtbot.addWidget(wizard)
    wizard.show()
    assert wizard.language_page.buttons["en"].isChecked()  # the system's language (LANGUAGE=en)
    wizard.language_page.buttons["fr"].setChecked(True)
    wizard.next()
    assert settings.get_str("ui.language") == "fr"  # in effect from the next page on
    next_button = wizard.button(QWizard.WizardButton.NextButton)
    assert next_button.isEnabled()  # no model yet, and no need to wait for one
    assert wizard.model_page.note.text()  # says the user may go on without one
    with qtbot.waitSignal(wizard.model_page.models.model_changed, timeout=30000):
        wizard.model_page.models.import_file(tiny_moe_model)
    qtbot.waitUntil(lambda: not wizard.model_page.note.text(), timeout=30000)
    qtbot.waitUntil(lambda: not wizard.model_page.models.is_busy(), timeout=30000)
    wizard.next()
    wizard.folders_page.add(docs_folder)
    wizard.folders_page.add(docs_folder)  # once only
    wizard.next()
    assert wizard.hotkey() == "ctrl+shift+space"
    wizard.accept()
    saved = Settings()
    assert saved.get_bool("ui.first_run_done") and not needs_first_run(saved)
    assert saved.get_str("ui.language") == "fr"
    assert Path(saved.get_str("model.path")).name.startswith("tiny-moe")
    assert wizard.folders() == [docs_folder]


def test_the_shortcut_page_refuses_a_key_that_cannot_be_a_shortcut(qtbot: QtBot) -> None:
    """A dead key pressed in the editor is said on the page, and Finish waits for another."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QKeySequence

    wizard = FirstRunWizard(Settings())
    qtbot.addWidget(wizard)
    page = wizard.shortcut_page
    page.editor.edit.setKeySequence(
        QKeySequence(Qt.KeyboardModifier.ControlModifier | Qt.Key.Key_Dead_Circumflex)
    )
    assert not page.validatePage()
    assert "cannot be part of a shortcut" in page.error.text()
    page.editor.edit.setKeySequence(QKeySequence("Ctrl+Shift+K"))
    assert page.validatePage()
    assert page.error.text() == ""
