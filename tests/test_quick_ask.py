"""The quick-ask window, offscreen: summoned ready to type, asks, saves, expands, dismisses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from lanterne.context import AppContext
from lanterne.conversations.store import ConversationStore
from lanterne.desktop.app import Shortcut
from lanterne.desktop.main_window import MainWindow
from lanterne.desktop.quick_ask import QuickAskWindow
from lanterne.foundation.settings import Settings
from support import desktop_portal

pytestmark = pytest.mark.gui


@pytest.fixture
def windows(qtbot: QtBot) -> Iterator[tuple[MainWindow, QuickAskWindow]]:
    ctx = AppContext(Settings())
    main = MainWindow(ctx)
    quick = QuickAskWindow(ctx, main.store)
    qtbot.addWidget(main)
    qtbot.addWidget(quick)
    yield main, quick
    quick.close()
    main.close()
    ctx.close()


def test_summoned_near_the_top_centre_with_the_clipboard(
    windows: tuple[MainWindow, QuickAskWindow], qtbot: QtBot
) -> None:
    main, quick = windows
    main.ctx.settings.set("quick_ask.prefill", "clipboard")
    QGuiApplication.clipboard().setText("  le budget\n de 2025 ")
    quick.summon()
    qtbot.waitExposed(quick)
    assert quick.question.text() == "le budget de 2025"
    assert quick.question.selectedText() == "le budget de 2025"  # typing replaces it
    screen = QGuiApplication.primaryScreen().availableGeometry()
    assert abs(quick.geometry().center().x() - screen.center().x()) <= 2
    assert quick.geometry().top() < screen.center().y()
    QTest.keyClick(quick.question, Qt.Key.Key_Escape)
    assert not quick.isVisible()
    main.ctx.settings.set("quick_ask.prefill", "none")
    quick.summon()
    assert quick.question.text() == ""  # a new summon starts afresh


@pytest.mark.model
def test_enter_asks_and_ctrl_enter_opens_it_in_the_main_window(
    windows: tuple[MainWindow, QuickAskWindow], qtbot: QtBot, tiny_moe_model: Path
) -> None:
    main, quick = windows
    main.ctx.settings.set("model.max_answer_tokens", 6)
    main.ctx.settings.set("model.path", str(tiny_moe_model))
    quick.summon("Combien de temps cuit la tarte ?")
    with qtbot.waitSignal(quick.worker.finished, timeout=60000):
        QTest.keyClick(quick.question, Qt.Key.Key_Return)
    assert quick.answer.isVisible() and quick.answer.turns[0].finished
    with qtbot.waitSignal(quick.expand_requested, timeout=5000) as expanded:
        QTest.keyClick(quick.question, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    conversation_id = expanded.args[0]
    assert not quick.isVisible()
    main.open_conversation(conversation_id)
    qtbot.waitUntil(lambda: len(main.chat.turns) == 1, timeout=5000)
    assert main.chat.turns[0].question == "Combien de temps cuit la tarte ?"
    main.store.wait_idle(5)
    store = ConversationStore(main.ctx.conversations_path)
    assert [m.status for m in store.messages(conversation_id)] == ["complete", "complete"]
    store.close()


@pytest.mark.xserver
def test_on_wayland_the_desktop_s_binding_is_shown_and_its_presses_summon_the_window(
    windows: tuple[MainWindow, QuickAskWindow],
    qtbot: QtBot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not desktop_portal.available():
        pytest.skip("needs dbus-daemon and xdg-desktop-portal (dev.py installs them)")
    main, quick = windows
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    monkeypatch.setenv("QT_QPA_PLATFORM", "wayland")
    with desktop_portal.desktop_portal(tmp_path) as portal:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", portal.address)
        shortcut = Shortcut(quick, main)
        try:
            shortcut.register("ctrl+shift+space")
            qtbot.waitUntil(lambda: "Ctrl+Shift+Space" in main.statusBar().currentMessage())
            assert "bound by your desktop" in main.statusBar().currentMessage()
            portal.order("press")
            qtbot.waitUntil(quick.isVisible)
            quick.dismiss()
            portal.order("unbind")
            qtbot.waitUntil(lambda: "removed" in main.statusBar().currentMessage())
            assert "lanterne quick-ask" in main.statusBar().currentMessage()
        finally:
            shortcut.stop()
