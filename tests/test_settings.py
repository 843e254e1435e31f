from __future__ import annotations

import json
from pathlib import Path

import pytest

from lanterne.foundation.settings import SETTINGS, Settings, SettingsError, settings_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_then_saved_values_survive_a_restart(lanterne_home: Path) -> None:
    s = Settings()
    assert s.get("retrieval.top_k") == 5
    s.set("retrieval.top_k", 8)
    s.set("model.temperature", 1)
    s.save()
    again = Settings()
    assert again.get("retrieval.top_k") == 8
    assert again.get("model.temperature") == 1.0
    assert json.loads((lanterne_home / "settings.json").read_text())["retrieval.top_k"] == 8


def test_environment_overrides_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    s = Settings()
    s.set("model.path", "/stored.gguf")
    monkeypatch.setenv("LANTERNE_MODEL", "/from-env.gguf")
    assert s.get("model.path") == "/from-env.gguf"


def test_wrong_type_is_a_clear_error() -> None:
    with pytest.raises(SettingsError, match=r"retrieval\.top_k expects a value of type int"):
        Settings().set("retrieval.top_k", "many")
    with pytest.raises(SettingsError, match="Unknown setting"):
        Settings().set("no.such", 1)


def test_corrupt_file_is_reported_not_overwritten(lanterne_home: Path) -> None:
    lanterne_home.mkdir(parents=True, exist_ok=True)
    (lanterne_home / "settings.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(SettingsError, match="Cannot read the settings file"):
        Settings()
    assert (lanterne_home / "settings.json").read_text() == "{not json"


def test_unknown_keys_from_other_versions_are_kept(lanterne_home: Path) -> None:
    lanterne_home.mkdir(parents=True, exist_ok=True)
    (lanterne_home / "settings.json").write_text('{"future.key": 3}', encoding="utf-8")
    s = Settings()
    s.set("retrieval.top_k", 2)
    s.save()
    assert json.loads((lanterne_home / "settings.json").read_text())["future.key"] == 3


def test_every_default_has_its_declared_type() -> None:
    for setting in SETTINGS:
        assert isinstance(setting.default, setting.type), setting.key
        assert setting.description.endswith("."), setting.key


def test_generated_docs_are_up_to_date() -> None:
    docs = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    assert docs == settings_markdown(), (
        "run: python -m lanterne.foundation.settings > docs/settings.md"
    )


def test_choices_are_enforced() -> None:
    s = Settings()
    s.set("offload.kv_cache_type", "q8_0")
    with pytest.raises(SettingsError, match=r"accepts auto, f16, q8_0, not 'q4'"):
        s.set("offload.kv_cache_type", "q4")


def test_environment_strings_are_converted(monkeypatch: pytest.MonkeyPatch) -> None:
    from lanterne.foundation.settings import _coerce

    setting = next(s for s in SETTINGS if s.key == "model.temperature")
    assert _coerce(setting, " 0.7 ") == 0.7
    with pytest.raises(SettingsError):
        _coerce(setting, True)


def test_a_copy_keeps_unsaved_values_and_changes_apart(lanterne_home: Path) -> None:
    settings = Settings()
    settings.set("model.path", "/models/a.gguf")  # not saved
    copy = settings.copy()
    assert copy.get_str("model.path") == "/models/a.gguf"
    copy.set("answer.length", "short")
    assert settings.get_str("answer.length") == "normal"
    assert not settings.path.exists()  # neither was written
