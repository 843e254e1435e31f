"""File › Evaluation…: run a question set with settings variants, and compare saved runs as a
table and a chart. Runs, and the reading of saved ones, happen on task threads."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from lanterne.context import AppContext
from lanterne.desktop.workers import BackgroundTask
from lanterne.evaluation.results import (
    MEASURES,
    PERCENTAGES,
    comparison_table,
    load_run,
    save_run,
    saved_runs,
)
from lanterne.evaluation.variants import parse_variant, run_label
from lanterne.foundation.translation import _

# Bars of each run, told apart by colour (readable on light and dark backgrounds).
RUN_COLOURS = ["#3b82f6", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#14b8a6"]


class ScoreChart(QWidget):
    """The percentage measures as grouped horizontal bars, one colour per run."""

    def __init__(self) -> None:
        super().__init__()
        self.runs: list[dict[str, Any]] = []
        self.setMinimumHeight(220)
        self.setAccessibleName(_("Chart of the compared runs"))

    def show_runs(self, runs: list[dict[str, Any]]) -> None:
        self.runs = runs
        self.setAccessibleDescription(
            "; ".join(
                f"{run['label']}: "
                + ", ".join(
                    f"{_(label)} {round(100 * value)} %"
                    for measure, label in MEASURES
                    if measure in PERCENTAGES and (value := run["summary"].get(measure)) is not None
                )
                for run in runs
            )
        )
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(640, 260)

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        text = self.palette().color(QPalette.ColorRole.WindowText)
        measures = [(m, _(label)) for m, label in MEASURES if m in PERCENTAGES]
        if not self.runs:
            painter.setPen(text)
            painter.drawText(
                self.rect(), Qt.AlignmentFlag.AlignCenter, _("Check saved runs to compare them.")
            )
            return
        metrics = painter.fontMetrics()
        label_width = min(max(metrics.horizontalAdvance(t) for _m, t in measures) + 12, 320)
        legend_height = metrics.height() + 8
        group = (self.height() - legend_height - 8) / len(measures)
        bar = max(3.0, min(16.0, (group - 6) / len(self.runs)))
        scale = self.width() - label_width - 60
        for row, (measure, title) in enumerate(measures):
            top = 4 + row * group
            painter.setPen(text)
            painter.drawText(
                QRectF(0, top, label_width - 8, group),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                metrics.elidedText(title, Qt.TextElideMode.ElideRight, label_width - 8),
            )
            for index, run in enumerate(self.runs):
                value = run["summary"].get(measure)
                y = top + (group - bar * len(self.runs)) / 2 + index * bar
                colour = QColor(RUN_COLOURS[index % len(RUN_COLOURS)])
                width = scale * (value or 0.0)
                painter.fillRect(QRectF(label_width, y, width, bar - 1), colour)
                painter.setPen(text)
                painter.drawText(
                    QRectF(label_width + width + 4, y - 2, 56, bar + 4),
                    Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                    "—" if value is None else f"{round(100 * value)} %",
                )
        x = float(label_width)
        y = self.height() - legend_height
        for index, run in enumerate(self.runs):
            painter.fillRect(QRectF(x, y + 4, 12, 12), QColor(RUN_COLOURS[index % 6]))
            painter.setPen(text)
            name = str(run["label"])
            painter.drawText(QRectF(x + 16, y, metrics.horizontalAdvance(name) + 4, 20), name)
            x += metrics.horizontalAdvance(name) + 36
        painter.end()


class EvaluationDialog(QDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle(_("Evaluation"))
        self.resize(980, 720)
        self._runs: dict[str, dict[str, Any]] = {}  # file -> run, as read
        self._cancel = threading.Event()
        self._task: BackgroundTask | None = None
        self._keep: BackgroundTask | None = None  # the reading of saved runs

        self.questions = QLineEdit()
        self.questions.setAccessibleName(_("Question set"))
        self.questions.setPlaceholderText(_("A .jsonl or .csv file (see docs/evaluation.md)"))
        choose = QPushButton(_("Choose…"))
        choose.clicked.connect(self._choose)
        row = QHBoxLayout()
        row.addWidget(self.questions, 1)
        row.addWidget(choose)
        self.variants = QPlainTextEdit()
        self.variants.setAccessibleName(_("Settings to compare"))
        self.variants.setPlaceholderText(
            _("One run per line, e.g.\nanswer.length=short\nanswer.length=detailed")
        )
        self.variants.setTabChangesFocus(True)
        self.variants.setMaximumHeight(72)
        self.run_button = QPushButton(_("Run"))
        self.run_button.clicked.connect(self.run)
        self.cancel_button = QPushButton(_("Stop"))
        self.cancel_button.clicked.connect(self._cancel.set)
        self.cancel_button.setEnabled(False)
        self.status = QLabel(_("Runs use the model chosen in Settings, at temperature 0."))
        self.status.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.run_button)
        form = QFormLayout()
        form.addRow(_("Question set:"), row)
        form.addRow(_("Settings to compare:"), self.variants)

        self.saved = QListWidget()
        self.saved.setAccessibleName(_("Saved runs"))
        self.saved.itemChanged.connect(lambda _item: self._compare())
        self.table = QTableWidget()
        self.table.setAccessibleName(_("Comparison of the checked runs"))
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        corner = self.table.findChild(QAbstractButton)
        if corner is not None:  # the header corner selects the whole table
            corner.setAccessibleName(_("Select the whole table"))
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.chart = ScoreChart()
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.table)
        right.addWidget(self.chart)
        split = QSplitter()
        split.addWidget(self.saved)
        split.addWidget(right)
        split.setSizes([260, 720])

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(split, 1)
        self.refresh()

    def _choose(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, _("Question set"), "", _("Question sets (*.jsonl *.csv)")
        )
        if path:
            self.questions.setText(path)

    def refresh(self, check: list[str] | None = None) -> None:
        """Read the saved runs on a task thread; `check` the given files once listed."""
        task = BackgroundTask(self)

        def read(_progress: Any) -> list[tuple[str, dict[str, Any]]]:
            found = []
            for path in reversed(saved_runs()):  # newest first
                try:
                    found.append((str(path), load_run(path)))
                except ValueError:  # a file edited by hand: left out of the list
                    continue
            return found

        task.connect_outcome(lambda runs: self._list(runs, check or []), self._failed)
        task.run(read)
        self._keep = task

    def _list(self, runs: list[tuple[str, dict[str, Any]]], check: list[str]) -> None:
        self._runs = dict(runs)
        self.saved.blockSignals(True)
        self.saved.clear()
        for path, run in runs:
            item = QListWidgetItem(f"{run['label']}\n{run['created'][:16].replace('T', ' ')}")
            item.setData(Qt.ItemDataRole.UserRole, path)
            item.setToolTip(Path(path).name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if path in check else Qt.CheckState.Unchecked)
            self.saved.addItem(item)
        self.saved.blockSignals(False)
        self._compare()

    def checked_runs(self) -> list[dict[str, Any]]:
        """The checked runs, oldest first (the list shows the newest first)."""
        runs = []
        for row in reversed(range(self.saved.count())):
            item = self.saved.item(row)
            if item.checkState() == Qt.CheckState.Checked:
                runs.append(self._runs[str(item.data(Qt.ItemDataRole.UserRole))])
        return runs

    def _compare(self) -> None:
        runs = self.checked_runs()
        self.chart.show_runs(runs)
        rows = comparison_table(runs) if runs else [[_("Measure")]]
        self.table.clear()
        self.table.setRowCount(len(rows) - 1)
        self.table.setColumnCount(len(rows[0]) - 1)
        self.table.setHorizontalHeaderLabels(rows[0][1:])
        self.table.setVerticalHeaderLabels([row[0] for row in rows[1:]])
        for r, row in enumerate(rows[1:]):
            for c, cell in enumerate(row[1:]):
                item = QTableWidgetItem(cell)
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.table.setItem(r, c, item)

    def run(self) -> None:
        """Each line of variants is a run (none: one run as configured), on a task thread."""
        from lanterne.evaluation.question_set import QuestionSetError, load_question_set
        from lanterne.evaluation.runner import run_evaluation
        from lanterne.foundation.settings import SettingsError

        path = Path(self.questions.text().strip()).expanduser()
        try:
            lines = [ln for ln in self.variants.toPlainText().splitlines() if ln.strip()]
            variants = [parse_variant(line) for line in lines] or [{}]
        except SettingsError as exc:
            self.status.setText(str(exc))
            return
        model = Path(self.ctx.settings.get_str("model.path"))
        self._cancel.clear()
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        task = BackgroundTask(self)

        failures: list[str] = []

        def work(progress: Any) -> list[str]:
            try:
                questions = load_question_set(path)
            except QuestionSetError as exc:
                raise RuntimeError(str(exc)) from exc
            saved = []
            for overrides in variants:
                label = run_label(model, overrides, with_model=not lines)

                def say(n: int, total: int, _item: object, label: str = label) -> None:
                    text = _("{label}: question {n} of {total}")
                    progress(text.format(label=label, n=n, total=total))

                run = run_evaluation(
                    questions,
                    self.ctx.settings,
                    self.ctx.host,
                    self.ctx.index_path,
                    label=label,
                    overrides=overrides,
                    progress=say,
                    cancel=self._cancel,
                )
                saved.append(str(save_run(run)))
                if run["first_error"]:
                    failures.append(run["first_error"])
                if self._cancel.is_set():
                    break
            return saved

        task.progress.connect(lambda text: self.status.setText(str(text)))
        task.connect_outcome(lambda saved: self._done(saved, failures), self._failed)
        task.run(work)
        self._task = task

    def _done(self, saved: list[str], failures: list[str]) -> None:
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        if failures:  # what went wrong, rather than a table of dashes
            text = _("Some questions could not be answered: {error}").format(error=failures[0])
        elif self._cancel.is_set():
            text = _("Stopped: the questions answered so far are saved.")
        else:
            text = _("Done: the new runs are checked below.")
        self.status.setText(text)
        self.refresh(check=saved)

    def _failed(self, message: str) -> None:
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.status.setText(message)
