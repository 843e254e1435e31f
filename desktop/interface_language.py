"""Switching the interface language while windows are open, without a restart.

Qt's own strings (standard buttons, context menus, file dialogs) come from Qt's catalogs through
QTranslators (qt_catalogs.py). Lanterne's windows were built with texts in the previous language:
every text property of every widget and action is looked up in that language's catalog and
replaced by the new translation of the same source string. Texts composed at run time (counts,
statuses, the conversation) are redrawn by their windows on `changed`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from PySide6.QtCore import QObject, QTranslator, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QTableWidget,
    QTabWidget,
    QTextEdit,
    QWidget,
    QWizardPage,
)

from lanterne.desktop.qt_catalogs import qt_translators
from lanterne.foundation.translation import (
    _,
    current_language,
    on_language_change,
    set_language,
    source_strings,
)


class InterfaceLanguage(QObject):
    changed = Signal(str)  # the new language, once every static text has been switched

    @classmethod
    def instance(cls) -> InterfaceLanguage:
        """The application's one switcher, made on first use (a window asks for it to redraw
        its own texts on `changed`)."""
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        existing = app.property("lanterne_interface_language")
        if isinstance(existing, InterfaceLanguage):
            return existing
        switcher = cls(app)
        app.setProperty("lanterne_interface_language", switcher)
        return switcher

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self._app = app
        self._qt: list[QTranslator] = []
        self._shown = current_language()
        self._install_qt(self._shown)
        self._unsubscribe = on_language_change(self._switch)
        app.aboutToQuit.connect(self._unsubscribe)

    def _install_qt(self, language: str) -> None:
        for old in self._qt:
            self._app.removeTranslator(old)
        self._qt = qt_translators(language)
        for translator in self._qt:
            self._app.installTranslator(translator)

    def _switch(self, language: str) -> None:
        sources = source_strings(self._shown)
        self._shown = language
        self._install_qt(language)

        def again(text: str) -> str | None:
            source = sources.get(text)
            return None if source is None else _(source)

        for widget in self._app.allWidgets():
            retranslate_widget(widget, again)
        self.changed.emit(language)


def switch_language(language: str) -> None:
    """Show the interface in `language`, open windows included (a no-op when already so)."""
    InterfaceLanguage.instance()  # listening before the switch, so every window follows it
    set_language(language)


Lookup = Callable[[str], "str | None"]


def _swap(get: Callable[[], str], set_: Callable[[str], None], again: Lookup) -> None:
    text = get()
    if text:
        new = again(text)
        if new is not None and new != text:
            set_(new)


def retranslate_widget(widget: QWidget, again: Lookup) -> None:
    """Every text a user can see or hear on `widget`, in the new language where it is a known
    string. What people typed (line edits, text areas) is never touched."""
    _swap(widget.windowTitle, widget.setWindowTitle, again)
    _swap(widget.toolTip, widget.setToolTip, again)
    _swap(widget.accessibleName, widget.setAccessibleName, again)
    _swap(widget.accessibleDescription, widget.setAccessibleDescription, again)
    if isinstance(widget, QLabel | QAbstractButton):
        _swap(widget.text, widget.setText, again)
    if isinstance(widget, QLineEdit | QPlainTextEdit | QTextEdit):
        _swap(widget.placeholderText, widget.setPlaceholderText, again)
    if isinstance(widget, QGroupBox):
        _swap(widget.title, widget.setTitle, again)
    if isinstance(widget, QMenu):
        _swap(widget.title, widget.setTitle, again)
    if isinstance(widget, QWizardPage):
        _swap(widget.title, widget.setTitle, again)
        _swap(widget.subTitle, widget.setSubTitle, again)
    if isinstance(widget, QTabWidget):
        for i in range(widget.count()):
            _swap(partial(widget.tabText, i), partial(widget.setTabText, i), again)
    if isinstance(widget, QComboBox):
        for i in range(widget.count()):
            _swap(partial(widget.itemText, i), partial(widget.setItemText, i), again)
    if isinstance(widget, QTableWidget):
        for i in range(widget.columnCount()):
            item = widget.horizontalHeaderItem(i)
            if item is not None:
                _swap(item.text, item.setText, again)
    for action in widget.actions():
        _retranslate_action(action, again)


def _retranslate_action(action: QAction, again: Lookup) -> None:
    _swap(action.text, action.setText, again)
    _swap(action.toolTip, action.setToolTip, again)
    _swap(action.statusTip, action.setStatusTip, again)
