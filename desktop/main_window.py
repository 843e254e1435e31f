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
    QMainWindow,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from lanterne.assistant.answer import Answer
from lanterne.assistant.pipeline import answer_style
from lanterne.context import AppContext
from lanterne.desktop.answer_feedback import AnswerFeedback
from lanterne.desktop.api_service import ApiStatusLabel
from lanterne.desktop.app_services import AppServices
from lanterne.desktop.chat_view import ChatView, Turn
from lanterne.desktop.conversation_controller import ConversationController
from lanterne.desktop.conversation_list import ConversationList
from lanterne.desktop.disk_full_label import DiskFullLabel
from lanterne.desktop.evaluation_dialog import EvaluationDialog
from lanterne.desktop.export_dialog import ExportDialog
from lanterne.desktop.index_label import IndexLabel
from lanterne.desktop.interface_language import InterfaceLanguage
from lanterne.desktop.knowledge_panel import KnowledgePanel
from lanterne.desktop.main_menu import build_file_menu
from lanterne.desktop.meaning_label import MeaningLabel
from lanterne.desktop.model_status import ModelStatus
from lanterne.desktop.models_dialog import ModelsDialog
from lanterne.desktop.question_box import QuestionBox
from lanterne.desktop.rules_label import RulesLabel
from lanterne.desktop.search_window import SearchWindow
from lanterne.desktop.settings_dialog import SettingsDialog, apply_system_settings
from lanterne.desktop.source_opener import SourceOpener
from lanterne.desktop.sources_panel import SourcesPanel
from lanterne.desktop.speed_label import SpeedLabel
from lanterne.desktop.store_notices import StoreNotices
from lanterne.desktop.waiting_question import WaitingQuestion
from lanterne.desktop.welcome_panel import WelcomePanel
from lanterne.foundation.db_faults import DiskFullError
from lanterne.foundation.settings import SettingsError
from lanterne.foundation.translation import _
from lanterne.model_library import ModelLibrary


