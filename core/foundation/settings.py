"""Settings, declared once with type, default and description (in `setting_table.py`).

The declarations drive loading, validation and the generated reference `docs/settings.md`
(`python -m lanterne.foundation.settings > docs/settings.md`); a test keeps that file in step.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from lanterne.foundation import paths
from lanterne.foundation.atomic_file import write_text_atomic
from lanterne.foundation.policy import Policy, PolicyError, as_declared, load_policy
from lanterne.foundation.setting_table import SETTINGS as SETTINGS
from lanterne.foundation.setting_table import Setting as Setting
from lanterne.foundation.setting_table import Value as Value
from lanterne.foundation.translation import _

_BY_KEY = {s.key: s for s in SETTINGS}


class SettingsError(ValueError):
    """A settings file or value that cannot be used; says which and why."""


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _coerce(setting: Setting, value: Any) -> Value:
    """`value` as the setting's type (strings from the environment are converted), or an error."""
    result: Value | None = None
    if isinstance(value, str) and setting.type is not str:
        text = value.strip().lower()
        if setting.type is bool and text in _TRUE + _FALSE:
            result = text in _TRUE
        elif setting.type in (int, float):
            try:
                result = setting.type(text)
            except ValueError:
                result = None
    elif isinstance(value, bool):
        result = value if setting.type is bool else None
    elif isinstance(value, int | float) and setting.type in (int, float):
        result = (
            float(value) if setting.type is float else value if isinstance(value, int) else None
        )
    elif isinstance(value, str):
        result = value
    if result is None:
        raise SettingsError(
            _("Setting {key} expects a value of type {type}, not {value!r}.").format(
                key=setting.key, type=setting.type.__name__, value=value
            )
        )
    if setting.choices and result not in setting.choices:
        raise SettingsError(
            _("Setting {key} accepts {choices}, not {value!r}.").format(
                key=setting.key, choices=", ".join(setting.choices), value=value
            )
        )
    return result


def _locked_value(setting: Setting, value: Any, source: str) -> Value:
    """A policy's value for `setting`: registries and profiles write on/off as 1/0 or text, and
    numbers as text or whole reals, so exact conversions are made before the usual checks."""
    try:
        return _coerce(setting, as_declared(value, setting.type, setting.key, source))
    except PolicyError as exc:
        raise SettingsError(str(exc)) from exc
    except SettingsError as exc:  # a value outside the setting's choices
        raise SettingsError(
            _("In the policy {source}: {error}").format(source=source, error=exc)
        ) from exc


