"""Return and Enter move a wizard on (Next, or Finish on its last page) wherever the focus is.

Left to Qt, Return clicks the focused push button of a page: in a dialog every QPushButton is
"autoDefault" unless told otherwise, and takes the dialog's default while it has the focus (so
Return after "Import a GGUF file…" opened the file dialog again). A QDialog embedded in a page
(the model page is the Models dialog) also takes Return for its own default button, and Escape
to hide itself, leaving the page blank. Here page buttons are not autoDefault, and Return that
reaches a page's button or an embedded dialog clicks the wizard's Commit, Next or Finish button
if it is enabled: on an incomplete page it is not, and nothing happens. Escape in an embedded
dialog cancels the wizard, as on the other pages.

Widgets that use Return themselves (a list item being renamed, a combo box's open list) keep it;
so does the shortcut editor, but for a bare Return: a global shortcut needs a modifier, and the
editor has the focus on the last page, so pressing Return to finish would otherwise replace the
shortcut with one that cannot be registered. Ctrl+Return and the like are still recorded.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QKeySequenceEdit,
    QPushButton,
    QWidget,
    QWizard,
)
from shiboken6 import isValid

_RETURN = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
_BARE = (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.KeypadModifier)
_ON = (
    QWizard.WizardButton.CommitButton,
    QWizard.WizardButton.NextButton,
    QWizard.WizardButton.FinishButton,
)


def return_goes_on(wizard: QWizard) -> None:
    """Call once the pages are added; it lasts as long as the wizard."""
    _WizardKeys(wizard)


def go_on(wizard: QWizard) -> bool:
    """What Return means on the page shown: its Commit or Next button, else Finish, if one is
    shown and enabled. False when none is (an incomplete page)."""
    for which in _ON:
        button = wizard.button(which)
        if button.isVisible() and button.isEnabled():
            button.click()
            return True
    return False


class _WizardKeys(QObject):
    def __init__(self, wizard: QWizard) -> None:
        super().__init__(wizard)
        self.wizard = wizard
        for page_id in wizard.pageIds():
            self._watch(wizard.page(page_id))
        wizard.currentIdChanged.connect(self._on_page)  # buttons a page added since
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        app.focusChanged.connect(self._on_focus)

    def _watch(self, page: QWidget) -> None:
        for button in page.findChildren(QPushButton):
            button.setAutoDefault(False)
        for dialog in page.findChildren(QDialog):
            if not dialog.isWindow():
                dialog.installEventFilter(self)

    def _on_page(self, _page_id: int) -> None:
        page = self.wizard.currentPage()
        if page is not None:
            self._watch(page)

    def _on_focus(self, _old: QWidget | None, new: QWidget | None) -> None:
        """A button or dialog a page made after it was shown: it may have taken the wizard's
        default as the focus came to it, so its Return is taken before it sees it."""
        if not isValid(self.wizard) or new is None:
            return
        page = self.wizard.currentPage()
        if page is None or not page.isAncestorOf(new):
            return
        widget: QWidget | None = new
        while widget is not None and widget is not page:
            if isinstance(widget, QPushButton):
                widget.setAutoDefault(False)
            if widget is new or (isinstance(widget, QDialog) and not widget.isWindow()):
                widget.installEventFilter(self)
            widget = widget.parentWidget()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return False
        bare = event.modifiers() in _BARE
        if isinstance(watched, QDialog) and event.key() == Qt.Key.Key_Escape and bare:
            self.wizard.reject()
            return True
        if event.key() not in _RETURN or not bare:
            return False
        if isinstance(watched, QPushButton | QKeySequenceEdit | QDialog):
            go_on(self.wizard)
            return True  # on an incomplete page too: the button or dialog must not act on it
        return False
