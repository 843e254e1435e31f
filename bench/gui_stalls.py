"""GUI responsiveness: event-loop stalls while the window indexes and while it streams answers.

    .venv/bin/python bench/gui_stalls.py [--turns 12] [--tokens 160] [--json]

The real main window (offscreen Qt, so no compositor in the way) runs a 5 ms heartbeat timer;
a stall is the time between two beats beyond those 5 ms. Measured in three phases:
  indexing   the handbook's French and English folders added through the window, until the
             index service has reconciled both;
  streaming  a question answered by the test suite's Gemma 3 270M, `--tokens` tokens, in a new
             conversation;
  long chat  the same in a conversation that already holds `--turns` answered turns (the chat
             view renders the whole conversation as tokens arrive).
Target (issue #6): no stall over 50 ms. Reports max, p99 and the count over 50 ms per phase.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.index_speed import handbook
from bench.models import gemma_test_model

BEAT_MS = 5
TARGET_MS = 50.0


class Heartbeat:
    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.beats: list[float] = []
        self.timer = QTimer()
        self.timer.setInterval(BEAT_MS)
        self.timer.timeout.connect(lambda: self.beats.append(time.perf_counter()))

    def measure(self, run: Any) -> dict[str, float]:
        self.beats = []
        self.timer.start()
        start = time.perf_counter()
        run()
        seconds = time.perf_counter() - start
        self.timer.stop()
        stalls = sorted(
            max(0.0, (b - a) * 1000 - BEAT_MS) for a, b in itertools.pairwise(self.beats)
        )
        if not stalls:
            return {"seconds": round(seconds, 2), "beats": 0}
        return {
            "seconds": round(seconds, 2),
            "beats": len(self.beats),
            "max_stall_ms": round(stalls[-1], 1),
            "p99_stall_ms": round(stalls[int(len(stalls) * 0.99) - 1], 1),
            "median_stall_ms": round(statistics.median(stalls), 2),
            "stalls_over_50ms": sum(s > TARGET_MS for s in stalls),
        }


def wait_for(app: Any, done: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not finish in time")
        app.processEvents()
        time.sleep(0.001)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=12, help="earlier turns in the long chat")
    parser.add_argument("--tokens", type=int, default=160, help="tokens per answer")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    home = Path(tempfile.mkdtemp(prefix="lanterne-gui-stalls-"))
    os.environ["LANTERNE_HOME"] = str(home)
    model = gemma_test_model()
    html = handbook()

    from PySide6.QtWidgets import QApplication

    from lanterne.context import AppContext
    from lanterne.conversations.store import ConversationStore
    from lanterne.desktop.main_window import MainWindow
    from lanterne.foundation.settings import Settings

    app = QApplication([])
    ctx = AppContext(Settings())
    ctx.settings.set("model.max_answer_tokens", args.tokens)
    window = MainWindow(ctx)
    window.set_model_path(model)
    window.show()
    heart = Heartbeat()
    results: dict[str, Any] = {}

    ready: list[object] = []
    window.indexing.ready.connect(ready.append)

    def index() -> None:
        ready.clear()
        window.add_folder(html / "fr-FR")
        window.add_folder(html / "en-US")
        wait_for(
            app, lambda: len(ready) >= 1 and not window.indexing.service._commands.qsize(), 300
        )
        wait_for(app, lambda: "documents" in window.index_label.text(), 60)

    results["indexing"] = heart.measure(index)

    answers: list[object] = []
    window.worker.finished.connect(answers.append)

    def ask(question: str) -> None:
        count = len(answers)
        window.question.setPlainText(question)
        window.ask()
        wait_for(app, lambda: len(answers) > count, 600)

    ask("Comment installer un paquet Debian ?")  # loads the model, outside the measures
    results["streaming"] = heart.measure(lambda: ask("Comment configurer le réseau ?"))

    window.store.wait_idle(10)
    store = ConversationStore(ctx.conversations_path)
    (conversation,) = store.conversations()
    (first_answer,) = [m for m in store.messages(conversation.id) if m.role == "assistant"][:1]
    long_id = store.create("Long")
    for i in range(args.turns):
        store.add_message(long_id, "user", f"Question {i} : comment configurer le réseau ?")
        store.add_message(long_id, "assistant", first_answer.text, "complete", first_answer.sources)
    store.close()
    window.open_conversation(long_id)
    wait_for(app, lambda: len(window.chat.turns) == args.turns, 30)
    results["long_chat"] = heart.measure(lambda: ask("Et pour le pare-feu ?"))
    results["turns_in_long_chat"] = args.turns
    results["tokens_per_answer"] = args.tokens
    results["target_ms"] = TARGET_MS
    window.close()
    ctx.close()

    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for phase in ("indexing", "streaming", "long_chat"):
            r = results[phase]
            print(
                f"{phase:10} {r['seconds']:7.2f} s  max stall {r.get('max_stall_ms', 0):7.1f} ms"
                f"  p99 {r.get('p99_stall_ms', 0):6.1f} ms"
                f"  over 50 ms: {r.get('stalls_over_50ms', 0)}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
