"""File › Models…: the catalog with its fit on this machine, downloads, imports, the model in use.

Everything slow (probing the hardware, judging the catalog, downloading, hashing, reading a
GGUF header) runs on a task thread through `ModelLibrary`; this dialog only shows results and
progress, so it never freezes, and closing it cancels a download (which resumes later).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from lanterne.desktop.download_service import DownloadService
from lanterne.desktop.found_models import FoundModels
from lanterne.desktop.starter_offer import StarterOfferBar
from lanterne.desktop.workers import BackgroundTask
from lanterne.engine.catalog import CatalogError, CatalogModel, Quant
from lanterne.engine.hub_download import Progress
from lanterne.engine.model_fit import Fit, Recommendation
from lanterne.engine.model_store import InstalledModel
from lanterne.engine.starter import StarterOffer
from lanterne.foundation.settings import SettingsError
from lanterne.foundation.translation import _, format_size
from lanterne.model_library import ModelLibrary

_Survey = tuple[Recommendation, list[Fit], StarterOffer | None]


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


class ModelsDialog(QDialog):
    model_changed = Signal()  # the model in use changed

    def __init__(
        self,
        library: ModelLibrary,
        parent: QWidget | None = None,
        downloads: DownloadService | None = None,
    ) -> None:
        """`downloads`: the app's, which go on after this dialog closes; without one (a dialog
        on its own), downloads end with the dialog and resume next time."""
        super().__init__(parent)
        self.library = library
        self.setWindowTitle(_("Models"))
        self.resize(980, 620)
        self._tasks: list[BackgroundTask] = []
        self._own_downloads = downloads is None
        self._stopped = False  # the user stopped the download under way
        self._downloading = False  # as this window knows it (from the service's signals)
        self.downloads = downloads or DownloadService(library, self)
        self.downloads.started.connect(self._download_started)
        self.downloads.progress.connect(self._download_progress)
        self.downloads.arrived.connect(self._downloaded)
        self.downloads.failed.connect(self._download_failed)
        self.downloads.idle.connect(self._end_download)
        self._rows: list[tuple[CatalogModel, Quant]] = []

        # Other apps' models first (made first: first in the Tab order too), listed without a wait
        self.found = FoundModels(library, self, run=self._run)
        self.found.used.connect(self.refresh_installed)
        self.found.used.connect(self.model_changed)
        self.model_changed.connect(self.found.refresh)  # marks what is in use
        self.recommendation = QLabel(_("Checking what this machine can run…"))
        self.recommendation.setWordWrap(True)
        self.catalog = _table(
            [_("Model"), _("File"), _("Size"), _("On this machine"), _("Licence")]
        )
        self.installed = _table([_("Name"), _("Size"), _("Source"), _("File")])
        self.download_button = QPushButton(_("Download"))
        self.download_button.clicked.connect(self.download_selected)
        self.use_button = QPushButton(_("Use"))
        self.use_button.clicked.connect(self.use_selected)
        self.import_button = QPushButton(_("Import a GGUF file…"))
        self.import_button.clicked.connect(self.choose_import)
        self.remove_button = QPushButton(_("Remove"))
        self.remove_button.clicked.connect(self.remove_selected)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setVisible(False)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.cancel_button = QPushButton(_("Cancel download"))
        self.cancel_button.clicked.connect(self.cancel_download)
        self.cancel_button.setVisible(False)

        catalog_buttons = QHBoxLayout()
        catalog_buttons.addWidget(self.download_button)
        catalog_buttons.addStretch(1)
        installed_buttons = QHBoxLayout()
        for button in (self.use_button, self.import_button, self.remove_button):
            installed_buttons.addWidget(button)
        installed_buttons.addStretch(1)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.cancel_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.found)
        layout.addWidget(self.recommendation)
        self.starter = StarterOfferBar()
        self.starter.chosen.connect(self.download_with_starter)
        layout.addWidget(self.starter)
        layout.addWidget(QLabel("<b>" + _("Recommended models") + "</b>"))
        layout.addWidget(self.catalog, 3)
        layout.addLayout(catalog_buttons)
        layout.addLayout(progress_row)
        layout.addWidget(self.status)
        layout.addWidget(QLabel("<b>" + _("On this computer") + "</b>"))
        layout.addWidget(self.installed, 2)
        layout.addLayout(installed_buttons)

        self.refresh_installed()
        self._survey()
        if self.downloads.is_active():  # started elsewhere (the wizard): shown here too
            self._download_started(self.downloads.current_name)

    # Background work ---------------------------------------------------------------------

    def _run(self, job: Any, done: Any, failed: Any, progress: Any = None) -> BackgroundTask:
        task = BackgroundTask(owner=self)
        self._tasks.append(task)

        def succeeded(result: object) -> None:
            self._forget(task)
            done(result)

        def failed_with(message: str) -> None:
            self._forget(task)
            failed(message)

        # The dialog can go first (closed, or a wizard page gone): its results are then dropped.
        task.connect_outcome(succeeded, failed_with)
        if progress is not None:
            task.progress.connect(progress)
        task.run(job)
        return task

    def _forget(self, task: BackgroundTask) -> None:
        if task in self._tasks:
            self._tasks.remove(task)

    def is_busy(self) -> bool:
        return bool(self._tasks) or self._downloading

    # The catalog and its fit ---------------------------------------------------------------

    def _survey(self) -> None:
        def job(_report: object) -> _Survey:
            recommendation = self.library.recommend()
            offer = self.library.starter_offer(recommendation)
            return recommendation, self.library.fits(), offer

        self._run(job, self._show_survey, self.recommendation.setText)

    def _show_survey(self, survey: _Survey) -> None:
        recommendation, fits, offer = survey
        self.starter.show_offer(offer)
        self.recommendation.setText(recommendation.explanation)
        by_file = {(f.model_id, f.quant): f for f in fits}
        chosen = (
            (recommendation.model.id, recommendation.fit.quant)
            if recommendation.model and recommendation.fit
            else None
        )
        self._rows = []
        self.catalog.setRowCount(0)
        for model in self.library.catalog.chat_models() + self.library.catalog.embedding_models():
            for quant in model.quants:
                fit = by_file[(model.id, quant.name)]
                self._add_catalog_row(model, quant, fit, (model.id, quant.name) == chosen)
        if chosen is not None:
            self.catalog.selectRow([(m.id, q.name) for m, q in self._rows].index(chosen))

    def _add_catalog_row(self, model: CatalogModel, quant: Quant, fit: Fit, best: bool) -> None:
        row = self.catalog.rowCount()
        self.catalog.insertRow(row)
        name = model.name + ("" if model.role == "chat" else " " + _("(document search)"))
        if best:
            name = "★ " + name
        size = ("" if quant.size_exact else "~") + format_size(quant.size)
        cells = [name, quant.name, size, fit.label, model.licence]
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setToolTip(model.description if column == 0 else fit.reason)
            if best and column == 0:
                font = QFont(item.font())
                font.setBold(True)
                item.setFont(font)
            if not fit.fits:
                item.setForeground(Qt.GlobalColor.gray)
            self.catalog.setItem(row, column, item)
        self._rows.append((model, quant))

    # Downloads ------------------------------------------------------------------------------

    def selected_catalog_file(self) -> tuple[CatalogModel, Quant] | None:
        rows = self.catalog.selectionModel().selectedRows()
        return self._rows[rows[0].row()] if rows else None

    def select_catalog_file(self, model_id: str, quant: str) -> None:
        keys = [(m.id, q.name) for m, q in self._rows]
        self.catalog.selectRow(keys.index((model_id, quant)))

    def download_selected(self) -> None:
        """Queued with the app's downloads: it goes on when this window closes."""
        chosen = self.selected_catalog_file()
        if chosen is None:
            return
        model, quant = chosen
        try:
            self.downloads.request(model.id, quant.name)
        except (SettingsError, CatalogError) as exc:  # the organisation's policy decides
            self.status.setText(str(exc))
            return
        if not self.progress.isVisible():
            self._download_started(model.name)

    def download_with_starter(self, offer: StarterOffer) -> None:
        """The small model first, answering within minutes; the recommended one after it."""
        try:
            self.downloads.request(offer.model.id, offer.quant.name)
            self.downloads.request(offer.recommended.id, offer.recommended_quant.name)
        except (SettingsError, CatalogError) as exc:
            self.status.setText(str(exc))
            return
        if not self.progress.isVisible():
            self._download_started(offer.model.name)

    def _download_started(self, name: str) -> None:
        self._downloading = True
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.cancel_button.setVisible(True)
        self.status.setText(_("Starting the download of {name}…").format(name=name))

    def _download_progress(self, p: Progress) -> None:
        self.progress.setValue(int(p.fraction * 1000))
        self.status.setText(
            _("{name}: {progress}").format(name=self.downloads.current_name, progress=p.describe())
        )

    def _downloaded(self, model: InstalledModel) -> None:
        self.status.setText(_("{name} is downloaded and verified.").format(name=model.name))
        self.refresh_installed()
        self.model_changed.emit()

    def _download_failed(self, name: str, message: str) -> None:
        self.status.setText(_("{name}: {error}").format(name=name, error=message))

    def _end_download(self) -> None:
        self._downloading = False
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)
        if self._stopped:  # said last: a progress report may have been on its way
            self._stopped = False
            self.status.setText(_("Download stopped. Download again to resume where it stopped."))

    def cancel_download(self) -> None:
        if self.downloads.current is not None:
            self._stopped = True
            self.downloads.cancel(self.downloads.current.model_id)

    # Installed models ----------------------------------------------------------------------

    def refresh_installed(self) -> None:
        self._installed = self.library.installed()
        self.installed.setRowCount(0)
        for model, active in self._installed:
            row = self.installed.rowCount()
            self.installed.insertRow(row)
            source = _("downloaded") if model.source == "catalog" else _("imported")
            name = model.name + ("  ✓ " + _("in use") if active else "")
            cells = [name, format_size(model.size), source, model.path]
            for column, text in enumerate(cells):
                self.installed.setItem(row, column, QTableWidgetItem(text))

    def _selected_installed(self) -> InstalledModel | None:
        rows = self.installed.selectionModel().selectedRows()
        return self._installed[rows[0].row()][0] if rows else None

    def use_selected(self) -> None:
        model = self._selected_installed()
        if model is not None:
            try:
                self.library.use(model.name)
            except SettingsError as exc:  # a model the organisation does not allow
                self.status.setText(str(exc))
                return
            self.refresh_installed()
            self.model_changed.emit()

    def remove_selected(self) -> BackgroundTask | None:
        """Deleting gigabytes (maybe on a network share) happens on a task thread."""
        model = self._selected_installed()
        if model is None:
            return None

        def job(_report: object) -> InstalledModel:
            return self.library.remove(model.name)

        def done(_removed: InstalledModel) -> None:
            self.refresh_installed()
            self.model_changed.emit()

        return self._run(job, done, self.status.setText)

    def choose_import(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, _("Import a GGUF model"), str(Path.home()), _("GGUF models (*.gguf)")
        )
        if path:
            self.import_file(Path(path))

    def import_file(self, path: Path) -> BackgroundTask:
        """Read the header on a task thread (a file on a network share can be slow)."""

        def job(_report: object) -> InstalledModel:
            return self.library.import_file(path)

        def done(model: InstalledModel) -> None:
            self.status.setText(_("Imported {name}.").format(name=model.name))
            self.refresh_installed()
            self.model_changed.emit()

        self.status.setText(_("Reading {name}…").format(name=path.name))
        return self._run(job, done, self.status.setText)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        if self._own_downloads:
            self.downloads.stop()  # the wish and what was fetched stay for a later resume
        super().closeEvent(event)
