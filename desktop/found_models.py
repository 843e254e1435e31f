"""Models other apps already have (LM Studio, Ollama, GPT4All, Jan, the Hugging Face cache),
each with its fit on this machine, used where it is in one click: a first model without a wait.

The scan and each file's header are read on a task thread, so the page is usable at once; what
could not be read is said with its reason. "Use" registers the file in place (nothing is
copied: the other app keeps it), "Copy into Lanterne's folder" for those who want Lanterne to
own a copy. Embedding models found are listed, greyed, for what they are: they cannot answer.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from lanterne.desktop.interface_language import InterfaceLanguage
from lanterne.desktop.workers import BackgroundTask
from lanterne.engine.model_fit import Fit, assess_file
from lanterne.engine.model_store import InstalledModel
from lanterne.engine.other_apps import FoundModel, Scan, scan
from lanterne.foundation.translation import _, format_size, ngettext
from lanterne.model_library import ModelLibrary

# (job, done, failed) -> the task: ModelsDialog's, so that its is_busy() counts these too
Runner = Callable[[Any, Any, Any], BackgroundTask]
_ORDER = {"too_large": 2, "not_chat": 3, "unreadable": 4}


@dataclass(frozen=True)
class Found:
    model: FoundModel
    fit: Fit


@dataclass(frozen=True)
class Findings:
    rows: list[Found]  # those that fit first, the fastest first
    scan: Scan


def _rank(row: Found) -> tuple[int, float, str]:
    fit = row.fit
    group = 0 if fit.usable else 1 if fit.fits else _ORDER.get(fit.verdict, 5)
    return group, -(fit.tokens_per_second or 0), row.model.name.lower()


def survey(library: ModelLibrary) -> Findings:
    """The scan and each model's fit, slow (headers, the hardware probe): on a task thread."""
    result = scan()
    hardware, n_ctx = library.hardware, library.n_ctx
    rows = [Found(m, assess_file(m.path, hardware, n_ctx, m.name)) for m in result.found]
    return Findings(sorted(rows, key=_rank), result)


def _and(names: list[str]) -> str:
    """ "A", "A and B", "A, B and C"."""
    if len(names) < 2:
        return "".join(names)
    return _("{items} and {last}").format(items=", ".join(names[:-1]), last=names[-1])


def _real(path: str | os.PathLike[str]) -> str:
    return os.path.realpath(path)


def _shown(path: Path) -> str:
    """`~/.lmstudio/models/…` rather than the home folder spelt out (the tooltip has it all)."""
    home = Path.home()
    if sys.platform != "win32" and path.is_relative_to(home):
        return str(Path("~") / path.relative_to(home))
    return str(path)


