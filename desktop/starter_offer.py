"""The offer of a small model to answer with while the recommended one downloads, shown under
the recommendation in Models and in the first-run wizard."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from lanterne.engine.starter import StarterOffer
from lanterne.foundation.translation import _


class StarterOfferBar(QWidget):
    chosen = Signal(object)  # the StarterOffer: download the starter, then the recommended one

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.offer: StarterOffer | None = None
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.button = QPushButton(_("Download both"))
        self.button.setAccessibleDescription(
            _("Downloads the small model first, then the recommended one")
        )
        self.button.clicked.connect(self._choose)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.button)
        self.setVisible(False)

    def show_offer(self, offer: StarterOffer | None) -> None:
        self.offer = offer
        if offer is not None:
            self.text.setText(offer.reason + " " + offer.then)
        self.setVisible(offer is not None)

    def _choose(self) -> None:
        if self.offer is not None:
            self.chosen.emit(self.offer)
            self.setVisible(False)  # once: the downloads say the rest
