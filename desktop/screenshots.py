"""Screenshots of every window, for review and for the README.

    DISPLAY=:N QT_QPA_PLATFORM=xcb python -m lanterne.desktop.screenshots OUTDIR \\
        --model GGUF --docs FOLDER [--language en|fr]

Runs the real windows on a throwaway data directory: FOLDER is indexed, the empty conversation
is taken (documents ready, example questions from their headings), a question is asked and
answered by GGUF (streamed, with its sources), then the main window, the quick-ask window, the
knowledge panel, the Search window (once every passage has its vector), the settings, the
evaluation page (the shipped sample question set, run with two settings), the answer rated and
being corrected, the demonstration-data export and the first-run wizard are saved as PNG files
named `<language>-<window>.png`. `--only-search` takes the Search window alone,
`--only-welcome` the empty conversation. Nothing here is
staged: what the model answers is what is shown.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from lanterne.desktop.main_window import MainWindow

QUESTIONS = {
    "fr": "Comment installer un paquet avec apt ?",
    "en": "How do I install a package with apt?",
}
# The Search window's question: about DHCP, in words the handbook's page does not use.
SEARCHES = {
    "fr": "distribuer automatiquement les adresses IP aux machines du réseau",
    "en": "hand out IP addresses to the machines on the network automatically",
}
# What the user adds when correcting the model's answer (the edit dialog's screenshot).
CORRECTIONS = {
    "fr": "Par exemple : apt install rsync (en administrateur).",
    "en": "For example: apt install rsync (as root).",
}


def shoot_search(window: MainWindow, shoot: Callable[[QWidget, str], None], language: str) -> None:
    """The Search window, once every passage has its vector, with a question in the other
    language than the documents' when they are the handbook's (found by meaning)."""

    from lanterne.desktop.screen_capture import ScreenCapture
    from lanterne.embedding_model import configured_embedder
    from lanterne.indexer.embedding import model_key

    embedder, _problem = configured_embedder(window.ctx.settings)
    if embedder is not None:

        def embedded() -> bool:
            store = window.ctx.open_store()
            done, total = store.vector_counts(model_key(embedder))
            store.close()
            return bool(total) and done == total

        ScreenCapture.wait(embedded, 1800)
    search = window.open_search()
    search.search_now(SEARCHES[language])
    ScreenCapture.wait(lambda: not search.busy(), 120)
    if search.hits and search.hits[0].more:
        search.expand(0)
    shoot(search, "search")
    search.close()


def take(
    out: Path,
    model: Path,
    docs: Path,
    language: str,
    only_search: bool = False,
    only_welcome: bool = False,
) -> list[Path]:
    from PySide6.QtWidgets import QApplication

    from lanterne.assets import asset_path
    from lanterne.context import AppContext
    from lanterne.desktop.first_run import FirstRunWizard
    from lanterne.desktop.main_window import MainWindow
    from lanterne.desktop.quick_ask import QuickAskWindow
    from lanterne.desktop.screen_capture import ScreenCapture
    from lanterne.foundation.settings import Settings
    from lanterne.foundation.translation import set_language

    _app = QApplication.instance() or QApplication([])  # kept alive while windows exist
    set_language(language)
    ctx = AppContext(Settings())
    ctx.settings.set("ui.language", language)
    ctx.settings.set("model.path", str(model))
    ctx.settings.set("model.max_answer_tokens", 120)
    window = MainWindow(ctx)
    window.show()
    capture = ScreenCapture(out, language, settle_rounds=20)
    saved = capture.saved

    def shoot(widget: QWidget, name: str) -> None:
        capture.shoot(widget, name)

    ready: list[object] = []
    window.indexing.ready.connect(ready.append)
    window.add_folder(docs)
    ScreenCapture.wait(lambda: bool(ready), 600)
    if only_search:
        shoot_search(window, shoot, language)
        window.quit()
        ctx.close()
        return saved
    ScreenCapture.wait(lambda: not window.welcome.busy(), 60)
    shoot(window, "welcome")  # the empty conversation: documents ready, examples, shortcut
    if only_welcome:
        window.quit()
        ctx.close()
        return saved
    answers: list[object] = []
    window.worker.finished.connect(answers.append)
    window.question.setPlainText(QUESTIONS[language])
    window.ask()
    ScreenCapture.wait(lambda: bool(answers), 600)
    window.store.wait_idle(10)
    shoot(window, "main")

    quick = QuickAskWindow(ctx, window.store)
    quick.summon(QUESTIONS[language])
    quick_answers: list[object] = []
    quick.worker.finished.connect(quick_answers.append)
    quick.ask()
    ScreenCapture.wait(lambda: bool(quick_answers), 600)
    shoot(quick, "quick-ask")
    quick.hide()

    panel = window.open_knowledge()
    ScreenCapture.wait(lambda: panel.folders.count() > 0, 30)
    shoot(panel, "knowledge")
    panel.close()
    shoot_search(window, shoot, language)

    settings = window.open_settings()
    shoot(settings, "settings")
    settings.close()

    # The evaluation page: the shipped sample set, indexed too, run with two settings.
    sample = Path(tempfile.mkdtemp(prefix="lanterne-sample-"))
    shutil.copytree(asset_path("eval"), sample, dirs_exist_ok=True)
    indexed: list[object] = []
    window.indexing.ready.connect(indexed.append)
    window.add_folder(sample / "documents")
    ScreenCapture.wait(lambda: bool(indexed), 600)
    evaluation = window.open_evaluation()
    evaluation.questions.setText(str(sample / "questions.jsonl"))
    evaluation.variants.setPlainText("answer.length=short\nanswer.grounding=general")
    evaluation.run()
    ScreenCapture.wait(lambda: evaluation.run_button.isEnabled(), 1800)
    ScreenCapture.wait(lambda: len(evaluation.chart.runs) == 2, 30)
    shoot(evaluation, "evaluation")
    evaluation.close()

    # Demonstration data: the answer rated and corrected, then the export page.
    window.feedback.rate(0, 1)
    edit = window.feedback.edit(0)
    if edit is not None:
        edit.editor.appendPlainText("\n" + CORRECTIONS[language])
        shoot(edit, "answer-edit")
        edit.accept()
    window.store.wait_idle(10)
    export = window.open_export()
    if export is not None:
        ScreenCapture.wait(lambda: export.count > 0, 30)
        shoot(export, "export")
        export.close()

    wizard = FirstRunWizard(ctx.settings)
    wizard.show()
    wizard.next()
    shoot(wizard, "wizard-model")
    wizard.close()
    window.quit()
    ctx.close()
    return saved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--model", type=Path, required=True, help="a chat GGUF")
    parser.add_argument("--docs", type=Path, required=True, help="a folder to index")
    parser.add_argument("--language", choices=sorted(QUESTIONS), default="en")
    parser.add_argument("--only-search", action="store_true", help="the Search window alone")
    parser.add_argument("--only-welcome", action="store_true", help="the empty conversation alone")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ["LANTERNE_HOME"] = tempfile.mkdtemp(prefix="lanterne-screenshots-")
    model, docs = args.model.resolve(), args.docs.resolve()
    for path in take(args.out, model, docs, args.language, args.only_search, args.only_welcome):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
