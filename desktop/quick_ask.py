"""The quick-ask window: summoned by the global hotkey (or `lanterne quick-ask`), it pops up near
the centre of the active screen, optionally holding the selected text; Enter asks and the answer
streams with its sources; Esc dismisses; Ctrl+Enter carries the exchange into the main window.

The window is built once and only shown and hidden, so that it appears within a frame or two.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QClipboard, QCursor, QGuiApplication, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QFrame, QLabel, QLineEdit, QVBoxLayout, QWidget

from lanterne.context import AppContext
from lanterne.desktop.chat_view import ChatView
from lanterne.desktop.conversation_controller import ConversationController
from lanterne.desktop.source_opener import SourceOpener
from lanterne.desktop.store_thread import StoreThread
from lanterne.foundation.translation import _

WIDTH = 680
ANSWER_HEIGHT = 380


class _QuestionLine(QLineEdit):
    """Enter asks; Ctrl+Enter opens the exchange in the main window; Esc dismisses."""

    def __init__(self, window: QuickAskWindow) -> None:
        super().__init__()
        self._window = window

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        if event.key() == Qt.Key.Key_Escape:
            self._window.dismiss()
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
                self._window.expand()
            else:
                self._window.ask()
            return
        super().keyPressEvent(event)


class QuickAskWindow(QFrame):
    expand_requested = Signal(int)  # a conversation id, to open in the main window

    def __init__(self, ctx: AppContext, store: StoreThread, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowFlags(
            Qt.WindowType.Tool
            | Qt.WindowType.FramelessWindowHint
            | Qt.WindowType.WindowStaysOnTopHint
        )
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setWindowTitle(_("Quick ask"))
        self.setAccessibleName(_("Quick ask"))
        self.setFixedWidth(WIDTH)
        self.question = _QuestionLine(self)
        self.question.setPlaceholderText(_("Ask Lanterne…"))
        self.question.setAccessibleName(_("Question"))
        self.hint = QLabel(_("Enter: ask · Ctrl+Enter: open in the main window · Esc: close"), self)
        font = self.hint.font()
        font.setPointSizeF(font.pointSizeF() * 0.9)
        self.hint.setFont(font)
        self.answer = ChatView(self, actions=False, reasoning=False)  # "Reasoning…" at most
        self.answer.setFixedHeight(ANSWER_HEIGHT)
        self.answer.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(self.question)
        layout.addWidget(self.answer)
        layout.addWidget(self.hint)
        escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        escape.activated.connect(self.dismiss)

        self.opener = SourceOpener(self, ctx.index_path)
        self.opener.message.connect(self.hint.setText)
        self.answer.citation_clicked.connect(self._open_citation)
        self.answer.link_clicked.connect(self.opener.open_link)
        self.controller = ConversationController(ctx, store, self.answer, self)
        self.controller.started.connect(self._show_answer)
        self.stream, self.worker = self.controller.stream, self.controller.worker
        self.stream.settled.connect(self._on_settled)
        self._expand_when_done = False

    # Showing ------------------------------------------------------------------------------

    def summon(self, text: str | None = None) -> None:
        """Show near the centre of the screen under the pointer, ready to type."""
        if self.isVisible() and text is None:
            self.activateWindow()
            return
        if not self.worker.is_running():
            self._reset()
        prefill = text if text is not None else self._prefill()
        if prefill:
            self.question.setText(prefill)
            self.question.selectAll()
        self.adjustSize()
        self.move(self._position())
        self.show()
        self.raise_()
        self.activateWindow()
        self.question.setFocus()

    def _prefill(self) -> str:
        source = self.ctx.settings.get_str("quick_ask.prefill")
        clipboard = QGuiApplication.clipboard()
        if source == "clipboard":
            mode = QClipboard.Mode.Clipboard
        elif source == "selection" and clipboard.supportsSelection():
            mode = QClipboard.Mode.Selection
        else:  # nothing, or a selection where there is none (X11 only): start empty
            return ""
        return " ".join(clipboard.text(mode).split())[:2000]

    def _position(self) -> QPoint:
        screen = QGuiApplication.screenAt(QCursor.pos()) or QGuiApplication.primaryScreen()
        area = screen.availableGeometry()
        x = area.x() + (area.width() - WIDTH) // 2
        y = area.y() + area.height() // 4
        return QPoint(x, y)

    def dismiss(self) -> None:
        if self.worker.is_running():
            self.worker.stop()  # saved as far as it went, marked stopped
        self.hide()

    def _reset(self) -> None:
        self.controller.new_conversation()
        self.question.clear()
        self.answer.hide()
        self.adjustSize()

    # Asking -------------------------------------------------------------------------------

    def ask(self) -> None:
        question = self.question.text().strip()
        if question and not self.controller.busy():
            self.question.clear()
            self.controller.ask(question)

    def _show_answer(self) -> None:
        self.answer.show()
        self.adjustSize()

    def expand(self) -> None:
        """Carry the exchange into the main window (once it is saved)."""
        if self.worker.is_running():
            self._expand_when_done = True
            self.worker.stop()
            return
        if self.controller.shown_id is not None:
            self.expand_requested.emit(self.controller.shown_id)
            self.hide()

    def _on_settled(self) -> None:
        if self._expand_when_done:
            self._expand_when_done = False
            self.controller.recorder.answer_saved.connect(self._expand_saved)

    def _expand_saved(self, conversation_id: int) -> None:
        self.controller.recorder.answer_saved.disconnect(self._expand_saved)
        self.expand_requested.emit(conversation_id)
        self.hide()

    def _open_citation(self, turn_index: int, n: int) -> None:
        citation = self.answer.citation_path(turn_index, n)
        if citation is not None:
            self.opener.open(citation)
