"""Settings › Other apps: the switch that lets other apps on this computer use Lanterne through
its OpenAI-compatible API, the address it listens on, the token they need, and the browser pages
allowed to use it.

The api.* settings get this page instead of the generic editors: the switch says what it does,
the address warns in words when it opens Lanterne to the network, and the token (kept in the
system keychain, read and renewed on a task thread since the keychain may wait on an unlock
prompt) is shown masked, with Show, Copy and Renew.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from functools import partial

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from lanterne.desktop.api_service import ApiService
from lanterne.desktop.workers import BackgroundTask
from lanterne.foundation.settings import Settings, Value
from lanterne.foundation.translation import _
from lanterne.serve.access import TOKEN_ENV, api_token, renew_api_token

DEFAULT_HOST = "127.0.0.1"
_WARNING_STYLE = "color: #b00020;"


def reachable_url(host: str, port: int) -> str:
    """The server's address as another computer would type it: a wildcard host (every
    address) is named by this computer's name."""
    host = host.strip()
    if host in ("", "0.0.0.0", "::", "[::]"):
        host = socket.gethostname()
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def api_privacy_line(settings: Settings) -> str:
    """What the Privacy page says while other apps may use Lanterne."""
    from lanterne.serve.server import is_loopback  # uvicorn: loaded only while it is on

    host = settings.get_str("api.host").strip() or DEFAULT_HOST
    if is_loopback(host):
        return _(
            "apps on this computer that have the token (Settings › Other apps) can ask "
            "Lanterne and read its answers from your documents"
        )
    return _(
        "other computers on the network that have the token can ask Lanterne at {url} and "
        "read its answers from your documents"
    ).format(url=reachable_url(host, settings.get_int("api.port")))


