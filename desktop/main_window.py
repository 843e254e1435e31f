"""The main window: the conversation, a question box, and the model's status."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from lanterne.assistant.answer import Answer
from lanterne.assistant.pipeline import ModelReady
from lanterne.assistant.prompt import PastTurn
from lanterne.context import AppContext
from lanterne.desktop.chat_view import ChatView, Turn
from lanterne.desktop.models_dialog import ModelsDialog
from lanterne.desktop.workers import AskWorker, BackgroundTask, index_folder_job
from lanterne.indexer.indexing import Progress
from lanterne.model_library import ModelLibrary
from lanterne.translation import _


class QuestionBox(QPlainTextEdit):
    """Enter sends, Shift+Enter starts a new line."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__()
        self._window = window
        self.setPlaceholderText(_("Ask a question about your documents…"))
        self.setMaximumHeight(90)

    def keyPressEvent(self, event):  # type: ignore[no-untyped-def]  # noqa: N802 (Qt override)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not (
            event.modifiers() & Qt.KeyboardModifier.ShiftModifier
        ):
            self._window.ask()
            return
        super().keyPressEvent(event)


class MainWindow(QMainWindow):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setWindowTitle("Lanterne")
        self.resize(900, 680)
        self._tasks: list[BackgroundTask] = []
        self._turn: Turn | None = None
        self._history: list[PastTurn] = []  # this conversation's answered turns
        self.models_dialog: ModelsDialog | None = None

        self.chat = ChatView()
        self.chat.citation_clicked.connect(self.chat.open_source)
        self.question = QuestionBox(self)
        self.ask_button = QPushButton(_("Ask"))
        self.ask_button.clicked.connect(self.ask)
        self.stop_button = QPushButton(_("Stop"))
        self.stop_button.clicked.connect(self.stop)
        self.stop_button.setEnabled(False)

        row = QHBoxLayout()
        row.addWidget(self.question, 1)
        buttons = QVBoxLayout()
        buttons.addWidget(self.ask_button)
        buttons.addWidget(self.stop_button)
        row.addLayout(buttons)
        layout = QVBoxLayout()
        layout.addWidget(self.chat, 1)
        layout.addLayout(row)
        central = QWidget()
        central.setLayout(layout)
        self.setCentralWidget(central)

        self.model_label = QLabel()
        self.speed_label = QLabel()
        self.index_label = QLabel()
        self.statusBar().addWidget(self.model_label, 1)
        self.statusBar().addPermanentWidget(self.speed_label)
        self.statusBar().addPermanentWidget(self.index_label)
        self._build_menu()

        self.worker = AskWorker(ctx, self)
        self.worker.model_ready.connect(self._on_model_ready)
        self.worker.retrieved.connect(self._on_retrieved)
        self.worker.token.connect(self._on_token)
        self.worker.finished.connect(self._on_finished)
        self.worker.failed.connect(self._on_failed)
        self._show_model_setting()
        self._refresh_index_label()
        self.question.setFocus()  # the window opens ready to type a question

    # Menu ---------------------------------------------------------------------------------

    def _build_menu(self) -> None:
        menu = self.menuBar().addMenu(_("&File"))
        new = QAction(_("&New conversation"), self)
        new.setShortcut(QKeySequence.StandardKey.New)
        new.triggered.connect(self.new_conversation)
        menu.addAction(new)
        menu.addSeparator()
        models = QAction(_("&Models…"), self)
        models.triggered.connect(self.open_models)
        choose = QAction(_("Choose &model file…"), self)
        choose.triggered.connect(self.choose_model)
        add = QAction(_("&Add folder…"), self)
        add.triggered.connect(self.choose_folder)
        quit_action = QAction(_("&Quit"), self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        for action in (models, choose, add):
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(quit_action)

    def open_models(self) -> ModelsDialog:
        """The catalog, downloads and imports; the status bar follows the model in use."""
        if self.models_dialog is None:
            self.models_dialog = ModelsDialog(ModelLibrary(self.ctx.settings), self)
            self.models_dialog.model_changed.connect(self._show_model_setting)
        self.models_dialog.show()
        self.models_dialog.raise_()
        return self.models_dialog

    def choose_model(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, _("Choose a GGUF model"), str(Path.home()), _("GGUF models (*.gguf)")
        )
        if path:
            self.set_model_path(Path(path))

    def set_model_path(self, path: Path) -> None:
        self.ctx.settings.set("model.path", str(path))
        self.ctx.settings.save()
        self._show_model_setting()

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, _("Choose a folder to index"))
        if folder:
            self.add_folder(Path(folder))

    def add_folder(self, folder: Path) -> BackgroundTask:
        task = BackgroundTask()
        self._tasks.append(task)
        task.progress.connect(self._on_index_progress)
        task.succeeded.connect(lambda _p: self._finish_task(task))
        task.failed.connect(lambda message: self._finish_task(task, message))
        task.run(index_folder_job(self.ctx, folder))
        return task

    def _finish_task(self, task: BackgroundTask, error: str | None = None) -> None:
        if task in self._tasks:
            self._tasks.remove(task)
        if error:
            self.index_label.setText(error)
        else:
            self._refresh_index_label()

    def _on_index_progress(self, p: Progress) -> None:
        self.index_label.setText(
            _("Indexing {done}/{total} {name}").format(
                done=p.done, total=p.total, name=p.current.name if p.current else ""
            )
        )

    def _refresh_index_label(self) -> None:
        task = BackgroundTask()
        self._tasks.append(task)

        def status(_report: object) -> str:
            store = self.ctx.open_store()
            try:
                st = store.status()
            finally:
                store.close()
            return _("{documents} documents, {chunks} passages").format(
                documents=st.documents, chunks=st.chunks
            )

        task.succeeded.connect(self.index_label.setText)
        task.succeeded.connect(lambda _t: self._tasks.remove(task))
        task.failed.connect(self.index_label.setText)
        task.run(status)

    # Asking -------------------------------------------------------------------------------

    def _show_model_setting(self) -> None:
        path = self.ctx.settings.get_str("model.path")
        if path:
            self.model_label.setText(
                _("Model: {name} (loads on the first question)").format(name=Path(path).name)
            )
        else:
            self.model_label.setText(_("No model chosen: File › Models…"))

    def ask(self) -> None:
        question = self.question.toPlainText().strip()
        if not question or self.worker.is_running():
            return
        self.question.clear()
        self._turn = self.chat.add_turn(question)
        self.ask_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.worker.start(question, history=self._history)

    def new_conversation(self) -> None:
        """Start afresh: the model no longer sees the earlier questions and answers."""
        if self.worker.is_running():
            return
        self._history = []
        self._turn = None
        self.chat.clear_turns()
        self.question.setFocus()

    def stop(self) -> None:
        self.worker.stop()

    def _on_model_ready(self, ready: ModelReady) -> None:
        self.model_label.setText(
            _("Model: {name} — {plan}").format(name=ready.engine.name, plan=ready.engine.summary)
        )
        self.model_label.setToolTip(ready.engine.description)

    def _on_retrieved(self, citations: list[object]) -> None:
        if self._turn is not None:
            self._turn.citations = list(citations)  # type: ignore[arg-type]
            self._turn.status = _("Writing…")
            self.chat.schedule_refresh()

    def _on_token(self, text: str) -> None:
        if self._turn is not None:
            self._turn.answer += text
            self._turn.status = ""
            self.chat.schedule_refresh()

    def _on_finished(self, answer: Answer) -> None:
        if answer.text:  # a stopped answer stays in the conversation as far as it went
            self._history.append(answer.as_past_turn())
        if self._turn is not None:
            self._turn.answer = answer.text
            self._turn.citations = answer.citations
            self._turn.status = _("Stopped.") if answer.stopped else ""
            self.chat.refresh()
        t = answer.timings
        self.speed_label.setText(
            _("Last answer: {tokens} tokens at {speed:.1f} tokens/s").format(
                tokens=t.predicted_tokens, speed=t.tokens_per_second
            )
        )
        self._done()

    def _on_failed(self, message: str) -> None:
        if self._turn is not None:
            self._turn.status = message
            self._turn.error = True
            self.chat.refresh()
        self._done()

    def _done(self) -> None:
        self._turn = None
        self.ask_button.setEnabled(True)
        self.stop_button.setEnabled(False)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        if self.models_dialog is not None:
            self.models_dialog.close()  # stops a download; it resumes next time
        self.worker.stop()
        self.worker.wait(10)
        super().closeEvent(event)
