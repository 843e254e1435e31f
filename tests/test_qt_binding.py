"""The Qt binding itself: a version that corrupts reference counts must never be installed.

PySide6 6.12.0 drops a reference to `True` at every `Signal.emit()`; on Python 3.11 (where True
is not immortal) the app aborted with "bool_dealloc" after a few thousand signals, that is,
a few answers streamed token by token.
"""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QCoreApplication, QObject, Signal

pytestmark = pytest.mark.gui


class _Emitter(QObject):
    text = Signal(str)
    value = Signal(object)


def test_emitting_signals_keeps_reference_counts(qapp: QCoreApplication) -> None:
    emitter = _Emitter()
    received = [0]

    def count(_value: object) -> None:
        received[0] += 1

    emitter.text.connect(count)
    emitter.value.connect(count)
    before = (sys.getrefcount(True), sys.getrefcount(False), sys.getrefcount(None))
    for _ in range(200):
        emitter.text.emit("jeton")
        emitter.value.emit(None)
    after = (sys.getrefcount(True), sys.getrefcount(False), sys.getrefcount(None))
    assert received[0] == 400
    if sys.version_info < (3, 12):  # immortal from 3.12: their counts no longer move
        assert after == before