class Settings:
    """The user's settings, read from `settings.json` in the data directory, under the
    organisation's policy, whose values win and cannot be changed."""

    def __init__(self, path: Path | None = None, policy: Policy | None = None) -> None:
        self.path = path or paths.settings_path()
        self._values: dict[str, Value] = {}
        try:
            self.policy = load_policy() if policy is None else policy
        except PolicyError as exc:
            raise SettingsError(str(exc)) from exc
        self._locked: dict[str, Value] = {}
        source = ", ".join(self.policy.sources)
        for key, value in self.policy.settings.items():
            if key not in _BY_KEY:
                raise SettingsError(
                    _("The policy {source} locks an unknown setting: {key}").format(
                        source=source, key=key
                    )
                )
            self._locked[key] = _locked_value(_BY_KEY[key], value, source)
        if self.path.exists():
            try:
                raw = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise SettingsError(
                    _("Cannot read the settings file {path}: {error}").format(
                        path=self.path, error=exc
                    )
                ) from exc
            if not isinstance(raw, dict):
                raise SettingsError(
                    _("The settings file {path} must hold a JSON object.").format(path=self.path)
                )
            for key, value in raw.items():
                if key in _BY_KEY:  # keys from newer or older versions are kept on disk, unused
                    self._values[key] = _coerce(_BY_KEY[key], value)
            self._raw = raw
        else:
            self._raw = {}

    def copy(self) -> Settings:
        """These settings, unsaved changes included, to change without touching these."""
        other = Settings.__new__(Settings)
        other.path, other.policy = self.path, self.policy
        other._locked, other._values = dict(self._locked), dict(self._values)
        other._raw = dict(self._raw)
        return other

    def get(self, key: str) -> Value:
        setting = _declared(key)
        if key in self._locked:
            return self._locked[key]
        if setting.env and os.environ.get(setting.env):
            return _coerce(setting, os.environ[setting.env])
        return self._values.get(key, setting.default)

    def get_str(self, key: str) -> str:
        return str(self.get(key))

    def get_int(self, key: str) -> int:
        return int(self.get(key))

    def get_float(self, key: str) -> float:
        return float(self.get(key))

    def get_bool(self, key: str) -> bool:
        return bool(self.get(key))

    def set(self, key: str, value: Value) -> None:
        value = checked(key, value)
        if key in self._locked:  # the policy's value is not the user's: never written back
            if value != self._locked[key]:
                raise SettingsError(
                    _("{key} is set by your organisation and cannot be changed here.").format(
                        key=key
                    )
                )
            return
        self._values[key] = value

    def check_model(self, *names: str) -> None:
        """Raises unless the policy allows the model known by any of `names` (catalog id,
        installed name, file path)."""
        if not any(self.policy.model_allowed(name) for name in names):
            raise SettingsError(
                _("Your organisation allows only these models: {models}.").format(
                    models=", ".join(self.policy.allowed_models)
                )
            )

    def check_remote(self, url: str) -> None:
        """Raises unless the policy allows answers from the server at `url`."""
        if not self.policy.remote:
            raise SettingsError(_("Answers from a server are turned off by your organisation."))
        if not self.policy.remote_allowed(url):
            raise SettingsError(
                _("Your organisation allows only these servers: {urls}.").format(
                    urls=", ".join(self.policy.remote_urls)
                )
            )

    def policy_folders(self) -> list[Path]:
        """Folders the organisation has every user watch."""
        return [Path(f).expanduser().resolve() for f in self.policy.folders]

    def check_folder_removal(self, folder: Path) -> None:
        if folder.expanduser().resolve() in self.policy_folders():
            raise SettingsError(
                _("{folder} is watched for everyone by your organisation.").format(folder=folder)
            )

    def is_locked(self, key: str) -> bool:
        return _declared(key).key in self._locked

    def save(self) -> None:
        write_settings_file(self.path, self.serialized())

    def serialized(self, changes: dict[str, Value] | None = None) -> str:
        """The file's text with `changes` applied, without applying them: the GUI writes it on
        a thread of its own, and keeps the values only once the file is written."""
        for key in changes or {}:
            _declared(key)
        data = dict(self._raw)
        data.update(self._values)
        data.update(changes or {})
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _declared(key: str) -> Setting:
    """The declaration of `key`; a misspelt key is an error that names it, never a default."""
    setting = _BY_KEY.get(key)
    if setting is None:
        raise SettingsError(_("Unknown setting: {key}").format(key=key))
    return setting


def checked(key: str, value: Value) -> Value:
    """`value` as setting `key` keeps it, or a `SettingsError` saying why it cannot."""
    return _coerce(_declared(key), value)


def write_settings_file(path: Path, text: str) -> None:
    """Write atomically so a crash never leaves a half-written settings file."""
    write_text_atomic(
        path, text, what_now=_("The settings were not saved: the ones saved before stay in force.")
    )


def settings_markdown() -> str:
    lines = [
        "# Settings",
        "",
        "Generated from `core/foundation/setting_table.py` by",
        "`python -m lanterne.foundation.settings > docs/settings.md`; do not edit by hand.",
        "Settings are",
        "stored in `settings.json` in the data directory (`LANTERNE_HOME` overrides its",
        "location).",
        "",
        "| key | type | default | environment | description |",
        "| --- | --- | --- | --- | --- |",
    ]
    for s in SETTINGS:
        env = f"`{s.env}`" if s.env else ""
        choices = " One of: " + ", ".join(f"`{c}`" for c in s.choices) + "." if s.choices else ""
        lines.append(
            f"| `{s.key}` | {s.type.__name__} | `{s.default!r}` | {env} | "
            f"{s.description}{choices} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(settings_markdown())
