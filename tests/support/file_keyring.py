"""A keyring backend for tests that span processes. `PYTHON_KEYRING_BACKEND=
support.file_keyring.FileKeyring` makes keyring load it in every Lanterne process; it keeps
secrets in the JSON file named by $LANTERNE_TEST_KEYRING, outside the data directory, where
the OS keychain would keep them."""

from __future__ import annotations

import json
import os
from pathlib import Path

import keyring.backend
import keyring.errors
from jaraco.classes import properties


class FileKeyring(keyring.backend.KeyringBackend):
    @properties.classproperty
    def priority(cls) -> float:  # noqa: N805 (a class property: its argument is the class)
        # Lanterne reads it to tell a real keychain from keyring's "fail" backend.
        return 1.0

    def _path(self) -> Path:
        return Path(os.environ["LANTERNE_TEST_KEYRING"])

    def _load(self) -> dict[str, str]:
        path = self._path()
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}\n{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        secrets = self._load()
        secrets[f"{service}\n{username}"] = password
        self._path().write_text(json.dumps(secrets), encoding="utf-8")

    def delete_password(self, service: str, username: str) -> None:
        secrets = self._load()
        if secrets.pop(f"{service}\n{username}", None) is None:
            raise keyring.errors.PasswordDeleteError(username)
        self._path().write_text(json.dumps(secrets), encoding="utf-8")
