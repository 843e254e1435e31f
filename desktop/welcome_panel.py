"""What an empty conversation shows in place of the chat: how many documents are ready, three
questions about them to ask with a click, and the quick-ask shortcut.

The examples come from the index's headings (lanterne.example_questions) on a worker thread:
at the first status that has documents, then at most every few seconds while indexing goes on,
and again in a new interface language. While a conversation is shown nothing is read; the
examples are brought up to date when the panel shows again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF, QSize, Qt, QTimer
from PySide6.QtGui import (
    QFont,
    QIcon,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from lanterne.assets import asset_path
from lanterne.desktop.interface_language import InterfaceLanguage
from lanterne.desktop.workers import BackgroundTask
from lanterne.example_questions import example_questions
from lanterne.foundation.translation import _, current_language, format_number, ngettext
from lanterne.indexer.store import IndexStatus

if TYPE_CHECKING:
    from lanterne.desktop.main_window import MainWindow

EXAMPLES = 3
FIRST_MS = 300  # the first examples, as soon as documents are ready (statuses come in bursts)
AGAIN_MS = 5000  # then at most this often while the index changes (a status per batch)
COLUMN_WIDTH = 560


def ready_text(status: IndexStatus | None) -> str:
    """ "312 documents ready, 40 still being read", in the user's language and plural rules."""
    if status is None:
        return ""
    if not status.folders:
        return _("Lanterne answers from the folders you choose: add one to begin.")
    if not status.documents and not status.pending:
        return _("No document is ready yet.")
    ready = ngettext("{n} document ready", "{n} documents ready", status.documents).format(
        n=format_number(status.documents)
    )
    if not status.pending:
        return ready
    reading = ngettext("{n} still being read", "{n} still being read", status.pending)
    return _("{ready}, {reading}").format(
        ready=ready, reading=reading.format(n=format_number(status.pending))
    )


def shortcut_text(hotkey: str) -> str:
    """The quick-ask setting ("ctrl+shift+space") as the keyboard shows it ("Ctrl+Shift+Space")."""
    sequence = QKeySequence(hotkey.replace("super", "meta"))
    return sequence.toString(QKeySequence.SequenceFormat.NativeText) or hotkey


class ExampleButton(QPushButton):
    """A question to ask with a click, drawn as a card whose text wraps (a QPushButton's does
    not, and a heading may be long); colours come from the palette, so light and dark themes
    both hold."""

    def __init__(self) -> None:
        super().__init__()
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)  # a heading's "<" or "&" as written
        self.label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(14, 10, 14, 10)
        self._layout.addWidget(self.label)
        # A button's height is fixed by default: here it grows with the lines of its text.
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setAttribute(Qt.WidgetAttribute.WA_Hover)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    @property
    def question(self) -> str:
        return self.label.text()

    def set_question(self, question: str) -> None:
        self.label.setText(question)
        self.setAccessibleName(_("Ask: {question}").format(question=question))
        self.updateGeometry()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return self._layout.sizeHint()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return self._layout.minimumSize()

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt override)
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 (Qt override)
        return self._layout.totalHeightForWidth(width)

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        palette = self.palette()
        lit = self.underMouse() or self.hasFocus() or self.isDown()
        background = palette.alternateBase().color()
        if self.isDown():
            background = palette.midlight().color()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        border = palette.highlight().color() if lit else palette.mid().color()
        painter.setPen(QPen(border, 2 if self.hasFocus() else 1))
        painter.setBrush(background)
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(1, 1, -1, -1), 8, 8)


