"""Keyboard and screen readers: every control is named, and the main window's focus order is
the reading order (conversations, chat, question, Ask)."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QComboBox,
    QHeaderView,
    QKeySequenceEdit,
    QLineEdit,
    QPlainTextEdit,
    QTextBrowser,
    QWidget,
)

from lanterne.desktop.main_window import MainWindow
from lanterne.desktop.quick_ask import QuickAskWindow

pytestmark = pytest.mark.gui


def unnamed(root: QWidget) -> list[str]:
    """Visible controls a screen reader could not name."""
    missing = []
    for widget in root.findChildren(QWidget):
        if not widget.isVisibleTo(root):
            continue
        if isinstance(widget, QAbstractButton):
            named = bool(widget.text() or widget.accessibleName() or widget.toolTip())
        elif isinstance(widget, QHeaderView) or isinstance(
            widget.parent(), (QAbstractSpinBox, QComboBox, QKeySequenceEdit)
        ):
            continue  # labelled sections; the editing part of a named spin box or combo box
        elif isinstance(widget, (QLineEdit, QPlainTextEdit, QTextBrowser, QAbstractItemView)):
            placeholder = getattr(widget, "placeholderText", lambda: "")()
            named = bool(widget.accessibleName() or placeholder)
        else:
            continue
        if not named and widget.objectName() != "qt_scrollarea_viewport":
            missing.append(f"{type(widget).__name__} in {type(widget.parent()).__name__}")
    return missing


def test_every_control_has_a_name(window: MainWindow) -> None:
    assert unnamed(window) == []
    assert unnamed(window.open_knowledge()) == []
    assert unnamed(window.open_settings()) == []
    assert unnamed(window.open_evaluation()) == []
    quick = QuickAskWindow(window.ctx, window.store)
    quick.summon("Une question ?")
    try:
        assert unnamed(quick) == []
    finally:
        quick.close()


def test_tab_goes_from_the_conversations_to_the_question(window: MainWindow) -> None:
    order: list[QWidget] = []
    widget: QWidget | None = window.conversations.search
    while widget is not None and widget not in order:
        order.append(widget)
        widget = widget.nextInFocusChain()
    wanted = [window.conversations.list, window.chat, window.question, window.ask_button]
    positions = [order.index(w) for w in wanted]
    assert positions == sorted(positions)