class MainWindow(QMainWindow):
    hidden_to_tray = Signal()
    hotkey_changed = Signal(str)  # from Settings: the app registers the new shortcut

    def __init__(self, ctx: AppContext, services: AppServices | None = None) -> None:
        """`services`: the app's (desktop/app.py builds them); a window made without them
        builds its own and stops them at shutdown (tests, tools)."""
        super().__init__()
        self.ctx = ctx
        self._own_services = services is None
        self.services = services or AppServices(ctx, parent=self)
        self.indexing, self.store = self.services.indexing, self.services.store
        self.downloads = self.services.downloads
        self.keep_in_tray = False  # set by the app when a tray icon is shown
        self._shut_down = False
        self.setWindowTitle("Lanterne")
        self.resize(1180, 720)
        self.models_dialog: ModelsDialog | None = None
        self.evaluation: EvaluationDialog | None = None
        self.knowledge: KnowledgePanel | None = None
        self.search_window: SearchWindow | None = None
        self.indexing.error.connect(self._say)
        self.store_notices = StoreNotices(self, self.store, self._refresh_conversations)
        self.conversations = ConversationList()
        self.conversations.search_changed.connect(self._refresh_conversations)

        self.opener = SourceOpener(self, ctx.index_path)
        self.opener.message.connect(self._say)
        self.chat = ChatView()
        self.chat.citation_clicked.connect(self.open_citation)
        self.chat.link_clicked.connect(self.opener.open_link)
        self.chat.copy_requested.connect(self.copy_answer)
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
        self.index_label = IndexLabel(self.indexing)
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
        api = self.services.api
        if api is not None:  # the app's server for other apps: its state, why it cannot start
            self.statusBar().addPermanentWidget(ApiStatusLabel(api))
            api.failed.connect(lambda message: self.statusBar().showMessage(message, 30000))
        self.menu_actions = build_file_menu(self)  # by the name of the method they call
        self.refresh_rules()

        self.controller = talk = ConversationController(ctx, self.store, self.chat, self)
        self.recorder, self.stream, self.worker = talk.recorder, talk.stream, talk.worker
        talk.waiting = WaitingQuestion(
            ctx.settings, self.downloads, self.chat, self.question, self.stream, talk.start
        )
        talk.started.connect(self._on_started)
        talk.opened.connect(self._show_sources)
        talk.cleared.connect(self._on_cleared)
        talk.changed.connect(self._refresh_conversations)
        self.stream.retrieved.connect(self._show_sources)
        self.stream.answered.connect(self._on_answered)
        self.stream.settled.connect(self._on_settled)
        self.chat.regenerate_requested.connect(talk.regenerate)
        self.conversations.new_requested.connect(self.new_conversation)
        self.conversations.selected.connect(self.open_conversation)
        self.conversations.rename_requested.connect(talk.rename)
        self.conversations.delete_requested.connect(talk.delete)
        self.model_status.follow(self.worker)
        InterfaceLanguage.instance().changed.connect(self._retranslate)
        self.refresh_model_status()
        self._refresh_conversations()
        if self._own_services:
            self.services.start()
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
        dialog = SettingsDialog(self.ctx.settings, self, api=self.services.api)
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

    # Asking -------------------------------------------------------------------------------

    def refresh_model_status(self) -> None:
        self.model_status.refresh()

    def ask(self) -> None:
        """The question box's question, asked in this conversation (by the controller)."""
        question = self.question.toPlainText().strip()
        if question and not self.busy():
            self.question.clear()
            self.controller.ask(question)

    def busy(self) -> bool:
        """An answer is being written, or a question waits for its model."""
        return self.controller.busy()

    def stop(self) -> None:
        self.controller.stop()

    def new_conversation(self) -> None:
        """Start afresh: the model no longer sees the earlier questions and answers."""
        self.controller.new_conversation()

    def open_conversation(self, conversation_id: int) -> None:
        self.controller.open(conversation_id)

    def _on_started(self) -> None:
        self.ask_button.setEnabled(False)
        self.stop_button.setEnabled(True)

    def _on_settled(self) -> None:
        self.ask_button.setEnabled(True)
        self.stop_button.setEnabled(False)

    def _on_cleared(self) -> None:
        self._show_sources(None)
        self.conversations.list.clearSelection()
        self.question.setFocus()

    def _refresh_conversations(self, _text: str | None = None) -> None:
        query = self.conversations.search.text().strip()
        if query:
            self.store.submit(
                lambda store: store.search(query),
                lambda hits: self.conversations.show_hits(hits, self.controller.shown_id),
            )
        else:
            self.store.submit(
                lambda store: store.conversations(),
                lambda found: self.conversations.show_conversations(
                    found, self.controller.shown_id
                ),
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

    def _say(self, message: str) -> None:
        self.statusBar().showMessage(message, 10000)

    def _retranslate(self, _language: str) -> None:
        """The model's status, in the new language (static texts are switched by
        InterfaceLanguage, the other labels follow it themselves)."""
        self.model_status.retranslate()

    def _on_answered(self, answer: Answer) -> None:
        self._show_sources(self.stream.turn)
        self.speed_label.show_answer(answer)

    def refresh_rules(self) -> None:
        self.rules_label.refresh()
        self.menu_actions["open_export"].setEnabled(
            self.ctx.settings.get_bool("house.allow_export")
        )

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
        """Stop what runs on threads, saving what is in flight: this window's dialogs and
        answer, and the services it built itself (the app stops its own). Idempotent."""
        if self._shut_down:
            return
        self._shut_down = True
        if self.models_dialog is not None:
            self.models_dialog.close()  # stops a download; it resumes next time
        if self.knowledge is not None:
            self.knowledge.close()
        if self._own_services:
            self.services.stop(self.controller)
        else:
            self.controller.halt()
