"""The main window: conversations on the left, the chat in the middle, its sources on the right,
and the model's and the index's status below."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from lanterne.assistant.answer import Answer
from lanterne.assistant.pipeline import answer_style
from lanterne.assistant.prompt import PastTurn
from lanterne.context import AppContext
from lanterne.conversations.store import ConversationStore, Message
from lanterne.desktop.answer_feedback import AnswerFeedback
from lanterne.desktop.answer_recorder import AnswerRecorder, ConversationRef
from lanterne.desktop.answer_stream import AnswerStream
from lanterne.desktop.api_service import ApiService
from lanterne.desktop.chat_view import ChatView, Turn
from lanterne.desktop.conversation_list import ConversationList
from lanterne.desktop.disk_full_label import DiskFullLabel
from lanterne.desktop.download_service import DownloadService
from lanterne.desktop.evaluation_dialog import EvaluationDialog
from lanterne.desktop.export_dialog import ExportDialog
from lanterne.desktop.indexing_bridge import IndexingBridge
from lanterne.desktop.interface_language import InterfaceLanguage
from lanterne.desktop.knowledge_panel import KnowledgePanel, index_counts
from lanterne.desktop.main_menu import build_file_menu
from lanterne.desktop.meaning_label import MeaningLabel
from lanterne.desktop.model_status import ModelStatus
from lanterne.desktop.models_dialog import ModelsDialog
from lanterne.desktop.question_box import QuestionBox
from lanterne.desktop.rules_label import RulesLabel
from lanterne.desktop.saved_turns import turns_from_messages
from lanterne.desktop.search_window import SearchWindow
from lanterne.desktop.settings_dialog import SettingsDialog, apply_system_settings
from lanterne.desktop.source_opener import SourceOpener
from lanterne.desktop.sources_panel import SourcesPanel
from lanterne.desktop.speed_label import SpeedLabel
from lanterne.desktop.store_notices import StoreNotices
from lanterne.desktop.store_thread import StoreThread
from lanterne.desktop.waiting_question import WaitingQuestion
from lanterne.desktop.welcome_panel import WelcomePanel
from lanterne.foundation.db_faults import DiskFullError
from lanterne.foundation.settings import SettingsError
from lanterne.foundation.translation import _
from lanterne.indexer.indexing import Progress
from lanterne.indexer.store import IndexStatus
from lanterne.model_library import ModelLibrary


class MainWindow(QMainWindow):
    hidden_to_tray = Signal()
    hotkey_changed = Signal(str)  # from Settings: the app registers the new shortcut

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.keep_in_tray = False  # set by the app when a tray icon is shown
        self._shut_down = False
        self.setWindowTitle("Lanterne")
        self.resize(1180, 720)
        self._history: list[PastTurn] = []  # this conversation's answered turns
        self._conversation = ConversationRef()
        self._shown_id: int | None = None  # the conversation on screen, once the GUI knows it
        self.models_dialog: ModelsDialog | None = None
        self.evaluation: EvaluationDialog | None = None
        self.knowledge: KnowledgePanel | None = None
        self.search_window: SearchWindow | None = None
        self.api_service: ApiService | None = None  # set by the app, which runs the API server
        self.indexing = IndexingBridge(ctx, self)
        self.indexing.progress.connect(self._on_index_progress)
        self.indexing.status.connect(self._show_index_status)
        self.indexing.error.connect(lambda message: self.statusBar().showMessage(message, 10000))

        self.store = StoreThread(lambda: ConversationStore(ctx.conversations_path))
        self.store.failed.connect(self._on_store_failed)
        self.store.saved_again.connect(lambda text: self.statusBar().showMessage(text, 10000))
        self.store_notices = StoreNotices(self, self.store, self._refresh_conversations)
        self.recorder = AnswerRecorder(self.store, self)
        self.recorder.question_saved.connect(self._on_question_saved)
        self.recorder.answer_saved.connect(lambda _cid: self._refresh_conversations())
        self.conversations = ConversationList()
        self.conversations.new_requested.connect(self.new_conversation)
        self.conversations.selected.connect(self.open_conversation)
        self.conversations.rename_requested.connect(self.rename_conversation)
        self.conversations.delete_requested.connect(self.delete_conversation)
        self.conversations.search_changed.connect(self._refresh_conversations)

        self.opener = SourceOpener(self, ctx.index_path)
        self.opener.message.connect(lambda text: self.statusBar().showMessage(text, 10000))
        self.chat = ChatView()
        self.chat.citation_clicked.connect(self.open_citation)
        self.chat.link_clicked.connect(self.opener.open_link)
        self.chat.copy_requested.connect(self.copy_answer)
        self.chat.regenerate_requested.connect(self.regenerate)
        self.feedback = AnswerFeedback(self.chat, self.store, self)
        self.sources = SourcesPanel()
        self.sources.citation_clicked.connect(self.open_citation)
        self.question = QuestionBox()
        self.question.submitted.connect(self.ask)
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
        layout.setContentsMargins(0, 0, 0, 0)
        self.welcome = WelcomePanel(self)  # in place of the chat while it has no turn
        layout.addWidget(self.welcome.stack, 1)
        layout.addLayout(row)
        middle = QWidget()
        middle.setLayout(layout)
        self.splitter = QSplitter()
        self.splitter.addWidget(self.conversations)
        self.splitter.addWidget(middle)
        self.splitter.addWidget(self.sources)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([240, 640, 300])
        self.setCentralWidget(self.splitter)

        self.speed_label = SpeedLabel()
        self.index_label = QLabel()
        library = ModelLibrary(ctx.settings, release=ctx.release_model_files)
        self.downloads = DownloadService(library, self)  # the app's: they outlive any window
        self.model_status = ModelStatus(ctx.settings, self.downloads, self.statusBar())
        self.model_label, self.loading_bar = self.model_status.label, self.model_status.loading_bar
        self.download_status = self.model_status.download
        self.disk_full_label = DiskFullLabel(self.indexing, self.statusBar())
        self.rules_label = RulesLabel(ctx.settings)  # shown while the organisation sets rules
        self.statusBar().addPermanentWidget(self.rules_label)
        self.meaning_label = MeaningLabel(self.indexing)  # while vectors are still being made
        self.statusBar().addPermanentWidget(self.meaning_label)
        self.statusBar().addPermanentWidget(self.speed_label)
        self.statusBar().addPermanentWidget(self.index_label)
        self.menu_actions = build_file_menu(self)  # by the name of the method they call
        self.refresh_rules()

        self.stream = AnswerStream(ctx, self.chat, self.recorder, self)
        self.stream.retrieved.connect(self._show_sources)
        self.stream.answered.connect(self._on_answered)
        self.stream.settled.connect(self._on_settled)
        self.worker = self.stream.worker
        self.model_status.follow(self.worker)
        self.waiting = WaitingQuestion(
            ctx.settings,
            self.downloads,
            self.chat,
            self.question,
            self.stream,
            lambda turn: self._start(turn, self._history),
        )
        InterfaceLanguage.instance().changed.connect(self._retranslate)
        self.refresh_model_status()
        self.store.submit(lambda store: store.recover_interrupted())
        self._refresh_conversations()
        self.question.setFocus()  # the window opens ready to type a question

    # Windows ----------------------------------------------------------------------------

    def open_models(self) -> ModelsDialog:
        """The catalog, downloads and imports; the status bar follows the model in use."""
        if self.models_dialog is None:
            library = ModelLibrary(self.ctx.settings, release=self.ctx.release_model_files)
            self.models_dialog = ModelsDialog(library, self, self.downloads)
            self.models_dialog.model_changed.connect(self.refresh_model_status)
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
        try:
            self.ctx.settings.check_model(str(path))
            self.ctx.settings.set("model.path", str(path))
        except SettingsError as exc:  # the organisation's policy decides
            self.statusBar().showMessage(str(exc), 15000)
            return
        try:
            self.ctx.settings.save()
        except DiskFullError as exc:  # in use this session; the file was left as it was
            self.statusBar().showMessage(str(exc), 15000)
        self.refresh_model_status()

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, _("Choose a folder to index"))
        if folder:
            self.add_folder(Path(folder))

    def add_folder(self, folder: Path) -> None:
        """Watch the folder: indexed now, then kept up to date (on the index service's thread)."""
        self.indexing.add_folder(folder)

    def open_settings(self) -> SettingsDialog:
        dialog = SettingsDialog(self.ctx.settings, self, api=self.api_service)
        dialog.saved.connect(self.refresh_model_status)
        dialog.saved.connect(self.refresh_rules)
        dialog.saved.connect(lambda: self._apply_system_settings(dialog.problem))
        dialog.saved.connect(self.indexing.reload_settings)  # ignore patterns, limits
        dialog.hotkey_changed.connect(self.hotkey_changed)
        dialog.open()
        return dialog

    def _apply_system_settings(self, problem: str | None) -> None:
        apply_system_settings(self.ctx.settings)
        if problem:
            self.statusBar().showMessage(problem, 15000)

    def open_evaluation(self) -> EvaluationDialog:
        """Question sets run with settings variants, and saved runs compared."""
        if self.evaluation is None:
            self.evaluation = EvaluationDialog(self.ctx, self)
        self.evaluation.show()
        self.evaluation.raise_()
        return self.evaluation

    def open_export(self) -> ExportDialog | None:
        """Answers as demonstration data, unless the organisation's rules forbid it."""
        if not self.ctx.settings.get_bool("house.allow_export"):
            self.statusBar().showMessage(_("Your organisation does not allow this export."), 10000)
            return None
        status = self.indexing.last_status
        folders = [Path(f.path) for f in status.folders] if status else []
        dialog = ExportDialog(self.store, answer_style(self.ctx.settings), folders, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def open_search(self) -> SearchWindow:
        if self.search_window is None:
            self.search_window = SearchWindow(self.ctx, self.opener, self)
        self.search_window.show()
        self.search_window.raise_()
        self.search_window.query.setFocus()
        return self.search_window

    def open_knowledge(self) -> KnowledgePanel:
        if self.knowledge is None:
            self.knowledge = KnowledgePanel(self.indexing, self)
        self.knowledge.show()
        self.knowledge.raise_()
        return self.knowledge

    def _on_index_progress(self, p: Progress) -> None:
        if p.done < p.total:  # when done, the status that follows says what is indexed
            self.index_label.setText(
                _("Indexing {done}/{total} {name}").format(
                    done=p.done, total=p.total, name=p.current.name if p.current else ""
                )
            )

    def _show_index_status(self, status: IndexStatus) -> None:
        self.index_label.setText(index_counts(status))

    # Asking -------------------------------------------------------------------------------

    def refresh_model_status(self) -> None:
        self.model_status.refresh()

    def ask(self) -> None:
        question = self.question.toPlainText().strip()
        if not question or self.busy():
            return
        self.question.clear()
        turn = self.chat.add_turn(question)
        self.recorder.begin_question(self._conversation, turn)
        if self.waiting.hold(turn):  # asked as soon as the model being downloaded arrives
            self.ask_button.setEnabled(False)
            self.stop_button.setEnabled(True)
        else:
            self._start(turn, self._history)

    def busy(self) -> bool:
        """An answer is being written, or a question waits for its model."""
        return self.worker.is_running() or self.waiting.turn is not None

    def regenerate(self, turn_index: int) -> None:
        """Ask the last question again, in place of its answer."""
        if self.busy() or turn_index != len(self.chat.turns) - 1:
            return
        turn = self.chat.turns[turn_index]
        if self._history and self._history[-1].question == turn.question:
            self._history = self._history[:-1]
        self.recorder.begin_regenerate(self._conversation, turn)
        turn.answer, turn.citations, turn.error, turn.finished = "", [], False, False
        turn.rating = turn.original = None  # they were about the old answer
        turn.status = _("Thinking…")
        self._start(turn, self._history)

    def _start(self, turn: Turn, history: list[PastTurn]) -> None:
        self.ask_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.stream.start(turn, history)

    def _on_question_saved(self, conversation_id: int) -> None:
        self._shown_id = conversation_id
        self._refresh_conversations()

    def new_conversation(self) -> None:
        """Start afresh: the model no longer sees the earlier questions and answers."""
        if self.busy():
            return
        self._conversation = ConversationRef()
        self._shown_id = None
        self._history = []
        self.chat.clear_turns()
        self._show_sources(None)
        self.conversations.list.clearSelection()
        self.question.setFocus()

    def open_conversation(self, conversation_id: int) -> None:
        if self.busy() or conversation_id == self._shown_id:
            return

        def load(store: ConversationStore) -> list[Message]:
            return store.messages(conversation_id)

        def show(messages: list[Message]) -> None:
            turns, history = turns_from_messages(messages)
            self._conversation = ConversationRef(conversation_id)
            self._shown_id = conversation_id
            self._history = history
            self.chat.set_turns(turns)
            self._show_sources(turns[-1] if turns else None)

        self.store.submit(load, show)

    def rename_conversation(self, conversation_id: int, title: str) -> None:
        self.store.submit(lambda store: store.rename(conversation_id, title))

    def delete_conversation(self, conversation_id: int) -> None:
        if conversation_id == self._shown_id:
            if self.busy():
                return
            self.new_conversation()
        self.store.submit(
            lambda store: store.delete(conversation_id), lambda _r: self._refresh_conversations()
        )

    def _refresh_conversations(self, _text: str | None = None) -> None:
        query = self.conversations.search.text().strip()
        if query:
            self.store.submit(
                lambda store: store.search(query),
                lambda hits: self.conversations.show_hits(hits, self._shown_id),
            )
        else:
            self.store.submit(
                lambda store: store.conversations(),
                lambda found: self.conversations.show_conversations(found, self._shown_id),
            )

    def _on_store_failed(self, message: str) -> None:
        self.statusBar().showMessage(
            _("Conversations could not be saved: {error}").format(error=message), 10000
        )

    # Sources ------------------------------------------------------------------------------

    def _show_sources(self, turn: Turn | None) -> None:
        index = self.chat.turns.index(turn) if turn in self.chat.turns else 0
        self.sources.show_turn(turn, index)

    def open_citation(self, turn_index: int, n: int) -> None:
        citation = self.chat.citation_path(turn_index, n)
        if citation is not None:
            self.opener.open(citation)

    def copy_answer(self, turn_index: int) -> None:
        if 0 <= turn_index < len(self.chat.turns):
            QGuiApplication.clipboard().setText(self.chat.turns[turn_index].answer)
            self.statusBar().showMessage(_("Answer copied."), 3000)

    def stop(self) -> None:
        if not self.waiting.drop():
            self.worker.stop()

    def _retranslate(self, _language: str) -> None:
        """The status bar's composed texts, in the new language (static ones are switched by
        InterfaceLanguage)."""
        self.model_status.retranslate()
        if self.indexing.last_status is not None:
            self._show_index_status(self.indexing.last_status)

    def _on_answered(self, answer: Answer) -> None:
        if answer.text:  # a stopped answer stays in the conversation as far as it went
            self._history.append(answer.as_past_turn())
        self._show_sources(self.stream.turn)
        self.speed_label.show_answer(answer)

    def refresh_rules(self) -> None:
        self.rules_label.refresh()
        self.menu_actions["open_export"].setEnabled(
            self.ctx.settings.get_bool("house.allow_export")
        )

    def _on_settled(self) -> None:
        self.ask_button.setEnabled(True)
        self.stop_button.setEnabled(False)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        if self.keep_in_tray:  # indexing, the hotkey and quick-ask go on
            event.ignore()
            self.hide()
            self.hidden_to_tray.emit()
            return
        self.shutdown()
        super().closeEvent(event)

    def quit(self) -> None:
        """Quit Lanterne, tray or not."""
        self.keep_in_tray = False
        self.close()
        QApplication.quit()

    def shutdown(self) -> None:
        """Stop everything that runs on threads, saving what is in flight. Idempotent."""
        if self._shut_down:
            return
        self._shut_down = True
        if self.models_dialog is not None:
            self.models_dialog.close()  # stops a download; it resumes next time
        if self.knowledge is not None:
            self.knowledge.close()
        if self.api_service is not None:  # other apps' requests end before the model goes
            self.api_service.stop()
        self.worker.stop()
        self.worker.wait(10)
        self.downloads.stop()  # what was fetched, and the wish, stay: the next start resumes
        self.indexing.stop()
        self.store.close()  # what is queued (the answer so far) is written first
