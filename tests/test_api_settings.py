"""Settings › Other apps and the API server inside the app: the switch saved, the token masked,
shown, copied and renewed (in a keychain of the test's own), the warning when the address opens
Lanterne to the network, the page locked by the policy; and a real server on a free port that
answers with the token while the switch is on, and is gone once it is off or the app shuts down."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator

import keyring.backends.fail
import pytest
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QMessageBox
from pytestqt.qtbot import QtBot

from lanterne.context import AppContext
from lanterne.desktop.api_service import ApiService, ApiStatusLabel
from lanterne.desktop.api_settings import ApiPage
from lanterne.desktop.main_window import MainWindow
from lanterne.desktop.settings_dialog import SettingsDialog
from lanterne.foundation.policy import Policy
from lanterne.foundation.settings import Settings
from lanterne.serve import access
from support.remote_server import MemoryKeyring, keyring_backend

pytestmark = pytest.mark.gui


@pytest.fixture(autouse=True)
def fresh_token(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No token from the environment or from an earlier test's keychain."""
    monkeypatch.delenv(access.TOKEN_ENV, raising=False)
    access.forget_cached_token()
    yield
    access.forget_cached_token()


_open: list[SettingsDialog] = []  # the dialogs are kept until the test ends


@pytest.fixture(autouse=True)
def close_dialogs() -> Iterator[None]:
    yield
    while _open:
        _open.pop().close()


def shown_page(qtbot: QtBot, dialog: SettingsDialog) -> ApiPage:
    _open.append(dialog)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.tabs.setCurrentWidget(dialog.api_page)
    qtbot.waitExposed(dialog)
    return dialog.api_page


def stored(memory_keyring: MemoryKeyring) -> str:
    (token,) = memory_keyring.passwords.values()
    return token


def test_the_page_replaces_the_generic_editors_and_saves_the_switch(
    qtbot: QtBot, memory_keyring: MemoryKeyring
) -> None:
    dialog = SettingsDialog(Settings())
    page = shown_page(qtbot, dialog)
    assert page.enabled.text() == "Let other apps on this computer use Lanterne"
    assert not page.enabled.isChecked()
    assert dialog.tabs.tabText(dialog.tabs.indexOf(page)) == "Other apps"
    assert set(page.readers) == {
        "api.enabled",
        "api.host",
        "api.port",
        "api.allowed_origins",
        "api.queue_limit",
    }
    assert page.url.text() == "http://127.0.0.1:8765/v1"
    page.enabled.setChecked(True)
    page.port.setValue(9123)
    page.origins.setText("https://intranet.example.org")
    with qtbot.waitSignal(dialog.saved, timeout=5000):
        dialog.apply()
    again = Settings()
    assert again.get_bool("api.enabled")
    assert again.get_int("api.port") == 9123
    assert again.get_str("api.allowed_origins") == "https://intranet.example.org"
    assert again.get_str("api.host") == "127.0.0.1"


def test_the_token_is_masked_then_shown_and_copied(
    qtbot: QtBot, memory_keyring: MemoryKeyring
) -> None:
    page = shown_page(qtbot, SettingsDialog(Settings()))
    qtbot.waitUntil(lambda: bool(page.token.text()), timeout=5000)
    token = stored(memory_keyring)  # created on first use, in the keychain
    assert page.token.text() == token and len(token) >= 32
    assert page.token.echoMode() == QLineEdit.EchoMode.Password
    assert token not in page.token.displayText()
    page.show_token.click()
    assert page.token.echoMode() == QLineEdit.EchoMode.Normal
    assert page.token.displayText() == token
    assert page.show_token.text() == "Hide"
    page.show_token.click()
    assert page.token.echoMode() == QLineEdit.EchoMode.Password
    page.copy_token.click()
    assert QApplication.clipboard().text() == token
    assert page.token_note.text() == "Token copied."


def renew_box(page: ApiPage) -> QMessageBox:
    box = page.confirm
    assert box is not None and box.isVisible()
    assert "stop working" in box.text()
    return box


