"""One path of bench/first_answer.py, in its own process: the real window and wizard driven as
a user who clicks and types in no time, every milestone stamped when the app shows it."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

MODEL, QUANT = "granite-4.0-h-tiny", "Q4_K_M"
STARTER = "granite-4.0-h-1b"  # the catalog's starter: "Download both" fetches it first
POLL_S = 0.1  # the Search window is searched again this often until it lists a document


class Clock:
    def __init__(self, origin: float) -> None:
        self.origin = origin
        self.t: dict[str, float] = {}

    def mark(self, name: str) -> None:
        self.t.setdefault(name, time.monotonic() - self.origin)

    def has(self, name: str) -> bool:
        return name in self.t


def run_until(app: Any, done: Callable[[], bool], timeout: float) -> bool:
    """Process events until `done()`; False at the timeout."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            return False
        app.processEvents()
        time.sleep(0.001)
    return True


class Watch:
    """The window's own signals, stamped: download, index, embedding, answer."""

    def __init__(self, window: Any, clock: Clock, folders: int) -> None:
        self.window, self.clock, self.folders = window, clock, folders
        self.status: Any = None
        self.embedded: tuple[int, int] = (0, 0)
        window.downloads.progress.connect(self._download_progress)
        window.downloads.arrived.connect(
            lambda m: clock.mark("starter_done" if m.catalog_id == STARTER else "download_done")
        )
        window.downloads.failed.connect(lambda name, why: print(f"download failed: {name}: {why}"))
        window.indexing.status.connect(self._status)
        window.indexing.ready.connect(self._ready)
        window.indexing.embedding.connect(self._embedding)
        window.worker.model_ready.connect(lambda _r: clock.mark("model_loaded"))
        window.worker.token.connect(lambda _text: clock.mark("first_token"))
        window.stream.retrieved.connect(lambda _turn: clock.mark("sources_retrieved"))
        window.stream.settled.connect(lambda: clock.mark("answer_done"))

    def _download_progress(self, progress: Any) -> None:
        if progress.stage == "verifying":
            self.clock.mark("verifying")

    def _status(self, status: Any) -> None:
        self.status = status

    def words_done(self) -> bool:
        s = self.status
        return (
            s is not None
            and len(s.folders) == self.folders
            and s.pending == 0
            and all(f.documents > 0 for f in s.folders)
        )

    def _ready(self, _progress: Any) -> None:
        if self.words_done():
            self.clock.mark("words_indexed")
            self._check_vectors()

    def _embedding(self, progress: Any) -> None:
        self.embedded = (progress.embedded, progress.total)
        self._check_vectors()

    def _check_vectors(self) -> None:
        """Complete: every passage of the whole index (words done) has its vector."""
        embedded, total = self.embedded
        chunks = self.status.chunks if self.status is not None else -1
        if self.clock.has("words_indexed") and total == chunks and embedded >= total > 0:
            self.clock.mark("vectors_complete")


def drive(
    path: str, folders: list[Path], queries: tuple[str, str], args: argparse.Namespace
) -> dict[str, Any]:
    from PySide6.QtWidgets import QApplication

    from lanterne.context import AppContext
    from lanterne.desktop.first_run import FirstRunWizard
    from lanterne.desktop.main_window import MainWindow
    from lanterne.foundation.settings import Settings

    clock = Clock(args.t0)
    query, question = queries
    app = QApplication([])
    ctx = AppContext(Settings())
    if args.tokens:
        ctx.settings.set("model.max_answer_tokens", args.tokens)  # this session only
    window = MainWindow(ctx)  # as run_gui: the window, then the wizard over it
    watch = Watch(window, clock, len(folders))
    window.downloads.resume()
    window.show()
    clock.mark("window_shown")
    wizard = FirstRunWizard(ctx.settings, window, window.downloads)
    wizard.open()
    wizard.next()  # the language page as it is
    models = wizard.model_page.models
    if not run_until(app, lambda: models.catalog.rowCount() > 0, 120):
        raise TimeoutError("the wizard's catalog never listed")
    if path == "starter":  # what "Download both" asks for (its offer depends on the machine)
        window.downloads.request(STARTER)
        window.downloads.request(MODEL, QUANT)
    else:
        models.select_catalog_file(MODEL, QUANT)
        models.download_button.click()
    clock.mark("download_requested")
    if path == "today" and not run_until(app, lambda: clock.has("download_done"), args.timeout):
        raise TimeoutError("the download never arrived")
    wizard.next()
    wizard.folders_page.folders.clear()  # ~/Documents, when the machine has one
    for folder in folders:
        wizard.folders_page.add(folder)
    wizard.next()
    wizard.accept()
    for folder in wizard.folders():  # as _first_run's done()
        window.add_folder(folder)
    window.refresh_model_status()
    clock.mark("main_window")
    window.question.setPlainText(question)
    window.ask()
    clock.mark("asked")
    turn = window.chat.turns[-1]
    waited = turn.status
    search = window.open_search()
    last = [0.0]
    wanted = ["first_search_result", "words_indexed", "answer_done"]
    if not args.skip_vectors:
        wanted.append("vectors_complete")
    if path == "starter":  # the recommended model comes after the starter's answer
        wanted.append("download_done")

    def step() -> bool:
        if not clock.has("first_search_result") and not search.busy():
            if search.hits:
                clock.mark("first_search_result")
            elif time.monotonic() - last[0] >= POLL_S:
                last[0] = time.monotonic()
                search.search_now(query)
        return all(clock.has(name) for name in wanted)

    finished = run_until(app, step, args.timeout)
    status = watch.status
    result = {
        "path": path,
        "finished": finished,
        "t": {key: round(value, 2) for key, value in sorted(clock.t.items(), key=lambda i: i[1])},
        "documents": status.documents if status else 0,
        "chunks": status.chunks if status else 0,
        "embedded": list(watch.embedded),
        "waiting_status": waited,
        "answer": turn.answer,
        "answer_error": turn.error,
        "search_hits": len(search.hits),
        "query": query,
        "question": question,
    }
    search.close()
    window.shutdown()
    ctx.close()
    return result
