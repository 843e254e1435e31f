"""Screenshots of Settings › Other apps (#25), for review and the docs:

    QT_QPA_PLATFORM=offscreen .venv/bin/python tests/support/api_settings_shots.py OUTDIR \\
        [--language en|fr]

`<language>-settings-api.png`: the page with the switch on and the app's own API server running
on 127.0.0.1:8765 (a throwaway data folder, the token in a keychain held in memory), the token
masked.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def take(out: Path, language: str) -> Path:
    from PySide6.QtWidgets import QApplication

    from lanterne.context import AppContext
    from lanterne.desktop.api_service import ApiService
    from lanterne.desktop.interface_language import switch_language
    from lanterne.desktop.screen_capture import ScreenCapture
    from lanterne.desktop.settings_dialog import SettingsDialog
    from lanterne.foundation.settings import Settings
    from support.remote_server import MemoryKeyring, keyring_backend

    _app = QApplication.instance() or QApplication([])  # kept alive while windows exist

    capture = ScreenCapture(out, language)
    wait = capture.wait

    switch_language(language)
    with keyring_backend(MemoryKeyring()):
        settings = Settings()
        settings.set("ui.language", language)
        settings.set("api.enabled", True)
        settings.save()
        ctx = AppContext(Settings())
        service = ApiService(ctx)
        service.apply_settings()
        wait(lambda: not service.starting)
        dialog = SettingsDialog(ctx.settings, api=service)
        dialog.show()
        dialog.tabs.setCurrentWidget(dialog.api_page)
        wait(lambda: dialog.api_page.copy_token.isEnabled())
        path = capture.shoot(dialog, "settings-api")
        dialog.close()
        service.stop()
        ctx.close()
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--language", choices=("en", "fr"), default="en")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ["LANTERNE_HOME"] = tempfile.mkdtemp(prefix="lanterne-shots-home-")
    os.environ.pop("LANTERNE_API_KEY", None)
    print(take(args.out.resolve(), args.language))
    return 0


if __name__ == "__main__":
    sys.exit(main())