class FoundModels(QWidget):
    used = Signal()  # a found model was registered and is now the one in use
    VISIBLE_ROWS = 4  # more scroll

    def __init__(
        self, library: ModelLibrary, parent: QWidget | None = None, run: Runner | None = None
    ) -> None:
        super().__init__(parent)
        self.library = library
        self._run: Runner = run or self._own_run
        self._tasks: list[BackgroundTask] = []
        self._scanning = False
        self._scan_again = False
        self._importing = False
        self.findings: Findings | None = None
        self._registered: dict[str, bool] = {}  # real path -> in use

        self.title = QLabel(_("Found in other apps"))  # plain text: retranslated in place
        bold = self.title.font()
        bold.setBold(True)
        self.title.setFont(bold)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        headers = [_("Name"), _("App"), _("Size"), _("On this machine"), _("File path")]
        self.table = QTableWidget(0, len(headers))
        self.table.setHorizontalHeaderLabels(headers)
        self.table.setAccessibleName(_("Models found in other apps"))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)  # Tab goes on to the buttons
        self.table.setWordWrap(False)  # one line a model; a long path loses its middle
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.verticalHeader().setVisible(False)
        rows = self.table.verticalHeader()  # compact rows: a small page keeps room for the rest
        rows.setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemDoubleClicked.connect(lambda _item: self.use_selected())
        self.use_button = QPushButton(_("Use"))
        self.use_button.setAccessibleName(_("Use the selected found model where it is"))
        self.use_button.setToolTip(
            _("Answer with this file where the other app keeps it; nothing is copied.")
        )
        self.use_button.clicked.connect(self.use_selected)
        self.copy_button = QPushButton(_("Copy into Lanterne's folder"))
        self.copy_button.setAccessibleName(
            _("Copy the selected found model into Lanterne's folder and use it")
        )
        self.copy_button.setToolTip(
            _(
                "Copy the file into Lanterne's models folder and answer with the copy, which "
                "stays even if the other app deletes its own."
            )
        )
        self.copy_button.clicked.connect(lambda: self.use_selected(copy=True))

        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addWidget(self.status, 1)
        top.addWidget(self.use_button)
        top.addWidget(self.copy_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        QWidget.setTabOrder(self.table, self.use_button)  # the list, then what to do with it
        QWidget.setTabOrder(self.use_button, self.copy_button)
        self._show_table(False)
        # a method, not a lambda: Qt drops the connection when the widget goes
        InterfaceLanguage.instance().changed.connect(self._on_language)
        self.scan()

    # Background work ---------------------------------------------------------------------

    def _own_run(self, job: Any, done: Any, failed: Any) -> BackgroundTask:
        task = BackgroundTask(owner=self)
        self._tasks.append(task)

        def finish(then: Callable[[Any], None]) -> Callable[[Any], None]:
            def deliver(result: Any) -> None:
                if task in self._tasks:
                    self._tasks.remove(task)
                then(result)

            return deliver

        task.connect_outcome(finish(done), finish(failed))
        task.run(job)
        return task

    def is_busy(self) -> bool:
        return self._scanning or self._importing

    # The scan ------------------------------------------------------------------------------

    def scan(self) -> None:
        """Look again, off the GUI thread; the page stays usable meanwhile."""
        if self._scanning:
            self._scan_again = True
            return
        self._scanning = True
        self.status.setText(_("Looking for models other apps have…"))
        self.status.setToolTip("")
        self._update_buttons()

        def job(_report: object) -> Findings:
            return survey(self.library)

        self._run(job, self._scanned, self._scan_failed)

    def _scanned(self, findings: Findings) -> None:
        self._scanning = False
        previous = self.selected()
        self.findings = findings
        if self._scan_again:  # the language changed meanwhile: reasons in the new one
            self._scan_again = False
            self.scan()
            return
        self._fill(previous.model.path if previous else None)
        self._say(findings)

    def _scan_failed(self, message: str) -> None:
        self._scanning = False
        self.status.setText(message)
        self._update_buttons()

    def _on_language(self, _language: str) -> None:
        self.scan()

    # Showing it ----------------------------------------------------------------------------

    def refresh(self) -> None:
        """The table from the last scan, with what is registered now (in use, added)."""
        selected = self.selected()
        self._fill(selected.model.path if selected else None)

    def _fill(self, keep_path: Path | None) -> None:
        """The rows, `keep_path`'s selected again (else the best one, if it fits)."""
        findings = self.findings
        if findings is None:
            return
        self._registered = {_real(m.path): active for m, active in self.library.installed()}
        self.table.setRowCount(0)
        for row in findings.rows:
            self._add_row(row)
        self._show_table(bool(findings.rows))
        self._fit_height()
        paths = [r.model.path for r in findings.rows]
        keep = paths.index(keep_path) if keep_path in paths else -1
        if keep < 0 and findings.rows and findings.rows[0].fit.fits:
            keep = 0  # the best one: a single click uses it
        if keep >= 0:
            self.table.selectRow(keep)
        self._update_buttons()

    def _add_row(self, row: Found) -> None:
        model, fit = row.model, row.fit
        n = self.table.rowCount()
        self.table.insertRow(n)
        state = self._registered.get(_real(model.path))
        name = model.name
        if state is True:
            name += "  ✓ " + _("in use")
        elif state is False:
            name += "  (" + _("added") + ")"
        cells = [name, model.app, format_size(model.size), fit.label, _shown(model.path)]
        tips = [fit.reason, "", "", fit.reason, str(model.path)]
        for column, (text, tip) in enumerate(zip(cells, tips, strict=True)):
            item = QTableWidgetItem(text)
            if tip:
                item.setToolTip(tip)
            if not fit.fits:
                item.setForeground(Qt.GlobalColor.gray)
            self.table.setItem(n, column, item)

    def _say(self, findings: Findings) -> None:
        result = findings.scan
        if findings.rows:
            text = ngettext(
                "{n} model found in {apps}.", "{n} models found in {apps}.", len(findings.rows)
            ).format(n=len(findings.rows), apps=_and(result.apps))
        else:
            text = _(
                "No models found in LM Studio, Ollama, GPT4All, Jan or the Hugging Face cache."
            )
        skipped = result.skipped
        if len(skipped) == 1:
            text += " " + _("Not read: {path} ({reason})").format(
                path=_shown(skipped[0].path), reason=skipped[0].reason
            )
        elif skipped:
            text += " " + ngettext(
                "{n} folder or file could not be read (point here for why).",
                "{n} folders or files could not be read (point here for why).",
                len(skipped),
            ).format(n=len(skipped))
        self.status.setText(text)
        self.status.setToolTip("\n".join(f"{s.path}: {s.reason}" for s in skipped))

    def _fit_height(self) -> None:
        """As tall as its rows, up to a few: the catalog below keeps its room on a small page."""
        rows = min(max(self.table.rowCount(), 1), self.VISIBLE_ROWS)
        height = self.table.horizontalHeader().sizeHint().height()
        height += sum(self.table.rowHeight(r) for r in range(rows)) or 30
        self.table.setFixedHeight(height + 2 * self.table.frameWidth())

    def _show_table(self, shown: bool) -> None:
        for widget in (self.table, self.use_button, self.copy_button):
            widget.setVisible(shown)

    def selected(self) -> Found | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or self.findings is None:
            return None
        return self.findings.rows[rows[0].row()]

    def select(self, name: str) -> None:
        """Select the row of the model the app lists as `name`."""
        assert self.findings is not None
        self.table.selectRow([r.model.name for r in self.findings.rows].index(name))

    def _update_buttons(self) -> None:
        row = self.selected()
        usable = row is not None and row.fit.fits and not self.is_busy()
        in_use = row is not None and self._registered.get(_real(row.model.path)) is True
        self.use_button.setEnabled(usable and not in_use)
        self.copy_button.setEnabled(usable)

    # Using one -----------------------------------------------------------------------------

    def use_selected(self, copy: bool = False) -> BackgroundTask | None:
        """Register the selected file (its header is read: a task) and answer with it."""
        row = self.selected()
        if row is None or not row.fit.fits or self._importing:
            return None
        found = row.model
        store = self.library.store
        target = self.library.models_dir / "imported" / found.path.name if copy else found.path
        known = any(_real(m.path) == _real(target) for m in store.list())
        name = None if known else store.unique_name(found.name)

        def job(_report: object) -> InstalledModel:
            return self.library.import_file(found.path, name=name, copy=copy, use=True)

        self._importing = True
        self._update_buttons()
        if copy:
            self.status.setText(
                _("Copying {name} into Lanterne's folder ({size})…").format(
                    name=found.name, size=format_size(found.size)
                )
            )
        else:
            self.status.setText(_("Reading {name}…").format(name=found.name))
        return self._run(job, lambda model: self._used(model, found, copy), self._use_failed)

    def _used(self, model: InstalledModel, found: FoundModel, copied: bool) -> None:
        self._importing = False
        self.refresh()
        if copied:
            message = _("{name} was copied into Lanterne's folder and is the model in use.")
        else:
            message = _("{name} is the model in use, read where {app} keeps it.")
        self.status.setText(message.format(name=model.name, app=found.app))
        self.used.emit()

    def _use_failed(self, message: str) -> None:
        """A file gone meanwhile, a full disk, a model the organisation does not allow."""
        self._importing = False
        self.status.setText(message)
        self._update_buttons()
