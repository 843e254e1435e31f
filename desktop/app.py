"""Starting the GUI: one instance per user; the app-wide services built once (desktop/
app_services.py) and handed to the main window, the tray and quick-ask with its hotkey; and a
clean shutdown at exit, the model freed last."""

from __future__ import annotations

import sys
from typing import Any

from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon

from lanterne import __version__, autostart
from lanterne.assets import asset_path
from lanterne.cli.output import error
from lanterne.context import AppContext
from lanterne.desktop.app_services import AppServices
from lanterne.desktop.first_run import FirstRunWizard, needs_first_run
from lanterne.desktop.hotkey import GlobalHotkey, HotkeyError, parse_hotkey
from lanterne.desktop.interface_language import InterfaceLanguage
from lanterne.desktop.main_window import MainWindow
from lanterne.desktop.quick_ask import QuickAskWindow
from lanterne.desktop.single_instance import (
    InstanceLock,
    InstanceServer,
    hand_over,
    send_to_running,
)
from lanterne.desktop.theme import apply_theme
from lanterne.engine.hub_download import Progress
from lanterne.foundation import paths
from lanterne.foundation.read_only_folder import DataFolderReadOnlyError, writable
from lanterne.foundation.settings import Settings
from lanterne.foundation.translation import _


def _application(argv: list[str] | None) -> QApplication:
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Lanterne")
    app.setApplicationVersion(__version__)
    app.setOrganizationName("Lanterne")
    app.setDesktopFileName("lanterne")
    QApplication.setWindowIcon(QIcon(str(asset_path("lanterne.svg"))))
    return app


class Tray:
    """The tray icon and its menu: the app lives here while its window is closed."""

    def __init__(self, services: AppServices, window: MainWindow, quick: QuickAskWindow) -> None:
        self.services = services
        self.icon = QSystemTrayIcon(QIcon(str(asset_path("lanterne.svg"))))
        self.icon.setToolTip("Lanterne")
        menu = QMenu()
        show = QAction(_("Open Lanterne"), menu)
        show.triggered.connect(lambda: raise_window(window))
        ask = QAction(_("Quick ask"), menu)
        ask.triggered.connect(lambda: quick.summon())
        self.pause = QAction(_("Pause indexing"), menu)
        self.pause.setCheckable(True)
        self.pause.toggled.connect(services.indexing.set_paused)
        services.indexing.paused_changed.connect(self.pause.setChecked)
        leave = QAction(_("Quit Lanterne"), menu)
        leave.triggered.connect(window.quit)
        for action in (show, ask, self.pause):
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(leave)
        self.menu = menu
        self.icon.setContextMenu(menu)
        self.icon.activated.connect(
            lambda reason: (
                raise_window(window) if reason == QSystemTrayIcon.ActivationReason.Trigger else None
            )
        )
        self._told = False
        window.hidden_to_tray.connect(self._tell_once)
        services.downloads.progress.connect(self._show_download)
        services.downloads.idle.connect(self._show_idle)
        if services.api is not None:
            services.api.changed.connect(self._show_idle)
        self._show_idle()
        self.icon.show()

    def _show_idle(self) -> None:
        """The tooltip between downloads: the name, and where other apps reach Lanterne."""
        if self.services.downloads.is_active():
            return
        api = self.services.api
        lines = ["Lanterne", api.status_text() if api is not None and api.url else ""]
        self.icon.setToolTip("\n".join(line for line in lines if line))

    def _show_download(self, progress: Progress) -> None:
        self.icon.setToolTip(
            _("Lanterne: downloading {name}, {percent}%").format(
                name=self.services.downloads.current_name, percent=int(progress.fraction * 100)
            )
        )

    def _tell_once(self) -> None:
        if not self._told:
            self._told = True
            self.icon.showMessage(
                "Lanterne",
                _("Lanterne keeps running here: indexing and quick-ask go on."),
                QSystemTrayIcon.MessageIcon.Information,
                4000,
            )


def raise_window(window: MainWindow) -> None:
    window.showNormal()
    window.raise_()
    window.activateWindow()


def _handle(request: dict[str, Any], window: MainWindow, quick: QuickAskWindow) -> None:
    if request.get("command") == "ping":
        return
    if request.get("command") == "quick-ask":
        text = request.get("text")
        quick.summon(text if isinstance(text, str) and text else None)
    else:
        raise_window(window)