class ApiPage(QScrollArea):
    """The page; `readers` gives the dialog each unlocked api.* value to check and save."""

    def __init__(self, settings: Settings, service: ApiService | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.service = service
        self.readers: dict[str, Callable[[], Value]] = {}
        self._token_loaded = False
        self.locked_off = settings.is_locked("api.enabled") and not settings.get_bool("api.enabled")

        intro = QLabel(
            _(
                "Editors, scripts and note apps that speak OpenAI's API can ask Lanterne, "
                "with answers from your documents and their sources. Nothing leaves this "
                "computer unless you open it to the network below. They need the token."
            )
        )
        intro.setWordWrap(True)
        self.enabled = QCheckBox(_("Let other apps on this computer use Lanterne"))
        self.enabled.setChecked(settings.get_bool("api.enabled"))
        self.policy_note = QLabel()
        self.policy_note.setWordWrap(True)
        self.state = QLabel()  # the running server's word: on at …, or why it could not start
        self.state.setWordWrap(True)
        self.state.setAccessibleName(_("State of the server for other apps"))

        self.host = QLineEdit(settings.get_str("api.host"))
        self.host.setAccessibleName(_("Address Lanterne listens on"))
        self.port = QSpinBox()
        self.port.setRange(0, 65535)
        self.port.setSpecialValueText(_("any free port"))
        self.port.setValue(settings.get_int("api.port"))
        self.port.setAccessibleName(_("Port"))
        self.url = QLabel()
        self.url.setAccessibleName(_("Base URL for apps"))
        self.url.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.warning = QLabel()
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet(_WARNING_STYLE)
        self.warning.setAccessibleName(_("Warning"))

        self.token = QLineEdit()
        self.token.setReadOnly(True)
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setAccessibleName(_("Token for other apps"))
        self.show_token = QPushButton(_("Show"))
        self.show_token.setCheckable(True)
        self.show_token.toggled.connect(self._reveal)
        self.copy_token = QPushButton(_("Copy"))
        self.copy_token.clicked.connect(self._copy)
        self.renew = QPushButton(_("Renew…"))
        self.renew.clicked.connect(self._ask_renew)
        self.token_note = QLabel()
        self.token_note.setWordWrap(True)
        self.confirm: QMessageBox | None = None  # the open renew question, if any

        self.origins = QLineEdit(settings.get_str("api.allowed_origins"))
        self.origins.setPlaceholderText(_("none: web pages cannot use Lanterne"))
        self.origins.setAccessibleName(_("Web pages allowed to use Lanterne"))
        self.queue = QSpinBox()
        self.queue.setRange(1, 1000)
        self.queue.setValue(max(1, settings.get_int("api.queue_limit")))
        self.queue.setAccessibleName(_("Requests that may wait"))

        self.setWidgetResizable(True)
        self.setWidget(self._layout(intro))
        self._lock_what_policy_sets()
        self.host.textChanged.connect(self._show_address)
        self.port.valueChanged.connect(self._show_address)
        self.enabled.toggled.connect(self._show_address)
        self._show_address()
        if service is not None:
            service.changed.connect(self._show_state)
        self._show_state()

    def _layout(self, intro: QLabel) -> QWidget:
        token_row = QHBoxLayout()
        token_row.addWidget(self.token, 1)
        for button in (self.show_token, self.copy_token, self.renew):
            token_row.addWidget(button)
        address_row = QHBoxLayout()
        address_row.addWidget(self.host, 1)
        port_label = QLabel(_("Port:"))
        port_label.setBuddy(self.port)
        address_row.addWidget(port_label)
        address_row.addWidget(self.port)
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.addRow(_("Listens on:"), address_row)
        form.addRow(_("Base URL for apps:"), self.url)
        form.addRow(_("Token:"), token_row)
        form.addRow("", self.token_note)
        column = QVBoxLayout()
        column.addWidget(intro)
        column.addSpacing(8)
        column.addWidget(self.enabled)
        column.addWidget(self.policy_note)
        column.addWidget(self.state)
        column.addSpacing(8)
        column.addLayout(form)
        column.addWidget(self.warning)
        column.addSpacing(8)
        for text, editor in (
            (
                _(
                    "Web pages allowed to use Lanterne from a browser, by origin (such as "
                    "https://intranet.example.org), separated by spaces or commas. Empty: none."
                ),
                self.origins,
            ),
            (
                _(
                    "Requests that may wait for the model at once; more are told Lanterne is "
                    "busy and when to try again."
                ),
                self.queue,
            ),
        ):
            label = QLabel(text)
            label.setWordWrap(True)
            label.setBuddy(editor)
            column.addWidget(label)
            column.addWidget(editor)
            column.addSpacing(8)
        column.addStretch(1)
        page = QWidget()
        page.setLayout(column)
        return page

    def _lock_what_policy_sets(self) -> None:
        editors: dict[str, tuple[QWidget, Callable[[], Value]]] = {
            "api.enabled": (self.enabled, self.enabled.isChecked),
            "api.host": (self.host, self._host_text),
            "api.port": (self.port, self.port.value),
            "api.allowed_origins": (self.origins, self.origins.text),
            "api.queue_limit": (self.queue, self.queue.value),
        }
        for key, (editor, read) in editors.items():
            if self.settings.is_locked(key):
                editor.setEnabled(False)
                editor.setToolTip(_("Set by your organisation"))
            else:
                self.readers[key] = read
        if self.locked_off:
            self.policy_note.setText(
                _(
                    "Your organisation has turned this off: other apps cannot use Lanterne on "
                    "this computer."
                )
            )
            widget = self.widget()
            for child in widget.findChildren(QWidget) if widget is not None else ():
                if child is not self.policy_note:
                    child.setEnabled(False)
        elif self.settings.is_locked("api.enabled"):
            self.policy_note.setText(_("Your organisation has turned this on."))
        self.policy_note.setVisible(bool(self.policy_note.text()))

    def _host_text(self) -> str:
        """The address as saved: an empty one would listen on every address, so it is
        read as this computer's own."""
        return self.host.text().strip() or DEFAULT_HOST

    def _show_address(self) -> None:
        host, port = self._host_text(), self.port.value()
        url = reachable_url(host, port) if port else _("the port chosen at start")
        self.url.setText(f"{url}/v1" if port else url)
        from lanterne.serve.server import is_loopback  # uvicorn: loaded once Settings open

        warn = not is_loopback(host)
        self.warning.setText(
            _(
                "Other computers on the network can reach Lanterne at {url}: anyone with the "
                "token can read answers from your documents."
            ).format(url=reachable_url(host, port))
            if warn
            else ""
        )
        self.warning.setVisible(warn)

    def _show_state(self) -> None:
        service = self.service
        text, warn = "", False
        if service is not None:
            if service.starting:
                text = _("Starting…") if self.enabled.isChecked() else ""
            elif service.error:
                text, warn = service.status_text(), True
            elif service.url:
                text = service.status_text()
        self.state.setText(text)
        self.state.setStyleSheet(_WARNING_STYLE if warn else "")
        self.state.setVisible(bool(text))

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        """The token is read when the page is first shown: never for a dialog opened on
        another page, so the keychain is asked only when it is needed."""
        super().showEvent(event)
        if not self._token_loaded and not self.locked_off:
            self._token_loaded = True
            self._run(renew=False)

    def _run(self, renew: bool) -> None:
        """Read or renew the token on a task thread; the buttons wait meanwhile."""
        fetch = renew_api_token if renew else api_token
        for button in (self.show_token, self.copy_token, self.renew):
            button.setEnabled(False)
        self.token_note.setText(
            _("Renewing the token…") if renew else _("Reading the token from the system keychain…")
        )
        self.task = BackgroundTask(owner=self)
        self.task.connect_outcome(self._got_token, self._token_failed)
        self.task.run(lambda _progress: fetch())

    def _got_token(self, token: str) -> None:
        self.token.setText(token)
        self.token.setCursorPosition(0)  # its start in view, masked or not
        self.show_token.setEnabled(True)
        self.copy_token.setEnabled(True)
        from_env = bool(os.environ.get(TOKEN_ENV, "").strip())
        self.renew.setEnabled(not from_env)
        self.token_note.setText(
            _("Set by the environment variable {name}: change it there.").format(name=TOKEN_ENV)
            if from_env
            else _("Kept in the system keychain. Apps send it as their API key.")
        )

    def _token_failed(self, message: str) -> None:
        self.token.clear()
        self.token_note.setText(
            _(
                "{error} Other apps cannot use Lanterne without a token: set one in the "
                "environment variable {name} before starting Lanterne."
            ).format(error=message, name=TOKEN_ENV)
        )

    def _reveal(self, shown: bool) -> None:
        self.token.setEchoMode(QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password)
        self.show_token.setText(_("Hide") if shown else _("Show"))

    def _copy(self) -> None:
        clipboard = QGuiApplication.clipboard()
        clipboard.setText(self.token.text())
        self.token_note.setText(_("Token copied."))

    def _ask_renew(self) -> None:
        """A new token for every app: asked first, since the old one stops working at once."""
        box = QMessageBox(
            QMessageBox.Icon.Question,
            _("Renew the token?"),
            _("Apps using the current token will stop working until you give them the new one."),
            QMessageBox.StandardButton.Cancel,
            self,
        )
        renew = box.addButton(_("Renew"), QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        renew.clicked.connect(partial(self._run, True))
        box.finished.connect(lambda _result: setattr(self, "confirm", None))
        self.confirm = box
        box.open()
