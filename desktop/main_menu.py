"""The main window's File menu: every window and action of the app, with its shortcut."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenuBar

from lanterne.foundation.translation import _


class _Window(Protocol):
    def menuBar(self) -> QMenuBar: ...  # noqa: N802 (Qt's name)
    def new_conversation(self) -> None: ...
    def open_models(self) -> object: ...
    def choose_model(self) -> None: ...
    def choose_folder(self) -> None: ...
    def open_search(self) -> object: ...
    def open_knowledge(self) -> object: ...
    def open_evaluation(self) -> object: ...
    def open_export(self) -> object: ...
    def open_settings(self) -> object: ...
    def quit(self) -> None: ...


def build_file_menu(window: _Window) -> dict[str, QAction]:
    """The actions by the name of the method they call (tests and policy find them so)."""
    menu = window.menuBar().addMenu(_("&File"))
    Key = QKeySequence  # noqa: N806 (a Qt class, shortened)
    entries: list[tuple[str, QKeySequence | None, Callable[[], object]] | None] = [
        (_("&New conversation"), Key(Key.StandardKey.New), window.new_conversation),
        None,
        (_("&Models…"), None, window.open_models),
        (_("Choose &model file…"), None, window.choose_model),
        (_("&Add folder…"), None, window.choose_folder),
        (_("&Search documents…"), Key("Ctrl+Shift+F"), window.open_search),
        (_("&Knowledge…"), Key("Ctrl+Shift+K"), window.open_knowledge),
        (_("&Evaluation…"), None, window.open_evaluation),
        (_("E&xport demonstration data…"), None, window.open_export),
        (_("&Settings…"), Key("Ctrl+,"), window.open_settings),
        None,
        (_("&Quit"), Key(Key.StandardKey.Quit), window.quit),
    ]
    actions: dict[str, QAction] = {}
    for entry in entries:
        if entry is None:
            menu.addSeparator()
            continue
        text, shortcut, slot = entry
        action = menu.addAction(text)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(slot)
        actions[slot.__name__] = action
    return actions
