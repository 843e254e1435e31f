"""File › Export demonstration data…: pick answers by date, folder and rating, look at the
examples they make, and write them as JSONL where the user chooses. Reading and writing happen
on the conversations' store thread; the app sends nothing anywhere."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from lanterne.assistant.prompt import AnswerStyle
from lanterne.conversations.demonstrations import (
    Demonstration,
    DemonstrationFilter,
    demonstrations,
    export_file,
    exported_text,
    first_matches,
)
from lanterne.conversations.store import ConversationStore
from lanterne.desktop.store_thread import StoreThread
from lanterne.foundation.db_faults import DiskFullError
from lanterne.foundation.translation import _, format_when, ngettext

PREVIEW_ROWS = 200  # the table lists this many; the count and the export take every match
_ANY_DAY = QDate(2000, 1, 1)  # a date edit at its minimum shows "Any day"


def _rating_choices() -> list[tuple[str, str]]:
    return [
        ("any", _("Any rating")),
        ("up", _("Good answers")),
        ("down", _("Bad answers")),
        ("unrated", _("Not rated")),
    ]


def _rating_text(rating: int | None) -> str:
    return {1: _("Good"), -1: _("Bad")}.get(rating or 0, "")


class ExportDialog(QDialog):
    def __init__(
        self,
        store: StoreThread,
        style: AnswerStyle,
        folders: list[Path],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.answer_style = style
        self.setWindowTitle(_("Export demonstration data"))
        self.resize(980, 640)
        self.matches: list[Demonstration] = []
        self.count = 0
        self._generation = 0  # answers to an older filter are dropped
        intro = QLabel(
            _(
                "Each answer becomes one example in the chat fine-tuning format (JSONL): the "
                "conversation so far, the question with its sources, and the answer, or your "
                "correction if you made one. The file is written where you choose; Lanterne "
                "sends nothing anywhere."
            )
        )
        intro.setWordWrap(True)

        self.since = self._date_edit(_("Asked from"))
        self.until = self._date_edit(_("Asked until"))
        self.folder = QComboBox()
        self.folder.setAccessibleName(_("Folder"))
        self.folder.addItem(_("Any folder"), None)
        for folder in folders:
            self.folder.addItem(str(folder), str(folder))
        self.rating = QComboBox()
        self.rating.setAccessibleName(_("Rating"))
        for key, label in _rating_choices():
            self.rating.addItem(label, key)
        self.edited = QCheckBox(_("Only answers I corrected"))
        self.metadata = QCheckBox(_("Add where each example comes from (rating, sources, date)"))
        self.metadata.setChecked(True)
        days = QHBoxLayout()
        days.addWidget(self.since)
        days.addWidget(QLabel(_("and")))
        days.addWidget(self.until)
        days.addStretch(1)
        form = QFormLayout()
        form.addRow(_("Asked between"), days)
        form.addRow(_("Sources in"), self.folder)
        form.addRow(_("Rating"), self.rating)
        form.addRow("", self.edited)
        form.addRow("", self.metadata)

        self.count_label = QLabel()
        self.table = QTableWidget(0, 5)
        self.table.setAccessibleName(_("Matching answers"))
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._show_example)
        self.example = QPlainTextEdit()
        self.example.setReadOnly(True)
        self.example.setAccessibleName(_("The example, as it will be written"))
        self.example.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(self.example)
        splitter.setSizes([260, 240])

        self.status = QLabel()
        self.status.setWordWrap(True)
        self.export_button = QPushButton(_("Export…"))
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self.choose_file)
        close = QPushButton(_("Close"))
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.export_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.count_label)
        layout.addWidget(splitter, 1)
        layout.addLayout(buttons)

        for signal in (self.since.dateChanged, self.until.dateChanged):
            signal.connect(self.refresh)
        for combo in (self.folder, self.rating):
            combo.currentIndexChanged.connect(self.refresh)
        self.edited.toggled.connect(self.refresh)
        self.metadata.toggled.connect(self._show_example)
        self._retitle_table()
        self.refresh()

    def _date_edit(self, name: str) -> QDateEdit:
        edit = QDateEdit()
        edit.setAccessibleName(name)
        edit.setCalendarPopup(True)
        edit.setMinimumDate(_ANY_DAY)
        edit.setSpecialValueText(_("Any day"))
        edit.setDate(_ANY_DAY)
        return edit

    def _retitle_table(self) -> None:
        self.table.setHorizontalHeaderLabels(
            [_("Asked"), _("Question"), _("Rating"), _("Corrected"), _("Sources")]
        )

    def current_filter(self) -> DemonstrationFilter:
        def day(edit: QDateEdit) -> date | None:
            value = edit.date()
            return None if value == _ANY_DAY else date(value.year(), value.month(), value.day())

        folder = self.folder.currentData()
        return DemonstrationFilter(
            since=day(self.since),
            until=day(self.until),
            folder=Path(folder) if folder else None,
            rating=str(self.rating.currentData()),
            edited_only=self.edited.isChecked(),
        )

    def refresh(self) -> None:
        """Read the matching answers again (store thread); the newest request wins."""
        self._generation += 1
        generation, where = self._generation, self.current_filter()
        self.count_label.setText(_("Looking for matching answers…"))

        self.store.submit(
            lambda store: first_matches(store, where, PREVIEW_ROWS),
            lambda found: self._show(generation, *found),
        )

    def _show(self, generation: int, count: int, first: list[Demonstration]) -> None:
        if generation != self._generation:
            return
        self.count, self.matches = count, first
        text = ngettext("{n} answer matches.", "{n} answers match.", count).format(n=count)
        if count > len(first):
            text += " " + _("The first {shown} are listed.").format(shown=len(first))
        self.count_label.setText(text)
        self.export_button.setEnabled(count > 0)
        self.table.setRowCount(len(first))
        for row, demo in enumerate(first):
            cells = [
                format_when(demo.question.created_at),
                " ".join(demo.question.text.split()),
                _rating_text(demo.answer.rating),
                _("Yes") if demo.edited else "",
                ", ".join(sorted({Path(s.path).name for s in demo.sources})),
            ]
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
        if first:
            self.table.selectRow(0)
        else:
            self.example.setPlainText("")

    def _show_example(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.matches):
            return
        example = self.matches[rows[0].row()].example(self.answer_style, self.metadata.isChecked())
        self.example.setPlainText(json.dumps(example, ensure_ascii=False, indent=2))

    def choose_file(self) -> None:
        suggested = Path.home() / f"lanterne-demonstrations-{date.today().isoformat()}.jsonl"
        path, _filter = QFileDialog.getSaveFileName(
            self, _("Export demonstration data"), str(suggested), _("JSON Lines (*.jsonl)")
        )
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> None:
        """Every matching answer to `path`, on the store thread; the outcome is said below."""
        where, style, metadata = self.current_filter(), self.answer_style, self.metadata.isChecked()
        self.export_button.setEnabled(False)
        self.status.setText(_("Exporting…"))

        def write(store: ConversationStore) -> int | str:
            try:
                return export_file(demonstrations(store, where), path, style, metadata)
            except DiskFullError as exc:  # which folder, and that nothing was left there
                return str(exc)
            except OSError as exc:
                return _("Could not write {path}: {reason}").format(path=path, reason=exc)

        self.store.submit(write, lambda outcome: self._exported(path, outcome))

    def _exported(self, path: Path, outcome: int | str) -> None:
        self.export_button.setEnabled(self.count > 0)
        if isinstance(outcome, str):
            self.status.setText(outcome)
            return
        self.status.setText(exported_text(outcome, path))
