"""The conversation list: new, rename in place, delete, and search across every conversation."""

from __future__ import annotations

import html

from PySide6.QtCore import QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from lanterne.conversations.store import (
    HIGHLIGHT_END,
    HIGHLIGHT_START,
    ConversationSummary,
    SearchHit,
)
from lanterne.desktop.interface_language import InterfaceLanguage
from lanterne.foundation.translation import _, format_when

_ID = Qt.ItemDataRole.UserRole


def _plain_snippet(snippet: str) -> str:
    return snippet.replace(HIGHLIGHT_START, "").replace(HIGHLIGHT_END, "")


def _activity_tip(conversation: ConversationSummary) -> str:
    when = format_when(conversation.updated_at)
    return f"{conversation.title}\n{_('Last activity: {when}').format(when=when)}"


def _snippet_html(snippet: str) -> str:
    return html.escape(snippet).replace(HIGHLIGHT_START, "<b>").replace(HIGHLIGHT_END, "</b>")


class ConversationList(QWidget):
    selected = Signal(int)
    new_requested = Signal()
    rename_requested = Signal(int, str)
    delete_requested = Signal(int)
    search_changed = Signal(str)  # debounced; "" means show them all

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.new_button = QPushButton(_("New conversation"))
        self.new_button.clicked.connect(self.new_requested)
        self.search = QLineEdit()
        self.search.setPlaceholderText(_("Search conversations…"))
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName(_("Search conversations"))
        self.list = QListWidget()
        self.list.setAccessibleName(_("Conversations"))
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setUniformItemSizes(False)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._menu)
        self.list.itemActivated.connect(self._on_activated)
        self.list.itemClicked.connect(self._on_activated)
        self.list.itemChanged.connect(self._on_item_changed)
        self._titles: dict[int, str] = {}
        self._shown: list[ConversationSummary] | None = None
        InterfaceLanguage.instance().changed.connect(self._retranslate)
        self._filling = False
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(200)
        self._debounce.timeout.connect(lambda: self.search_changed.emit(self.search.text().strip()))
        self.search.textChanged.connect(lambda _t: self._debounce.start())

        self.rename_action = QAction(_("Rename"), self)
        self.rename_action.setShortcut(QKeySequence(Qt.Key.Key_F2))
        self.rename_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.rename_action.triggered.connect(self.rename_current)
        self.delete_action = QAction(_("Delete…"), self)
        self.delete_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        self.delete_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.delete_action.triggered.connect(self.delete_current)
        self.list.addAction(self.rename_action)
        self.list.addAction(self.delete_action)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.new_button)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)

    def show_conversations(
        self, conversations: list[ConversationSummary], current: int | None
    ) -> None:
        self._shown = conversations
        tips = {c.id: _activity_tip(c) for c in conversations}
        self._fill([(c.id, c.title, c.title) for c in conversations], current, tips)

    def _retranslate(self) -> None:
        if self._shown is not None:
            self.show_conversations(self._shown, self.current_id())

    def show_hits(self, hits: list[SearchHit], current: int | None) -> None:
        self._shown = None
        rows: list[tuple[int, str, str | None]] = [
            (h.conversation.id, f"{h.conversation.title}\n{_plain_snippet(h.snippet)}", None)
            for h in hits
        ]
        self._fill(rows, current, tips={h.conversation.id: _snippet_html(h.snippet) for h in hits})

    def _fill(
        self,
        rows: list[tuple[int, str, str | None]],
        current: int | None,
        tips: dict[int, str] | None = None,
    ) -> None:
        self._filling = True
        self.list.clear()
        self._titles = {}
        for conversation_id, text, title in rows:
            item = QListWidgetItem(text)
            item.setData(_ID, conversation_id)
            if title is not None:  # renamable where the row is the bare title
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
                self._titles[conversation_id] = title
            item.setToolTip(tips[conversation_id] if tips and conversation_id in tips else text)
            self.list.addItem(item)
            if conversation_id == current:
                self.list.setCurrentItem(item)
        self._filling = False

    def current_id(self) -> int | None:
        item = self.list.currentItem()
        return int(item.data(_ID)) if item is not None else None

    def rename_current(self) -> None:
        item = self.list.currentItem()
        if item is not None and item.flags() & Qt.ItemFlag.ItemIsEditable:
            self.list.editItem(item)

    def delete_current(self) -> None:
        conversation_id = self.current_id()
        if conversation_id is None:
            return
        answer = QMessageBox.question(
            self,
            _("Delete conversation"),
            _("Delete this conversation? This cannot be undone."),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.delete_requested.emit(conversation_id)

    def _on_activated(self, item: QListWidgetItem) -> None:
        self.selected.emit(int(item.data(_ID)))

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        if self._filling:
            return
        conversation_id = int(item.data(_ID))
        title = item.text().strip()
        if not title:  # an empty name is not a name: put the old one back
            self._filling = True
            item.setText(self._titles.get(conversation_id, ""))
            self._filling = False
        elif title != self._titles.get(conversation_id):
            self._titles[conversation_id] = title
            self.rename_requested.emit(conversation_id, title)

    def _menu(self, position: QPoint) -> None:
        if self.list.itemAt(position) is None:
            return
        menu = QMenu(self)
        menu.addAction(self.rename_action)
        menu.addAction(self.delete_action)
        menu.exec(self.list.viewport().mapToGlobal(position))
