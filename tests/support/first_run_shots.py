"""Screenshots of the first run that never waits (#29), for review and the README:

    QT_QPA_PLATFORM=offscreen .venv/bin/python tests/support/first_run_shots.py OUTDIR \\
        --model GGUF [--language en|fr]

- `<language>-wizard-found.png`: the wizard's model page on a machine where LM Studio and
  Ollama already hold GGUF files (a throwaway home holding links to GGUF), with the catalog's
  recommendation and the starter offer;
- `<language>-main-downloading.png`: the main window while the recommended model downloads
  from a local hub at a throttled speed, a question asked and waiting for it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

QUESTIONS = {
    "fr": "Comment installer un paquet avec apt ?",
    "en": "How do I install a package with apt?",
}


def _fake_apps(home: Path, model: Path) -> None:
    lms = home / ".lmstudio" / "models" / "lmstudio-community" / "gemma-3-270m-it-GGUF"
    lms.mkdir(parents=True)
    (lms / "gemma-3-270m-it-Q4_K_M.gguf").symlink_to(model)
    ollama = home / ".ollama" / "models"
    digest = "sha256-" + "ab" * 32
    (ollama / "blobs").mkdir(parents=True)
    (ollama / "blobs" / digest).symlink_to(model)
    manifest = ollama / "manifests" / "registry.ollama.ai" / "library" / "gemma3" / "270m"
    manifest.parent.mkdir(parents=True)
    layer = {"mediaType": "application/vnd.ollama.image.model", "digest": digest.replace("-", ":")}
    manifest.write_text(json.dumps({"layers": [layer]}), encoding="utf-8")


def take(out: Path, model: Path, language: str) -> list[Path]:
    from PySide6.QtWidgets import QApplication

    from lanterne.context import AppContext
    from lanterne.desktop.first_run import FirstRunWizard
    from lanterne.desktop.interface_language import switch_language
    from lanterne.desktop.main_window import MainWindow
    from lanterne.desktop.screen_capture import ScreenCapture
    from lanterne.foundation.settings import Settings
    from support.hub_server import hub_server

    _app = QApplication.instance() or QApplication([])  # kept alive while windows exist
    capture = ScreenCapture(out, language)
    shoot, saved = capture.shoot, capture.saved

    def wait(done: Callable[[], bool]) -> None:
        capture.wait(done, timeout=60)

    switch_language(language)
    with hub_server() as hub:
        settings = Settings()
        settings.set("ui.language", language)
        settings.set("models.hub_url", hub.url)
        settings.save()
        wizard = FirstRunWizard(Settings())
        wizard.show()
        wizard.next()
        page = wizard.model_page.models
        wait(lambda: page.catalog.rowCount() > 0 and not page.is_busy())
        shoot(wizard, "wizard-found")
        wizard.close()

        hub.add("ibm-granite/granite-4.0-h-tiny-GGUF", "granite-4.0-h-tiny-Q4_K_M.gguf", model)
        hub.rate = model.stat().st_size // 150  # as 4.2 GB over a 230 Mbit/s line
        ctx = AppContext(Settings())
        window = MainWindow(ctx)
        window.resize(1180, 720)
        window.show()
        window.downloads.request("granite-4.0-h-tiny")
        wait(lambda: window.downloads.last_progress is not None)
        window.question.setPlainText(QUESTIONS[language])
        window.ask()
        until = time.monotonic() + 4  # long enough for a speed and a time left
        wait(lambda: time.monotonic() > until)
        shoot(window, "main-downloading")
        window.downloads.stop()
        window.quit()
        ctx.close()
    return saved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--model", type=Path, required=True, help="a chat GGUF")
    parser.add_argument("--language", choices=sorted(QUESTIONS), default="en")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="lanterne-shots-home-"))
    os.environ["HOME"] = str(home)
    for variable in ("XDG_DATA_HOME", "XDG_CACHE_HOME", "HF_HOME", "HF_HUB_CACHE", "OLLAMA_MODELS"):
        os.environ.pop(variable, None)
    os.environ["LANTERNE_HOME"] = str(home / "lanterne")
    _fake_apps(home, args.model.resolve())
    for path in take(args.out.resolve(), args.model.resolve(), args.language):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