def test_renew_asks_first_then_changes_the_token(
    qtbot: QtBot, memory_keyring: MemoryKeyring
) -> None:
    page = shown_page(qtbot, SettingsDialog(Settings()))
    qtbot.waitUntil(lambda: page.renew.isEnabled(), timeout=5000)
    old = page.token.text()
    page.renew.click()
    renew_box(page).button(QMessageBox.StandardButton.Cancel).click()
    assert page.token.text() == old == stored(memory_keyring)

    page.renew.click()
    box = renew_box(page)
    (renew,) = [b for b in box.buttons() if b.text() == "Renew"]
    renew.click()
    qtbot.waitUntil(lambda: page.token.text() not in ("", old), timeout=5000)
    assert page.token.text() == stored(memory_keyring) == access.api_token()
    assert page.renew.isEnabled()


def test_a_token_from_the_environment_is_shown_and_not_renewed(
    qtbot: QtBot, memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(access.TOKEN_ENV, "script-token-123")
    page = shown_page(qtbot, SettingsDialog(Settings()))
    qtbot.waitUntil(lambda: page.token.text() == "script-token-123", timeout=5000)
    assert not page.renew.isEnabled()
    assert "LANTERNE_API_KEY" in page.token_note.text()
    assert memory_keyring.passwords == {}


def test_no_keychain_says_so_and_names_the_variable(qtbot: QtBot) -> None:
    with keyring_backend(keyring.backends.fail.Keyring()):  # type: ignore[no-untyped-call]
        page = shown_page(qtbot, SettingsDialog(Settings()))
        qtbot.waitUntil(lambda: "LANTERNE_API_KEY" in page.token_note.text(), timeout=5000)
    note = page.token_note.text()
    assert "keychain" in note and "environment variable LANTERNE_API_KEY" in note
    assert page.token.text() == "" and not page.copy_token.isEnabled()


def test_an_address_open_to_the_network_is_warned_about(
    qtbot: QtBot, memory_keyring: MemoryKeyring
) -> None:
    page = shown_page(qtbot, SettingsDialog(Settings()))
    assert page.warning.isHidden()
    page.host.setText("0.0.0.0")
    assert not page.warning.isHidden()
    text = page.warning.text()
    assert "Other computers on the network can reach Lanterne at " in text
    assert f"http://{socket.gethostname()}:8765" in text
    assert "anyone with the token can read answers from your documents" in text
    page.host.setText("192.168.1.20")
    assert "http://192.168.1.20:8765" in page.warning.text()
    for loopback in ("localhost", "127.0.0.1", "::1"):
        page.host.setText(loopback)
        assert page.warning.isHidden(), loopback
    assert page.url.text() == "http://[::1]:8765/v1"
    page.host.setText("")  # would listen on every address: kept on this computer instead
    assert page.warning.isHidden() and page.readers["api.host"]() == "127.0.0.1"


def privacy_text(dialog: SettingsDialog) -> str:
    page = dialog.tabs.widget(dialog.tabs.count() - 1)
    assert page is not None and dialog.tabs.tabText(dialog.tabs.count() - 1) == "Privacy"
    (label,) = [w for w in page.findChildren(QLabel) if w.accessibleName() == "Privacy"]
    return label.text()


def test_the_privacy_page_says_who_may_ask(qtbot: QtBot, memory_keyring: MemoryKeyring) -> None:
    def privacy() -> str:
        dialog = SettingsDialog(settings)
        shown_page(qtbot, dialog)
        return privacy_text(dialog)

    settings = Settings()
    assert "the token" not in privacy()
    settings.set("api.enabled", True)
    assert "apps on this computer that have the token (Settings › Other apps)" in privacy()
    settings.set("api.host", "0.0.0.0")
    network = "other computers on the network that have the token can ask Lanterne at {url}"
    assert network.format(url=f"http://{socket.gethostname()}:8765") in privacy()


def test_a_policy_that_turns_it_off_locks_the_page(
    qtbot: QtBot, memory_keyring: MemoryKeyring
) -> None:
    settings = Settings(policy=Policy(settings={"api.enabled": False}, sources=("test",)))
    dialog = SettingsDialog(settings)
    page = shown_page(qtbot, dialog)
    assert "api.enabled" not in dialog._readers
    assert page.policy_note.isVisibleTo(page)
    assert "Your organisation has turned this off" in page.policy_note.text()
    for widget in (page.enabled, page.host, page.port, page.token, page.renew, page.origins):
        assert not widget.isEnabled()
    assert page.policy_note.isEnabled()
    qtbot.wait(100)
    assert memory_keyring.passwords == {}  # no token is made for a server that cannot run


def test_a_policy_that_turns_it_on_leaves_the_token_usable(
    qtbot: QtBot, memory_keyring: MemoryKeyring
) -> None:
    settings = Settings(policy=Policy(settings={"api.enabled": True}, sources=("test",)))
    page = shown_page(qtbot, SettingsDialog(settings))
    assert page.enabled.isChecked() and not page.enabled.isEnabled()
    assert page.policy_note.text() == "Your organisation has turned this on."
    qtbot.waitUntil(lambda: page.copy_token.isEnabled(), timeout=5000)


def get_models(base: str, token: str | None) -> int:
    request = urllib.request.Request(f"{base}/v1/models")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.load(response)["object"] == "list"
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def refused(base: str) -> bool:
    try:
        get_models(base, None)
    except urllib.error.URLError:
        return True
    return False


@pytest.fixture
def ctx(memory_keyring: MemoryKeyring) -> Iterator[AppContext]:
    settings = Settings()
    settings.set("api.port", 0)  # a free port, whatever else runs here
    context = AppContext(settings)
    yield context
    context.close()


def switch(qtbot: QtBot, service: ApiService, enabled: bool) -> None:
    """Flip the switch as Settings would, and wait until the GUI has heard the outcome."""
    service._ctx.settings.set("api.enabled", enabled)
    future = service.apply_settings()
    assert future is not None and service.starting
    future.result(20)
    qtbot.waitUntil(lambda: not service.starting, timeout=5000)


def test_the_app_runs_the_server_while_the_switch_is_on(qtbot: QtBot, ctx: AppContext) -> None:
    service = ApiService(ctx)
    label = ApiStatusLabel(service)
    switch(qtbot, service, True)
    url = service.url
    assert url is not None and url.startswith("http://127.0.0.1:")
    assert label.text() == f"Other apps can use Lanterne at {url}"
    token = access.api_token()
    assert get_models(url, token) == 200
    assert get_models(url, None) == 401
    assert get_models(url, "not-the-token") == 401

    ctx.settings.set("api.host", "localhost")  # a new address: restarted there
    switch(qtbot, service, True)
    moved = service.url
    assert moved is not None and moved.startswith("http://localhost:")
    assert get_models(moved, token) == 200

    switch(qtbot, service, False)
    assert service.url is None and label.isHidden()
    assert refused(moved)
    service.stop()


def test_a_port_in_use_is_said_in_words(qtbot: QtBot, ctx: AppContext) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    ctx.settings.set("api.port", port)
    service = ApiService(ctx)
    try:
        with qtbot.waitSignal(service.failed, timeout=20000) as failed:
            switch(qtbot, service, True)
        message = failed.args[0] if failed.args else ""
        assert message.startswith("Other apps cannot use Lanterne: Port ")
        assert f"Port {port} is already in use" in message
        assert service.url is None
        dialog = SettingsDialog(ctx.settings, api=service)
        page = shown_page(qtbot, dialog)
        assert page.state.text() == message and not page.state.isHidden()
    finally:
        service.stop()
        taken.close()


def test_saving_settings_turns_it_on_and_shutdown_stops_it(qtbot: QtBot, ctx: AppContext) -> None:
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.services.api = service = ApiService(ctx, window)
    dialog = window.open_settings()
    page = dialog.api_page
    dialog.tabs.setCurrentWidget(page)
    page.enabled.setChecked(True)
    with qtbot.waitSignal(service.changed, timeout=5000):
        dialog.apply()
    qtbot.waitUntil(lambda: service.url is not None, timeout=20000)
    url = str(service.url)
    assert get_models(url, access.api_token()) == 200
    assert Settings().get_bool("api.enabled")  # saved: on again at the next start
    window.shutdown()
    assert refused(url)
    assert service.apply_settings() is None  # stopped for good
