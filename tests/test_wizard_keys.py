"""Return goes on in the first-run wizard (Next, Finish on the last page), whatever has the focus:
never "Import a GGUF file…" again, nor "Add folder…"; an incomplete page stays put; the shortcut
editor still records a shortcut with Return in it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFileDialog,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)
from pytestqt.qtbot import QtBot

from lanterne.desktop.first_run import FirstRunWizard
from lanterne.desktop.wizard_keys import return_goes_on
from lanterne.foundation.settings import Settings

pytestmark = pytest.mark.gui


@pytest.fixture
def file_dialogs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each file or folder chooser opened, by title; none is shown."""
    opened: list[str] = []

    def open_file(_parent: QWidget, title: str, *_args: object) -> tuple[str, str]:
        opened.append(title)
        return "", ""

    def open_folder(_parent: QWidget, title: str, *_args: object) -> str:
        opened.append(title)
        return ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(open_file))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(open_folder))
    return opened


@pytest.fixture
def wizard(qtbot: QtBot, gemma_model: Path) -> Iterator[FirstRunWizard]:
    settings = Settings()
    settings.set("model.path", str(gemma_model))  # the model page is complete
    shown = FirstRunWizard(settings)
    qtbot.addWidget(shown)
    shown.show()
    shown.activateWindow()
    qtbot.waitActive(shown)
    # The Models page surveys this machine on a task thread: done before the test goes on, so
    # none is left running once the wizard has gone.
    qtbot.waitUntil(lambda: not shown.model_page.models.is_busy(), timeout=30000)
    yield shown


def button(page: QWidget, text: str) -> QPushButton:
    return next(b for b in page.findChildren(QPushButton) if b.text() == text)


def press(qtbot: QtBot, widget: QWidget, key: Qt.Key = Qt.Key.Key_Return) -> None:
    widget.setFocus(Qt.FocusReason.TabFocusReason)  # as a user tabbing to it
    qtbot.waitUntil(lambda: QApplication.focusWidget() is widget)
    QTest.keyClick(widget, key)


def test_return_goes_through_every_page_to_finish(
    qtbot: QtBot, wizard: FirstRunWizard, file_dialogs: list[str]
) -> None:
    press(qtbot, wizard.language_page.buttons["en"])
    assert wizard.currentPage() is wizard.model_page

    importing = button(wizard.model_page, "Import a GGUF file…")
    importing.click()  # the dialog opens when asked
    assert file_dialogs == ["Import a GGUF model"]
    press(qtbot, importing)  # and Return afterwards goes on, as reported
    assert file_dialogs == ["Import a GGUF model"]
    assert wizard.currentPage() is wizard.folders_page

    press(qtbot, button(wizard.folders_page, "Add folder…"))
    assert file_dialogs == ["Import a GGUF model"]
    assert wizard.currentPage() is wizard.shortcut_page

    hotkey = wizard.hotkey()
    press(qtbot, wizard.shortcut_page.editor.edit)  # has the focus when the page opens
    assert wizard.result() == QDialog.DialogCode.Accepted
    assert wizard.hotkey() == hotkey  # Return was not taken for the shortcut


def test_no_button_of_a_page_is_pressed_by_return(
    qtbot: QtBot, wizard: FirstRunWizard, file_dialogs: list[str]
) -> None:
    wizard.next()
    pressed: list[bool] = []
    for shown in wizard.model_page.findChildren(QPushButton):
        if shown.isVisible():
            assert not shown.autoDefault(), shown.text()
            shown.clicked.connect(lambda: pressed.append(True))
            press(qtbot, shown)
            assert pressed == [], shown.text()
            assert wizard.currentPage() is wizard.folders_page, shown.text()
            wizard.back()
    assert file_dialogs == []


def test_a_shortcut_with_return_in_it_is_still_recorded(
    qtbot: QtBot, wizard: FirstRunWizard
) -> None:
    for _page in range(3):
        wizard.next()
    editor = wizard.shortcut_page.editor.edit
    editor.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is editor)
    QTest.keyClick(editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert wizard.hotkey() == "ctrl+return"
    assert wizard.isVisible() and wizard.currentPage() is wizard.shortcut_page


def test_escape_on_the_model_page_cancels_as_elsewhere(
    qtbot: QtBot, wizard: FirstRunWizard
) -> None:
    """The page embeds the Models dialog: Escape used to hide it, leaving the page blank."""
    wizard.next()
    press(qtbot, button(wizard.model_page, "Import a GGUF file…"), Qt.Key.Key_Escape)
    assert wizard.model_page.models.isVisibleTo(wizard.model_page)
    assert wizard.result() == QDialog.DialogCode.Rejected and not wizard.isVisible()


class _Unfinished(QWizardPage):
    """A page that is never complete, with its own button and an embedded dialog's."""

    def __init__(self) -> None:
        super().__init__()
        self.own = QPushButton("Own")
        self.inner = QDialog(self)
        self.inner.setWindowFlags(Qt.WindowType.Widget)
        self.inner_button = QPushButton("Inner", self.inner)
        self.inner_button.setDefault(True)
        self.rows = QVBoxLayout(self)
        self.rows.addWidget(self.own)
        self.rows.addWidget(self.inner)

    def isComplete(self) -> bool:  # noqa: N802 (Qt's name)
        return False


def test_return_on_an_incomplete_page_presses_nothing(qtbot: QtBot) -> None:
    wizard = QWizard()
    qtbot.addWidget(wizard)
    page = _Unfinished()
    wizard.addPage(page)
    wizard.addPage(QWizardPage())
    return_goes_on(wizard)
    wizard.show()
    wizard.activateWindow()
    qtbot.waitActive(wizard)
    pressed: list[str] = []
    page.own.clicked.connect(lambda: pressed.append("own"))
    page.inner_button.clicked.connect(lambda: pressed.append("inner"))
    late = QPushButton("Added later", page)  # after the wizard was shown: autoDefault
    late.clicked.connect(lambda: pressed.append("late"))
    page.rows.addWidget(late)
    late.show()
    for widget in (page.own, page.inner_button, late):
        press(qtbot, widget)
    assert pressed == []
    assert wizard.currentPage() is page and wizard.isVisible()
    assert not late.autoDefault()


def test_a_button_added_later_does_not_take_return_from_next(qtbot: QtBot) -> None:
    wizard = QWizard()
    qtbot.addWidget(wizard)
    first, second = QWizardPage(), QWizardPage()
    rows = QVBoxLayout(first)
    wizard.addPage(first)
    wizard.addPage(second)
    return_goes_on(wizard)
    wizard.show()
    wizard.activateWindow()
    qtbot.waitActive(wizard)
    late = QPushButton("Added later")
    pressed: list[bool] = []
    late.clicked.connect(lambda: pressed.append(True))
    rows.addWidget(late)
    late.show()
    assert late.autoDefault()  # Qt's default in a dialog: Return would press it
    press(qtbot, late)
    assert pressed == [] and wizard.currentPage() is second
