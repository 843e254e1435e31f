"""The status bar's word on the chat model: chosen, on its way, loading, or ready with its plan;
and the download under way, with a one-click switch when a better model arrives."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar

from lanterne.assistant.pipeline import LoadingModel, ModelReady
from lanterne.desktop.answer_stream import loading_text, model_status_text
from lanterne.desktop.download_service import DownloadService
from lanterne.desktop.download_status import DownloadStatus
from lanterne.desktop.workers import AskWorker
from lanterne.foundation.settings import Settings
from lanterne.foundation.translation import _


class ModelStatus:
    def __init__(self, settings: Settings, downloads: DownloadService, bar: QStatusBar) -> None:
        self.settings = settings
        self.downloads = downloads
        self.label = QLabel()
        self.loading_bar = QProgressBar()
        self.loading_bar.setRange(0, 0)  # llama.cpp says nothing of its progress: busy, not %
        self.loading_bar.setMaximumWidth(120)
        self.loading_bar.setAccessibleName(_("Loading the model"))
        self.loading_bar.hide()
        self.download = DownloadStatus(downloads)
        self.download.switched.connect(self.refresh)
        for signal in (downloads.arrived, downloads.started):
            signal.connect(lambda _arg: self.refresh())
        downloads.idle.connect(self.refresh)
        self.ready: ModelReady | None = None  # the loaded model, as last announced
        bar.addWidget(self.loading_bar)
        bar.addWidget(self.label, 1)
        bar.addWidget(self.download)

    def follow(self, worker: AskWorker) -> None:
        worker.loading.connect(self.on_loading)
        worker.model_ready.connect(self.on_ready)
        worker.failed.connect(self.on_failed)

    def refresh(self) -> None:
        """The model setting, as shown until the model loads (called again when it changes:
        wizard, Settings, Models, a download)."""
        self.ready = None
        path = self.settings.get_str("model.path")
        if path:
            self.label.setText(model_status_text(Path(path)))
        elif self.downloads.is_active():  # the download's own status says which and when
            self.label.clear()
        else:
            self.label.setText(_("No model chosen: File › Models…"))

    def retranslate(self) -> None:
        if self.ready is not None:
            self.on_ready(self.ready)
        else:
            self.refresh()

    def on_loading(self, loading: LoadingModel) -> None:
        self.label.setText(loading_text(loading))
        self.loading_bar.show()

    def on_ready(self, ready: ModelReady) -> None:
        self.ready = ready
        self.loading_bar.hide()
        self.label.setText(
            _("Model: {name} — {plan}").format(name=ready.engine.name, plan=ready.engine.summary)
        )
        self.label.setToolTip(ready.engine.description)

    def on_failed(self, _message: str) -> None:
        self.loading_bar.hide()
        if not Path(self.settings.get_str("model.path") or ".").expanduser().exists():
            self.refresh()  # its file was moved or deleted: the status says so