class WelcomePanel(QScrollArea):
    """Shown by `stack` while the window's conversation has no turn, the chat otherwise."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__()
        self.main = window
        self.examples: list[str] = []
        self._status: IndexStatus | None = None
        self._examples_of: tuple[int, int, str] | None = None  # (documents, passages, language)
        self._task: BackgroundTask | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._compute)
        self.setAccessibleName(_("Getting started"))
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setBackgroundRole(QPalette.ColorRole.Base)  # the chat's background, where it shows

        self.title = QLabel(_("Ask your documents"))
        font = QFont(self.title.font())
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.title.setFont(font)
        icon = QLabel()
        icon.setPixmap(QIcon(str(asset_path("lanterne.svg"))).pixmap(64, 64))
        self.counts = QLabel()
        self.add_folder = QPushButton(_("Add a folder…"))
        self.add_folder.clicked.connect(window.choose_folder)
        self.try_label = QLabel(_("Try asking:"))
        self.buttons = [ExampleButton() for _i in range(EXAMPLES)]
        for index, button in enumerate(self.buttons):
            button.clicked.connect(lambda _c=False, i=index: self.ask(i))
        self.shortcut = QLabel()
        for label in (icon, self.title, self.counts, self.shortcut):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setWordWrap(True)
        for label in (self.counts, self.try_label, self.shortcut):
            label.setForegroundRole(QPalette.ColorRole.PlaceholderText)  # muted, in any theme

        column = QVBoxLayout()
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(8)
        column.addWidget(icon)
        column.addWidget(self.title)
        column.addWidget(self.counts)
        column.addWidget(self.add_folder, 0, Qt.AlignmentFlag.AlignHCenter)
        column.addSpacing(16)
        column.addWidget(self.try_label)
        for button in self.buttons:
            column.addWidget(button)
        column.addSpacing(16)
        column.addWidget(self.shortcut)
        inner = QWidget()
        inner.setMaximumWidth(COLUMN_WIDTH)
        inner.setLayout(column)
        middle = QHBoxLayout()
        middle.addStretch(1)
        middle.addWidget(inner, 100)
        middle.addStretch(1)
        page = QVBoxLayout()
        page.setContentsMargins(24, 24, 24, 24)
        page.addStretch(2)
        page.addLayout(middle)
        page.addStretch(3)  # a little above the middle, where the eye lands
        content = QWidget()
        content.setBackgroundRole(QPalette.ColorRole.Base)
        content.setLayout(page)
        self.setWidget(content)

        self.stack = QStackedWidget()
        self.stack.addWidget(window.chat)
        self.stack.addWidget(self)
        window.chat.turns_changed.connect(self._follow_chat)
        window.indexing.status.connect(self._on_status)
        window.hotkey_changed.connect(lambda _hotkey: self._render())
        InterfaceLanguage.instance().changed.connect(self._on_language)
        self._render()
        self._follow_chat()
        # A status sent before `connect` above (the app's services may have started before
        # this window) reaches only the bridge, whose copy is kept by a call queued before this.
        QTimer.singleShot(0, self, self._catch_up)

    def _catch_up(self) -> None:
        status = self.main.indexing.last_status
        if self._status is None and status is not None:
            self._on_status(status)

    # Showing ------------------------------------------------------------------------------

    def _follow_chat(self) -> None:
        self.stack.setCurrentWidget(self.main.chat if self.main.chat.turns else self)

    def _render(self) -> None:
        """Every composed text, from what is known now."""
        status = self._status
        self.counts.setText(ready_text(status))
        self.counts.setVisible(status is not None)
        self.add_folder.setVisible(status is not None and not status.folders)
        self.try_label.setVisible(bool(self.examples))
        for index, button in enumerate(self.buttons):
            question = self.examples[index] if index < len(self.examples) else ""
            button.set_question(question)
            button.setVisible(bool(question))
        hotkey = self.main.ctx.settings.get_str("quick_ask.hotkey")
        self.shortcut.setText(
            _("Press {shortcut} in any application to ask Lanterne.").format(
                shortcut=shortcut_text(hotkey)
            )
            if hotkey
            else ""
        )
        self.shortcut.setVisible(bool(hotkey))

    def ask(self, index: int) -> None:
        """Ask example `index` as if typed in the question box."""
        if index < len(self.examples):
            self.main.question.setPlainText(self.examples[index])
            self.main.ask()

    # Keeping up ---------------------------------------------------------------------------

    def _on_status(self, status: IndexStatus) -> None:
        self._status = status
        self._render()  # hotkey too: the first-run wizard sets it without a signal
        self._schedule()

    def _on_language(self, _language: str) -> None:
        self._render()
        self._schedule()

    def _wanted(self) -> tuple[int, int, str] | None:
        """What the examples should be made from; None when there is nothing to read."""
        status = self._status
        if status is None or not status.documents:
            return None
        return status.documents, status.chunks, current_language()

    def _schedule(self) -> None:
        wanted = self._wanted()
        if wanted is None:
            if self._status is not None and not self._status.documents and self.examples:
                self.examples = []  # the last folder went
                self._examples_of = None
                self._render()
            return
        if wanted == self._examples_of or self._timer.isActive() or not self.isVisible():
            return  # up to date, due, or made when the panel shows
        language_changed = self._examples_of is not None and self._examples_of[2] != wanted[2]
        soon = not self.examples or language_changed
        self._timer.start(FIRST_MS if soon else AGAIN_MS)

    def _compute(self) -> None:
        wanted = self._wanted()
        if wanted is None:
            return
        if self._task is not None:  # one at a time: asked again when it is done
            return
        task = self._task = BackgroundTask(owner=self)
        index_path = self.main.ctx.index_path
        language = wanted[2]

        def done(questions: object) -> None:
            self._task = None
            if language == current_language() and isinstance(questions, list):
                self.examples = [str(q) for q in questions]
                self._examples_of = wanted
                self._render()
            self._schedule()  # the index or the language moved on meanwhile

        def failed(_message: str) -> None:  # a damaged index is repaired by the service
            self._task = None
            self._examples_of = wanted  # tried: again when the index changes

        task.connect_outcome(done, failed)
        task.run(lambda _report: example_questions(index_path, language, EXAMPLES))

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self._schedule()

    def busy(self) -> bool:
        """Examples are being made or are due (for tests and screenshots)."""
        return self._task is not None or self._timer.isActive()
