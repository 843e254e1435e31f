"""The Windows policy as Group Policy and Group Policy Preferences write it (HKLM\\Software\\
Policies\\Lanterne), read through a fake `winreg` by the real `load_policy()` and `Settings`:
every registry type, on/off written as numbers or text, `(Default)`, missing keys, and a clear
error naming the value for what cannot be used."""

from __future__ import annotations

from pathlib import Path

import pytest

from lanterne.foundation.policy import NO_POLICY, load_policy
from lanterne.foundation.settings import Settings, SettingsError
from support import fake_winreg
from support.fake_winreg import (
    REG_BINARY,
    REG_DWORD,
    REG_EXPAND_SZ,
    REG_MULTI_SZ,
    REG_QWORD,
    REG_SZ,
    FakeRegistry,
)

KEY = r"HKLM\Software\Policies\Lanterne"
LOCKED = KEY + r"\Settings"


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> FakeRegistry:
    monkeypatch.delenv("LANTERNE_POLICY", raising=False)
    return fake_winreg.install(monkeypatch)


def test_group_policy_switches_written_as_numbers_are_on_and_off(registry: FakeRegistry) -> None:
    registry.set(KEY, "Downloads", 0, REG_DWORD)
    registry.set(KEY, "Remote", 1, REG_DWORD)
    registry.set(LOCKED, "ui.start_at_login", 1, REG_DWORD)
    registry.set(LOCKED, "house.allow_export", 0, REG_DWORD)
    settings = Settings()
    assert settings.policy.sources == (KEY,)
    assert not settings.policy.downloads and settings.policy.remote
    assert settings.get("ui.start_at_login") is True
    assert settings.get("house.allow_export") is False
    assert settings.is_locked("ui.start_at_login") and settings.is_locked("house.allow_export")
    assert all(handle.closed for handle in registry.opened)


def test_every_registry_type_is_read_as_the_setting_declares(
    registry: FakeRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROGRAMDATA", r"C:\ProgramData")
    registry.set(KEY, "", "", REG_SZ)  # (Default), present on keys made by some tools
    registry.set(KEY, "ModelPath", r"%PROGRAMDATA%\Lanterne\house.gguf", REG_EXPAND_SZ)
    registry.set(KEY, "ModelMirror", "https://%NOT_EXPANDED%/hf", REG_SZ)  # REG_SZ stays as is
    registry.set(KEY, "AllowedModels", ["house.gguf", "other.gguf"], REG_MULTI_SZ)
    registry.set(KEY, "Folders", r"\\server\docs", REG_SZ)  # one entry written without a list
    registry.set(KEY, "Downloads", "false", REG_SZ)  # Group Policy Preferences, as text
    registry.set(LOCKED, "", "ignored", REG_SZ)
    registry.set(LOCKED, "retrieval.top_k", 4, REG_DWORD)
    registry.set(LOCKED, "index.max_file_mb", 200, REG_QWORD)
    registry.set(LOCKED, "offload.gpu_layers", 0xFFFFFFFF, REG_DWORD)  # -1, as regedit shows it
    registry.set(LOCKED, "model.temperature", 1, REG_DWORD)
    registry.set(LOCKED, "remote.context_size", "16384", REG_SZ)
    registry.set(LOCKED, "ui.first_run_done", "1", REG_SZ)
    registry.set(LOCKED, "ui.close_to_tray", " False ", REG_SZ)
    registry.set(LOCKED, "UI.Theme", "dark", REG_SZ)  # names are case-insensitive in Windows
    settings = Settings()
    assert settings.get("model.path") == r"C:\ProgramData\Lanterne\house.gguf"
    assert settings.get("models.hub_url") == "https://%NOT_EXPANDED%/hf"
    assert settings.policy.allowed_models == ("house.gguf", "other.gguf")
    assert settings.policy.folders == (r"\\server\docs",)
    assert not settings.policy.downloads
    assert settings.get("retrieval.top_k") == 4
    assert settings.get("index.max_file_mb") == 200
    assert settings.get("offload.gpu_layers") == -1
    assert settings.get("model.temperature") == 1.0
    assert isinstance(settings.get("model.temperature"), float)
    assert settings.get("remote.context_size") == 16384
    assert settings.get("ui.first_run_done") is True
    assert settings.get("ui.close_to_tray") is False
    assert settings.get("ui.theme") == "dark"
    assert "" not in settings.policy.settings


def test_no_key_is_no_policy_and_no_settings_subkey_locks_nothing(
    registry: FakeRegistry,
) -> None:
    assert load_policy() == NO_POLICY
    assert not Settings().is_locked("ui.start_at_login")
    registry.set(KEY, "Language", "fr", REG_SZ)
    policy = load_policy()
    assert policy.sources == (KEY,) and dict(policy.settings) == {"ui.language": "fr"}
    assert Settings().get("ui.language") == "fr"


def test_a_key_holding_only_its_default_value_is_an_empty_policy(registry: FakeRegistry) -> None:
    registry.set(KEY, "", "", REG_SZ)
    registry.set(LOCKED, "", "", REG_SZ)
    settings = Settings()
    assert dict(settings.policy.settings) == {} and settings.policy.downloads


@pytest.mark.parametrize(
    ("path", "name", "value", "kind", "message"),
    [
        (LOCKED, "ui.start_at_login", 2, REG_DWORD, r"ui\.start_at_login must be on or off"),
        (LOCKED, "house.allow_export", "maybe", REG_SZ, r"house\.allow_export must be on or off"),
        (KEY, "Downloads", 2, REG_DWORD, r"downloads must be on or off"),
        (KEY, "Remote", "sometimes", REG_SZ, r"remote must be on or off"),
        (LOCKED, "ui.language", ["fr", "en"], REG_MULTI_SZ, r"ui\.language must be one value"),
        (KEY, "Language", 1, REG_DWORD, r"ui\.language must be text"),
        (LOCKED, "retrieval.top_k", "many", REG_SZ, r"retrieval\.top_k must be a whole number"),
        (LOCKED, "retrieval.top_k", "4.5", REG_SZ, r"retrieval\.top_k must be a whole number"),
        (LOCKED, "model.temperature", "hot", REG_SZ, r"model\.temperature must be a number"),
        (LOCKED, "ui.theme", "pink", REG_SZ, r"ui\.theme accepts system, light, dark"),
        (LOCKED, "ui.start_at_login", b"\x01", REG_BINARY, r"ui\.start_at_login is binary data"),
        (KEY, "Hotkey", b"\x00", REG_BINARY, r"Hotkey is binary data"),
    ],
)
def test_a_value_that_cannot_be_used_is_a_clear_error_naming_it(
    registry: FakeRegistry, path: str, name: str, value: object, kind: int, message: str
) -> None:
    registry.set(path, name, value, kind)
    with pytest.raises(SettingsError, match=message) as caught:
        Settings()
    assert KEY in str(caught.value)  # where to look
    assert all(handle.closed for handle in registry.opened)


def test_toml_and_plist_policies_take_the_same_exact_conversions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(
        '[settings]\n"ui.start_at_login" = 1\n"model.context_size" = 8192.0\n'
        '"model.temperature" = 1\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("LANTERNE_POLICY", str(path))
    settings = Settings()
    assert settings.get("ui.start_at_login") is True
    assert settings.get("model.context_size") == 8192
    assert isinstance(settings.get("model.context_size"), int)
    assert settings.get("model.temperature") == 1.0
