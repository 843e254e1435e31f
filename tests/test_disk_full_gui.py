"""A full disk in the app, on a small filesystem the tests make and fill: the answer stays on
screen and is saved once there is room, the status bar and Knowledge say which folder is full and
how much to free, and indexing goes on by itself once a file is deleted."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from lanterne.conversations.store import ConversationStore
from lanterne.desktop.answer_recorder import AnswerRecorder, ConversationRef
from lanterne.desktop.chat_view import Turn
from lanterne.desktop.main_window import MainWindow
from lanterne.desktop.settings_dialog import SettingsDialog
from lanterne.foundation.settings import Settings
from support.small_disk import fill, needs_root, small_disk

pytestmark = [pytest.mark.gui, needs_root]
OpenWindow = Callable[[], MainWindow]


@pytest.mark.slow
def test_an_answer_streamed_onto_a_full_disk_is_kept_and_saved_once_there_is_room(
    qtbot: QtBot, tmp_path: Path
) -> None:
    from lanterne.desktop.store_thread import StoreThread

    with small_disk(tmp_path / "small", size_mb=8) as small:
        path = small / "conversations.sqlite3"
        thread = StoreThread(lambda: ConversationStore(path))
        thread.submit(lambda store: store.conversations())
        assert thread.wait_idle(10)  # opened while there was room
        recorder = AnswerRecorder(thread)
        failures: list[str] = []
        thread.failed.connect(failures.append)
        filler = fill(small)

        turn = Turn(question="Que dit le rapport sur les sauvegardes ?")
        recorder.begin_question(ConversationRef(), turn)
        for word in ["Les", "sauvegardes", "tournent", "chaque", "nuit", "à", "deux", "heures"]:
            turn.answer += word + " "  # as tokens arrive; the recorder saves every second
            qtbot.wait(250)
        qtbot.waitUntil(lambda: bool(failures), timeout=10000)
        recorder.finish(turn.answer, "complete", None)
        (message,) = failures  # said once, not at every save
        assert f"The disk holding {small} is full" in message
        assert "stays on screen but is not saved yet" in message
        assert turn.answer.startswith("Les sauvegardes tournent")  # still there to be read

        with qtbot.waitSignal(thread.saved_again, timeout=15000):
            filler.unlink()
        assert thread.wait_idle(10)
        thread.close()
        store = ConversationStore(path)
        try:
            (conversation,) = store.conversations()
            saved = [(m.role, m.text, m.status) for m in store.messages(conversation.id)]
        finally:
            store.close()
        assert saved == [
            ("user", turn.question, "complete"),
            ("assistant", turn.answer, "complete"),
        ]
        assert failures == [message]


@pytest.mark.model
def test_the_window_says_where_the_disk_is_full_and_goes_on_once_there_is_room(
    qtbot: QtBot, open_window: OpenWindow, lanterne_home: Path, docs_folder: Path
) -> None:
    with small_disk(lanterne_home, size_mb=24):  # the data folder itself
        window = open_window()
        qtbot.waitUntil(lambda: window.indexing.last_status is not None, timeout=30000)
        assert window.store.wait_idle(10)
        filler = fill(lanterne_home)

        window.question.setPlainText("Quand le script de sauvegarde s'exécute-t-il ?")
        with qtbot.waitSignal(window.store.failed, timeout=30000) as failed:
            window.ask()  # no model: the answer is an error, shown and saved as any answer
        assert f"The disk holding {lanterne_home} is full" in str(failed.args[0])
        assert window.statusBar().currentMessage().startswith("Conversations could not be saved")
        assert "Quand le script de sauvegarde" in window.chat.toPlainText()

        panel = window.open_knowledge()
        panel.add_folder(docs_folder)
        qtbot.waitUntil(lambda: bool(window.disk_full_label.message), timeout=60000)
        shown = window.disk_full_label.text()
        assert f"The disk holding {lanterne_home} is full: free at least" in shown
        assert panel.status.text() == shown

        with qtbot.waitSignal(window.store.saved_again, timeout=15000):
            filler.unlink()
        qtbot.waitUntil(lambda: window.disk_full_label.message is None, timeout=15000)
        qtbot.waitUntil(lambda: "Up to date: 3 documents" in panel.status.text(), timeout=60000)
        assert window.store.wait_idle(10)
        store = ConversationStore(window.ctx.conversations_path)
        try:
            (conversation,) = store.conversations()
            roles = [(m.role, m.status) for m in store.messages(conversation.id)]
        finally:
            store.close()
        assert roles == [("user", "complete"), ("assistant", "error")]
        window.close()  # its threads stopped before the disk goes


def test_settings_saved_onto_a_full_disk_say_so_and_keep_the_file(
    qtbot: QtBot, lanterne_home: Path
) -> None:
    with small_disk(lanterne_home, size_mb=2):
        settings = Settings()
        settings.save()
        before = settings.path.read_bytes()
        dialog = SettingsDialog(settings)
        qtbot.addWidget(dialog)
        fill(lanterne_home)
        dialog.apply()
        qtbot.waitUntil(lambda: bool(dialog.error.text()), timeout=10000)
        assert f"The disk holding {lanterne_home} is full" in dialog.error.text()
        assert "were not saved" in dialog.error.text()
        assert settings.path.read_bytes() == before
        assert not settings.path.with_suffix(".json.tmp").exists()
        dialog.close()
