"""The status bar's word on model downloads: which model, how far, how long; and when a better
model arrives while a smaller one is in use, a one-click switch (the conversation goes on)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from lanterne.desktop.download_service import DownloadService
from lanterne.engine.hub_download import Progress
from lanterne.engine.model_store import InstalledModel
from lanterne.foundation.settings import SettingsError
from lanterne.foundation.translation import _, format_size
from lanterne.model_downloads import about


class DownloadStatus(QWidget):
    switched = Signal()  # the model in use changed through the switch button

    def __init__(self, downloads: DownloadService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.downloads = downloads
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setMaximumWidth(120)
        self.bar.setTextVisible(False)
        self.bar.setAccessibleName(_("Model download"))
        self.switch_button = QPushButton()
        self.switch_button.clicked.connect(self.switch)
        self.ready: InstalledModel | None = None  # arrived, not in use: offered
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.bar, self.label, self.switch_button):
            layout.addWidget(widget)
        downloads.started.connect(self._started)
        downloads.progress.connect(self._progress)
        downloads.arrived.connect(self._arrived)
        downloads.failed.connect(self._failed)
        downloads.idle.connect(self._idle)
        self._update_visibility()
        if downloads.is_active():
            self._started(downloads.current_name)

    def _update_visibility(self) -> None:
        self.bar.setVisible(self.downloads.is_active() or self.bar.value() > 0)
        self.switch_button.setVisible(self.ready is not None)
        self.setVisible(bool(self.label.text()) or self.ready is not None)

    def _started(self, name: str) -> None:
        self.bar.setValue(0)
        self.bar.setVisible(True)
        self.label.setText(_("Downloading {name}…").format(name=name))
        self.setVisible(True)

    def _progress(self, p: Progress) -> None:
        self.bar.setValue(int(p.fraction * 1000))
        self.label.setText(
            _("Downloading {name}: {done} of {total}, {left}").format(
                name=self.downloads.current_name,
                done=format_size(p.done),
                total=format_size(p.total),
                left=about(p.eta),
            )
        )

    def _arrived(self, model: InstalledModel) -> None:
        library = self.downloads.library
        in_use = {library.active_path(), library.embedding_path()}
        if model.path in in_use or not library.active_path():
            self.label.setText(_("{name} is downloaded and in use.").format(name=model.name))
        else:  # a chat model arrived while another is in use: the user decides
            self.ready = model
            self.label.setText(_("{name} is downloaded.").format(name=model.name))
            self.switch_button.setText(_("Use {name} now").format(name=model.name))
        self.bar.setValue(0)
        self._update_visibility()

    def _failed(self, name: str, message: str) -> None:
        self.label.setText(
            _("{name} could not be downloaded: {error}").format(name=name, error=message)
        )
        self.label.setToolTip(message)
        self._update_visibility()

    def _idle(self) -> None:
        self.bar.setValue(0)
        self._update_visibility()

    def switch(self) -> None:
        """Answer with the model that arrived; the conversation and its history stay."""
        model, self.ready = self.ready, None
        if model is None:
            return
        try:
            self.downloads.library.use(model.name)
        except SettingsError as exc:
            self.label.setText(str(exc))
        else:
            self.label.setText(_("Now answering with {name}.").format(name=model.name))
            self.switched.emit()
        self._update_visibility()
