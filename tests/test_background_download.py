"""Model downloads that never make anyone wait (#29): queued and kept across restarts, going on
while the wizard and the main window are used, a question asked meanwhile answered when the
model arrives, and a one-click switch when a better model arrives while a starter is in use."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from lanterne.desktop.download_service import DownloadService
from lanterne.desktop.download_status import DownloadStatus
from lanterne.desktop.first_run import FirstRunWizard
from lanterne.desktop.main_window import MainWindow
from lanterne.desktop.models_dialog import ModelsDialog
from lanterne.engine.catalog import CatalogError
from lanterne.engine.hub_download import Progress
from lanterne.foundation.policy import Policy
from lanterne.foundation.settings import Settings, SettingsError
from lanterne.model_downloads import DownloadQueue, Wanted, about, downloads_path, waiting_text
from lanterne.model_library import ModelLibrary
from support.cli import lanterne
from support.hub_server import Hub
from support.machines import machine

REPO, FILE = "ibm-granite/granite-4.0-h-tiny-GGUF", "granite-4.0-h-tiny-Q4_K_M.gguf"
MODEL = "granite-4.0-h-tiny"


def progress(done: int, total: int, eta: float | None, stage: str = "downloading") -> Progress:
    return Progress("f.gguf", 1, 1, stage, done, total, 1e6, eta)


def test_the_wish_is_kept_in_order_and_crossed_out_only_when_asked() -> None:
    queue = DownloadQueue(ModelLibrary(Settings()))
    queue.add("lfm2-8b-a1b")
    queue.add(MODEL, "Q8_0")
    queue.add("lfm2-8b-a1b")  # asked again: moves to the end, never twice
    assert [w.key for w in queue.wanted()] == [(MODEL, "Q8_0"), ("lfm2-8b-a1b", "Q4_K_M")]
    failed = queue.note_failure(queue.wanted()[0], "The hub cannot be reached.")
    again = DownloadQueue(ModelLibrary(Settings()))  # another start reads the same file
    assert again.wanted()[0] == failed and failed.error == "The hub cannot be reached."
    again.remove(Wanted(MODEL, "Q8_0"))
    assert [w.model_id for w in queue.wanted()] == ["lfm2-8b-a1b"]


def test_a_wish_that_cannot_happen_is_refused_in_words() -> None:
    queue = DownloadQueue(ModelLibrary(Settings()))
    with pytest.raises(CatalogError):
        queue.add("no-such-model")
    locked = Settings(policy=Policy(downloads=False))
    with pytest.raises(SettingsError, match="turned off by your organisation"):
        DownloadQueue(ModelLibrary(locked)).add(MODEL)
    assert queue.wanted() == []


def test_a_damaged_list_is_an_empty_one() -> None:
    downloads_path().write_text("{not json", encoding="utf-8")
    assert DownloadQueue(ModelLibrary(Settings())).wanted() == []


def test_the_time_left_is_said_as_people_say_it() -> None:
    assert about(42) == "about 42 s"
    assert about(185) == "about 3 min"
    assert about(4200) == "about 1 h 10 min"
    assert about(None) == "time left unknown"
    text = waiting_text(progress(2_254_857_830, 4_509_715_660, 180))
    assert text == "The model is downloading: 2.1 GB of 4.2 GB, about 3 min."
    assert "being checked" in waiting_text(progress(1, 2, None, "verifying"))


def test_quitting_keeps_the_wish_and_the_next_start_resumes_it(
    hub: Hub, qtbot: QtBot, gemma_model: Path
) -> None:
    hub.add(REPO, FILE, gemma_model)
    hub.rate = 40 * 1024 * 1024
    service = DownloadService(ModelLibrary(Settings()))
    service.request(MODEL)
    qtbot.waitUntil(
        lambda: (service.last_progress or progress(0, 1, 0)).done > 8 << 20, timeout=30000
    )
    service.stop()  # the app quits mid-download
    assert not Settings().get_str("model.path")
    assert [w.model_id for w in DownloadQueue(ModelLibrary(Settings())).wanted()] == [MODEL]

    hub.rate = None
    later = DownloadService(ModelLibrary(Settings()))  # the next start
    with qtbot.waitSignal(later.arrived, timeout=60000) as arrived:
        assert later.resume()
    assert arrived.args is not None and arrived.args[0].name == MODEL
    assert hub.gets()[-1].range is not None  # went on from where the first stopped
    qtbot.waitUntil(lambda: not later.is_active(), timeout=10000)
    assert DownloadQueue(ModelLibrary(Settings())).wanted() == []
    assert Settings().get_str("model.path").endswith(FILE)  # the first model is put to use


def test_a_failed_download_is_said_and_kept_for_the_next_start(hub: Hub, qtbot: QtBot) -> None:
    service = DownloadService(ModelLibrary(Settings()))  # the hub does not have the file
    with qtbot.waitSignal(service.failed, timeout=30000) as failed:
        service.request(MODEL)
    assert failed.args is not None and failed.args[0] == "Granite 4.0 H Tiny"
    qtbot.waitUntil(lambda: not service.is_active(), timeout=10000)
    kept = DownloadQueue(ModelLibrary(Settings())).wanted()
    assert [w.model_id for w in kept] == [MODEL] and kept[0].error


def test_a_question_asked_while_the_model_downloads_is_answered_when_it_arrives(
    hub: Hub, window: MainWindow, qtbot: QtBot, gemma_model: Path
) -> None:
    hub.add(REPO, FILE, gemma_model)
    hub.gate = threading.Event()  # the download waits until the question is asked
    window.downloads.request(MODEL)
    qtbot.waitUntil(lambda: "downloading" in window.question.placeholderText(), timeout=10000)
    assert window.download_status.isVisible()
    window.question.setPlainText("What is Debian?")
    window.ask()
    turn = window.chat.turns[-1]
    assert turn.status.startswith("The model is downloading")
    assert not window.ask_button.isEnabled() and window.stop_button.isEnabled()
    window.ask()  # a second question while one waits is not taken
    assert len(window.chat.turns) == 1
    hub.gate.set()
    qtbot.waitUntil(lambda: turn.finished, timeout=120000)
    assert not turn.error and turn.answer.strip()
    assert window.ask_button.isEnabled()
    assert window.question.placeholderText() == "Ask a question about your documents…"
    assert FILE in window.model_label.text() or "Model:" in window.model_label.text()


def test_stop_gives_up_a_waiting_question(
    hub: Hub, window: MainWindow, qtbot: QtBot, gemma_model: Path
) -> None:
    hub.add(REPO, FILE, gemma_model)
    hub.gate = threading.Event()
    window.downloads.request(MODEL)
    window.question.setPlainText("Quelle est la capitale ?")
    window.ask()
    window.stop()
    turn = window.chat.turns[-1]
    assert turn.finished and turn.error and "Stopped before the model arrived" in turn.status
    assert window.ask_button.isEnabled()
    hub.gate.set()
    window.downloads.stop()


def test_the_wizard_goes_on_while_the_model_downloads(
    hub: Hub, qtbot: QtBot, gemma_model: Path, docs_folder: Path
) -> None:
    hub.add(REPO, FILE, gemma_model)
    hub.gate = threading.Event()
    settings = Settings()
    downloads = DownloadService(ModelLibrary(settings))  # the app's, given to the wizard
    wizard = FirstRunWizard(settings, None, downloads)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.next()
    page = wizard.model_page
    qtbot.waitUntil(lambda: page.models.catalog.rowCount() > 0, timeout=30000)
    page.models.select_catalog_file(MODEL, "Q4_K_M")
    page.models.download_button.click()
    qtbot.waitUntil(lambda: "while the model downloads" in page.note.text(), timeout=10000)
    wizard.next()  # no waiting for gigabytes
    wizard.folders_page.add(docs_folder)
    wizard.next()
    wizard.accept()
    assert downloads.is_active()  # the wizard is gone, the download is not
    with qtbot.waitSignal(downloads.arrived, timeout=60000):
        hub.gate.set()
    assert Settings().get_str("model.path").endswith(FILE)


def test_a_better_model_arriving_is_offered_in_one_click(
    hub: Hub, qtbot: QtBot, gemma_model: Path, tiny_moe_model: Path
) -> None:
    hub.add(REPO, FILE, gemma_model)
    library = ModelLibrary(Settings())
    library.import_file(tiny_moe_model, use=True)  # the starter, in use
    downloads = DownloadService(library)
    status = DownloadStatus(downloads)
    qtbot.addWidget(status)
    with qtbot.waitSignal(downloads.arrived, timeout=60000):
        downloads.request(MODEL)
    assert Path(library.active_path()).name == tiny_moe_model.name  # not switched behind them
    assert status.ready is not None and status.switch_button.text() == "Use granite-4.0-h-tiny now"
    with qtbot.waitSignal(status.switched):
        status.switch_button.click()
    assert library.active_path().endswith(FILE) and Settings().get_str("model.path").endswith(FILE)
    assert status.switch_button.isHidden()


def test_models_list_says_what_waits_to_be_downloaded() -> None:
    queue = DownloadQueue(ModelLibrary(Settings()))
    queue.note_failure(queue.add(MODEL), "The hub cannot be reached.")
    shown = lanterne("models", "list", "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["downloads"] == [
        {"model_id": MODEL, "quant": "Q4_K_M", "error": "The hub cannot be reached."}
    ]
    said = lanterne("models", "list").stdout
    assert f"Waiting to download: {MODEL} Q4_K_M" in said and "The hub cannot be reached." in said


def test_download_both_answers_with_the_starter_then_offers_the_better_one(
    hub: Hub, qtbot: QtBot, gemma_model: Path, tiny_moe_model: Path
) -> None:
    """On an 8 GB laptop: "Download both" fetches the small model first and puts it to use,
    then the recommended one, offered in one click once it is here."""
    library = ModelLibrary(Settings())
    library.__dict__["hardware"] = machine(8)  # the cached probe, as on the laptop
    offer = library.starter_offer()
    assert offer is not None and offer.model.id == "granite-4.0-h-1b"
    hub.add(offer.model.repo, offer.quant.files[0], tiny_moe_model)
    hub.add(offer.recommended.repo, offer.recommended_quant.files[0], gemma_model)
    downloads = DownloadService(library)
    status = DownloadStatus(downloads)
    dialog = ModelsDialog(library, None, downloads)
    qtbot.addWidget(status)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.starter.offer is not None, timeout=30000)
    assert "Granite 4.0 H 1B" in dialog.starter.text.text()
    arrived: list[str] = []
    downloads.arrived.connect(lambda model: arrived.append(model.name))
    with qtbot.waitSignal(downloads.idle, timeout=120000):
        dialog.starter.button.click()
    assert arrived == [offer.model.id, offer.recommended.id]  # the small one first
    assert Path(library.active_path()).name == offer.quant.files[0]  # answering already
    assert status.ready is not None and status.ready.name == offer.recommended.id
    status.switch_button.click()
    assert Path(library.active_path()).name == offer.recommended_quant.files[0]
