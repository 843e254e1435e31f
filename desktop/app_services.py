"""What the whole app shares, built in one place: the index service (through its bridge), the
conversations' store thread, the model downloads and, in the app, the API server for other
apps. The app hands them to the main window, quick-ask and the tray; no window builds its own
(a main window made alone, as in tests and tools, builds them here and stops them itself).

Their threads start once every window listens (`start()`), so that nothing said at start (a
database that cannot be opened, the index's first status) goes unheard; `stop()` ends them in
the order that keeps what is in flight.
"""

from __future__ import annotations

from PySide6.QtCore import QObject

from lanterne.context import AppContext
from lanterne.conversations.store import ConversationStore
from lanterne.desktop.api_service import ApiService
from lanterne.desktop.conversation_controller import ConversationController
from lanterne.desktop.download_service import DownloadService
from lanterne.desktop.indexing_bridge import IndexingBridge
from lanterne.desktop.store_thread import StoreThread
from lanterne.model_library import ModelLibrary


class AppServices:
    def __init__(self, ctx: AppContext, api: bool = False, parent: QObject | None = None) -> None:
        """`api`: the app's server for other apps, on while Settings › Other apps says so.
        `parent`: the window that owns them, when one does (they go with it)."""
        self.ctx = ctx
        self.indexing = IndexingBridge(ctx, parent)
        self.store = StoreThread(lambda: ConversationStore(ctx.conversations_path), start=False)
        self.store.submit(lambda store: store.recover_interrupted())  # a crash's, marked so
        library = ModelLibrary(ctx.settings, release=ctx.release_model_files)
        self.downloads = DownloadService(library, parent)  # they outlive any window
        self.api: ApiService | None = ApiService(ctx, parent) if api else None
        self._started = False
        self._stopped = False

    def start(self) -> None:
        """The threads begin: the conversations database opens, indexing starts, and the API
        server follows its settings. Idempotent."""
        if self._started:
            return
        self._started = True
        self.store.start()
        self.indexing.start()
        if self.api is not None:
            self.api.apply_settings()

    def stop(self, *answering: ConversationController) -> None:
        """Everything on threads, saving what is in flight: other apps' requests end, then the
        answers being written; downloads stop (the wish stays: the next start resumes), then
        indexing; the conversations last, once what is queued (the answer so far) is written.
        Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        if self.api is not None:
            self.api.stop()
        for controller in answering:
            controller.halt()
        self.downloads.stop()
        self.indexing.stop()
        self.store.close()
