"""The API server inside the app: on while `api.enabled` is, restarted when its address changes,
stopped at quit.

Starting and stopping happen on one worker thread of their own, one after the other, so the GUI
never waits on a socket or a server's threads, and a switch flipped twice quickly ends in the
state it was left in. What happened comes back as signals on the GUI thread.
"""

from __future__ import annotations

import contextlib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel

from lanterne.context import AppContext
from lanterne.desktop.interface_language import InterfaceLanguage
from lanterne.foundation.translation import _

if TYPE_CHECKING:
    from lanterne.serve.server import ApiServer

# How long quitting waits for the server to let go of its port and its requests.
STOP_WAIT_S = 10.0


@dataclass(frozen=True)
class Wanted:
    """What the settings ask of the server that only a restart changes."""

    host: str
    port: int
    queue_limit: int  # read at start (allowed origins are read at each request)


@dataclass(frozen=True)
class _Outcome:
    url: str | None  # where it answers, while on
    error: str | None  # why it could not start, in words


def wanted(ctx: AppContext) -> Wanted | None:
    """The server the settings ask for, or None when it must be off (the policy's lock
    included: a locked setting reads as the policy set it)."""
    settings = ctx.settings
    if not settings.get_bool("api.enabled"):
        return None
    return Wanted(
        settings.get_str("api.host").strip() or "127.0.0.1",  # never every address by mistake
        settings.get_int("api.port"),
        settings.get_int("api.queue_limit"),
    )


class ApiService(QObject):
    """Owns the app's `ApiServer`: call `apply_settings()` at start and after Settings are
    saved, `stop()` at quit."""

    changed = Signal()  # url / error / starting changed
    failed = Signal(str)  # the server could not start: why, in words
    _done = Signal(object)  # _Outcome, from the worker thread

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lanterne-api")
        self._server: ApiServer | None = None  # the worker thread's alone
        self._serving: Wanted | None = None  # what `_server` was started for
        self._pending = 0  # requests still queued on the worker
        self._closed = False
        self.url: str | None = None
        self.error: str | None = None
        self._done.connect(self._on_done)

    @property
    def starting(self) -> bool:
        """A start, stop or restart is under way."""
        return self._pending > 0

    def apply_settings(self) -> Future[None] | None:
        """Bring the server in line with the settings (on, off, another address), in the
        background; returns the worker's future (tests wait on it), None once stopped."""
        if self._closed:
            return None
        self._pending += 1
        self.changed.emit()
        return self._worker.submit(self._reconcile, wanted(self._ctx))

    def stop(self, timeout: float = STOP_WAIT_S) -> None:
        """Stop the server and the worker (at quit); waits at most `timeout` seconds for the
        server to close. Idempotent."""
        if self._closed:
            return
        self._closed = True
        stopped = self._worker.submit(self._reconcile, None)
        self._worker.shutdown(wait=False)
        with contextlib.suppress(TimeoutError):  # the process is ending: its port goes with it
            stopped.result(timeout)
        self.url = None

    def status_text(self) -> str:
        """The server's state in a sentence, or "" while it is simply off."""
        if self.url:
            return _("Other apps can use Lanterne at {url}").format(url=self.url)
        if self.error:
            return _("Other apps cannot use Lanterne: {error}").format(error=self.error)
        return ""

    def _reconcile(self, want: Wanted | None) -> None:
        """On the worker thread: stop what runs unless it is what is wanted, then start."""
        if self._server is not None and want == self._serving and self._server.running:
            outcome = _Outcome(self._server.url, None)
        else:
            outcome = self._restart(want)
        self._done.emit(outcome)

    def _restart(self, want: Wanted | None) -> _Outcome:
        # Imported here: the HTTP server's modules load only for those who turn it on.
        from lanterne.serve.server import ApiServer

        if self._server is not None:
            self._server.stop()
            self._server, self._serving = None, None
        if want is None:
            return _Outcome(None, None)
        server = ApiServer(self._ctx, host=want.host, port=want.port)
        try:
            url = server.start()
        except Exception as exc:  # ApiServerError, KeychainError...: said in words, no crash
            return _Outcome(None, str(exc) or type(exc).__name__)
        self._server, self._serving = server, want
        return _Outcome(url, None)

    def _on_done(self, outcome: _Outcome) -> None:
        self._pending = max(0, self._pending - 1)
        if self._closed:
            return
        self.url, self.error = outcome.url, outcome.error
        self.changed.emit()
        if outcome.error and not self._pending:
            self.failed.emit(self.status_text())


class ApiStatusLabel(QLabel):
    """The status bar's word while other apps can use Lanterne (hidden while it is off)."""

    def __init__(self, service: ApiService) -> None:
        super().__init__()
        self.service = service
        self.setAccessibleName(_("Other apps"))
        service.changed.connect(self.refresh)
        InterfaceLanguage.instance().changed.connect(self._on_language)  # a method: undone
        self.refresh()

    def _on_language(self, _language: str) -> None:
        self.refresh()

    def refresh(self) -> None:
        text = self.service.status_text() if self.service.url else ""
        self.setText(text)
        self.setVisible(bool(text))
