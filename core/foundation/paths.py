"""Where Lanterne keeps its data.

Everything lives under one directory so tests, benchmarks and portable installs can move it with
`LANTERNE_HOME`; otherwise the platform's per-user data directory is used.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "Lanterne"
HOME_ENV = "LANTERNE_HOME"


def data_dir() -> Path:
    """The data directory, created on first use."""
    override = os.environ.get(HOME_ENV)
    path = (
        Path(override).expanduser()
        if override
        else platformdirs.user_data_path(APP_NAME, appauthor=False)
    )
    path.mkdir(parents=True, exist_ok=True)
    return path


def index_db_path() -> Path:
    return data_dir() / "index.sqlite3"


def conversations_db_path() -> Path:
    return data_dir() / "conversations.sqlite3"


def settings_path() -> Path:
    return data_dir() / "settings.json"
