"""Screenshots of a reasoning model's answer in the chat (#23), for review:

    DISPLAY=:N QT_QPA_PLATFORM=xcb .venv/bin/python tests/support/reasoning_shots.py OUTDIR \\
        [--language en|fr]

The real main window and quick-ask window on a throwaway data folder, the answer's events given
by the scripted assistant (none of the small models the tests run reasons), so that the shots
show the reasoning while it streams and once the answer is there:
`<language>-reasoning-live.png` (the model reasons: its line), `-reasoning-live-open.png` (the
same, opened), `-reasoning-collapsed.png` (the answer, its reasoning folded above it),
`-reasoning-open.png` (opened) and `<language>-quick-ask-reasoning.png` (the compact form).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

QUESTIONS = {
    "en": "How long does the apple pie bake?",
    "fr": "Combien de temps cuit la tarte aux pommes ?",
}
REASONING = {
    "en": (
        "The user asks how long the apple pie bakes. Source [1] is the recipe: it says forty "
        "minutes in an oven preheated to 180 degrees.\n\nSource [2] is about slicing the apples, "
        "not the baking time, so I will cite only [1]. The question is in English: answer in "
        "English, briefly."
    ),
    "fr": (
        "La question porte sur la cuisson de la tarte aux pommes. La source [1] est la recette : "
        "quarante minutes dans un four préchauffé à 180 degrés.\n\nLa source [2] parle de couper "
        "les pommes, pas de la cuisson : je ne cite que [1]. La question est en français : "
        "réponse en français, brève."
    ),
}
ANSWERS = {
    "en": "The apple pie bakes for **forty minutes** in an oven preheated to 180 °C [1].",
    "fr": "La tarte aux pommes cuit **quarante minutes** dans un four préchauffé à 180 °C [1].",
}
SNIPPETS = (
    ("cuisine/tarte.txt", "La tarte aux pommes cuit quarante minutes dans un four préchauffé."),
    ("cuisine/pommes.md", "Éplucher les pommes et les couper en fines lamelles."),
)


def take(out: Path, language: str) -> list[Path]:
    from PySide6.QtWidgets import QApplication

    from lanterne.context import AppContext
    from lanterne.desktop.interface_language import switch_language
    from lanterne.desktop.main_window import MainWindow
    from lanterne.desktop.quick_ask import QuickAskWindow
    from lanterne.desktop.screen_capture import ScreenCapture
    from lanterne.foundation.settings import Settings
    from support.scripted_answers import Script, ScriptedAssistant, citation

    _app = QApplication.instance() or QApplication([])  # kept alive while windows exist
    switch_language(language)
    settings = Settings()
    settings.set("ui.language", language)
    settings.set("ui.first_run_done", True)
    settings.save()
    ctx = AppContext(Settings())
    docs = Path(tempfile.mkdtemp(prefix="lanterne-shots-docs-"))
    sources = [citation(n, str(docs / path), text) for n, (path, text) in enumerate(SNIPPETS, 1)]
    words = REASONING[language].split(" ")
    reasoning = [w + " " for w in words[:-1]] + [words[-1]]
    answer = [w + " " for w in ANSWERS[language].split(" ")]
    gate = threading.Event()
    base = ctx.assistant
    ctx.assistant = ScriptedAssistant(base, Script(reasoning, answer, sources, gate))
    capture = ScreenCapture(out, language)
    wait, shoot, saved = capture.wait, capture.shoot, capture.saved

    window = MainWindow(ctx)
    window.resize(1200, 720)
    window.show()
    pieces: list[str] = []
    window.worker.thinking.connect(pieces.append)
    window.question.setPlainText(QUESTIONS[language])
    window.ask()
    wait(lambda: len(pieces) == len(reasoning))
    shoot(window, "reasoning-live")
    window.chat.toggle_reasoning(0)
    shoot(window, "reasoning-live-open")
    window.chat.toggle_reasoning(0)
    gate.set()
    wait(lambda: not window.busy())
    shoot(window, "reasoning-collapsed")
    window.chat.toggle_reasoning(0)
    shoot(window, "reasoning-open")

    quick_gate = threading.Event()
    ctx.assistant = ScriptedAssistant(base, Script(reasoning, answer, sources, quick_gate))
    quick = QuickAskWindow(ctx, window.store)
    quick_pieces: list[str] = []
    quick.worker.thinking.connect(quick_pieces.append)
    quick.summon(QUESTIONS[language])
    quick.ask()
    wait(lambda: len(quick_pieces) == len(reasoning))
    shoot(quick, "quick-ask-reasoning")
    quick_gate.set()
    wait(lambda: not quick.worker.is_running())
    quick.hide()
    window.store.wait_idle(10)
    window.quit()
    ctx.close()
    return saved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--language", choices=sorted(QUESTIONS), default="en")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ["LANTERNE_HOME"] = tempfile.mkdtemp(prefix="lanterne-shots-home-")
    for path in take(args.out.resolve(), args.language):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