class Shortcut:
    """The quick-ask shortcut, registered again when Settings change it; when it cannot be
    had, the window says why and what to do."""

    def __init__(self, quick: QuickAskWindow, window: MainWindow) -> None:
        self.quick = quick
        self.window = window
        self.hotkey: GlobalHotkey | None = None
        window.hotkey_changed.connect(self.register)

    def register(self, text: str) -> None:
        self.stop()
        if not text:
            return
        try:
            hotkey = GlobalHotkey(parse_hotkey(text))
            hotkey.activated.connect(lambda: self.quick.summon())
            hotkey.bound.connect(self._bound)
            hotkey.lost.connect(self._lost)
            hotkey.start()
        except HotkeyError as exc:
            self.window.statusBar().showMessage(str(exc), 30000)
            return
        self.hotkey = hotkey

    def stop(self) -> None:
        if self.hotkey is not None:
            self.hotkey.stop()
            self.hotkey = None

    def _bound(self, trigger: str) -> None:
        self.window.statusBar().showMessage(
            _("Quick ask: {trigger}, as bound by your desktop").format(trigger=trigger), 30000
        )

    def _lost(self, reason: str) -> None:
        self.window.statusBar().showMessage(reason, 30000)


def _first_run(window: MainWindow, shortcut: Shortcut) -> FirstRunWizard:
    wizard = FirstRunWizard(window.ctx.settings, window, window.services.downloads)

    def done() -> None:
        for folder in wizard.folders():
            window.add_folder(folder)
        shortcut.register(wizard.hotkey())
        window.refresh_model_status()

    wizard.accepted.connect(done)
    wizard.open()
    return wizard


def run_gui(
    settings: Settings | None = None,
    argv: list[str] | None = None,
    request: dict[str, Any] | None = None,
) -> int:
    """The app; `request` is what this launch asks for ({"command": "show"} by default). When
    Lanterne already runs for this user, the request goes to it and this launch ends."""
    request = request or {"command": "show"}
    app = _application(argv)
    InterfaceLanguage.instance()  # Qt's own strings in the user's language from the start
    if request.get("command") == "background":
        if send_to_running({"command": "ping"}):
            return 0  # already running: nothing to raise at login
    elif send_to_running(request):
        return 0
    if not writable(paths.data_dir()):  # nothing could be kept: said before anything fails
        return error(str(DataFolderReadOnlyError(paths.data_dir())))
    instance = InstanceLock()
    if not instance.acquire():  # another launch won the race, or is still starting
        if request.get("command") == "background" or hand_over(request):
            return 0
        return error(  # no console (lanterne-gui.exe): shown in a window by no_console.py
            _("Lanterne is already running for {path} but does not answer.").format(
                path=paths.data_dir()
            )
        )
    server = InstanceServer()
    server.listen()
    ctx = AppContext(settings)
    autostart.sync_at_start(ctx.settings)  # a locked start at login; a moved app
    apply_theme(app, ctx.settings.get_str("ui.theme"))
    services = AppServices(ctx, api=True)  # the API server: on while Settings › Other apps says so
    window = MainWindow(ctx, services)
    quick = QuickAskWindow(ctx, services.store)

    def expand(conversation_id: int) -> None:
        window.open_conversation(conversation_id)
        raise_window(window)

    quick.expand_requested.connect(expand)
    tray = Tray(services, window, quick) if QSystemTrayIcon.isSystemTrayAvailable() else None
    if tray is not None:
        window.keep_in_tray = ctx.settings.get_bool("ui.close_to_tray")
        app.setQuitOnLastWindowClosed(False)
    shortcut = Shortcut(quick, window)
    services.start()  # every window listens: nothing said at start goes unheard
    services.downloads.resume()  # a download the last session left half-way goes on
    shortcut.register(ctx.settings.get_str("quick_ask.hotkey"))
    server.request.connect(lambda r: _handle(r, window, quick))

    def shut_down() -> None:
        window.shutdown()  # its dialogs
        services.stop(window.controller, quick.controller)

    app.aboutToQuit.connect(shut_down)
    if request.get("command") == "quick-ask":
        _handle(request, window, quick)
    elif request.get("command") != "background" or tray is None:  # no tray: a window, always
        window.show()
    if needs_first_run(ctx.settings):
        _first_run(window, shortcut)
    try:
        return int(app.exec())
    finally:
        shortcut.stop()
        shut_down()  # the API server first: its requests use the model
        server.close()
        instance.release()
        ctx.close()  # free the model before the interpreter tears down llama.cpp
