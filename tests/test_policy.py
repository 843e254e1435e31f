"""The organisation's policy: precedence policy > user settings > defaults, locks shown in the
GUI, and each rule enforced where it matters (downloads, models, servers, folders)."""

from __future__ import annotations

import json
import plistlib
import threading
import time
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from lanterne.assistant.pipeline import Assistant
from lanterne.context import AppContext
from lanterne.foundation.policy import Policy, PolicyError, merged, policy_from_mapping
from lanterne.foundation.settings import Settings, SettingsError
from lanterne.index_service import IndexService, ServiceEvents
from lanterne.model_library import ModelLibrary
from support.cli import lanterne


def write_policy(tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("LANTERNE_POLICY", str(path))
    return path


def test_policy_wins_over_the_user_and_the_environment_and_defaults_fill_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = Settings()
    user.set("model.path", "/home/me/mine.gguf")
    user.set("retrieval.top_k", 9)
    user.set("ui.language", "en")
    user.save()
    write_policy(
        tmp_path,
        'model_path = "/srv/models/house.gguf"\nlanguage = "fr"\n'
        'hotkey = "ctrl+alt+l"\n[settings]\n"retrieval.top_k" = 4\n',
        monkeypatch,
    )
    monkeypatch.setenv("LANTERNE_MODEL", "/tmp/other.gguf")
    settings = Settings()
    assert settings.get_str("model.path") == "/srv/models/house.gguf"  # not the env's either
    assert settings.get_int("retrieval.top_k") == 4
    assert settings.get_str("ui.language") == "fr"
    assert settings.get_str("quick_ask.hotkey") == "ctrl+alt+l"
    assert settings.get_int("model.context_size") == 4096  # neither sets it: the default
    with pytest.raises(SettingsError, match="set by your organisation"):
        settings.set("retrieval.top_k", 5)
    settings.set("retrieval.top_k", 4)  # the locked value itself is no change
    settings.set("model.context_size", 8192)  # the rest stays the user's
    assert settings.is_locked("ui.language") and not settings.is_locked("model.context_size")


def test_a_misspelt_or_broken_policy_is_refused_with_its_location(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_policy(tmp_path, "downlods = false\n", monkeypatch)
    with pytest.raises(SettingsError, match=r"unknown keys: downlods") as caught:
        Settings()
    assert str(path) in str(caught.value)
    write_policy(tmp_path, '[settings]\n"model.top_k" = 3\n', monkeypatch)
    with pytest.raises(SettingsError, match=r"unknown setting: model\.top_k"):
        Settings()
    write_policy(tmp_path, '[settings]\n"retrieval.top_k" = "many"\n', monkeypatch)
    with pytest.raises(SettingsError, match=r"retrieval\.top_k"):
        Settings()
    write_policy(tmp_path, "downloads = \n", monkeypatch)
    with pytest.raises(SettingsError, match="Cannot read the policy"):
        Settings()
    with pytest.raises(PolicyError, match="list of strings"):
        policy_from_mapping({"folders": 3}, "test")
    result = lanterne("policy")
    assert result.returncode == 1 and "Cannot read the policy" in result.stderr


def test_an_added_policy_never_loosens_the_systems() -> None:
    system = policy_from_mapping(
        {"downloads": False, "allowed_models": ["a", "b"], "language": "fr"}, "system"
    )
    added = policy_from_mapping(
        {"downloads": True, "allowed_models": ["b", "c"], "language": "en"}, "added"
    )
    both = merged(system, added)
    assert not both.downloads
    assert both.allowed_models == ("b",)
    assert both.settings["ui.language"] == "fr"
    assert both.sources == ("system", "added")
    assert not merged(system, policy_from_mapping({"allowed_models": ["z"]}, "x")).model_allowed(
        "z"
    )


def test_macos_profiles_use_the_same_keys_in_camel_case(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "org.lanterne.Lanterne.plist"
    profile = {
        "ModelMirror": "https://mirror.example.org/hf",
        "Downloads": False,
        "AllowedModels": ["qwen3-30b-a3b-instruct-2507"],
        "Settings": {"retrieval.top_k": 3},
    }
    path.write_bytes(plistlib.dumps(profile))
    monkeypatch.setenv("LANTERNE_POLICY", str(path))
    settings = Settings()
    assert settings.get_str("models.hub_url") == "https://mirror.example.org/hf"
    assert settings.get_int("retrieval.top_k") == 3
    assert not settings.policy.downloads
    assert settings.policy.model_allowed("qwen3-30b-a3b-instruct-2507")


def test_downloads_and_models_follow_the_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_moe_model: Path
) -> None:
    write_policy(tmp_path, 'downloads = false\nallowed_models = ["house.gguf"]\n', monkeypatch)
    library = ModelLibrary(Settings())
    with pytest.raises(SettingsError, match="downloads are turned off"):
        library.download("qwen3-30b-a3b-instruct-2507")  # refused before any connection
    with pytest.raises(SettingsError, match=r"allows only these models: house\.gguf"):
        library.import_file(tiny_moe_model)
    house = tmp_path / "house.gguf"
    house.write_bytes(tiny_moe_model.read_bytes())
    assert library.import_file(house).path == str(house)
    assert Settings().get_str("model.path") == str(house)

    settings = Settings()
    settings.set("model.path", str(tiny_moe_model))  # written before the policy came
    assistant = Assistant(settings, AppContext(settings).host, tmp_path / "index.sqlite3")
    with pytest.raises(SettingsError, match="allows only these models"):
        assistant.load_request()


def test_servers_follow_the_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_policy(tmp_path, 'remote_urls = ["https://llm.example.org"]\n', monkeypatch)
    settings = Settings()
    settings.check_remote("https://llm.example.org/v1/")  # the same server, written otherwise
    with pytest.raises(SettingsError, match=r"only these servers: https://llm\.example\.org"):
        settings.check_remote("https://elsewhere.example.com")
    refused = lanterne("remote", "use", "http://127.0.0.1:9")
    assert refused.returncode == 1 and "only these servers" in refused.stderr

    write_policy(tmp_path, "remote = false\n", monkeypatch)
    settings = Settings()
    assert settings.get_str("engine.backend") == "local" and settings.is_locked("engine.backend")
    with pytest.raises(SettingsError, match="turned off by your organisation"):
        settings.check_remote("https://llm.example.org")


@pytest.mark.slow
def test_policy_folders_are_watched_for_everyone_and_stay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, docs_folder: Path
) -> None:
    write_policy(tmp_path, f"folders = [{json.dumps(str(docs_folder))}]\n", monkeypatch)
    ctx = AppContext(Settings())
    ready = threading.Event()
    errors: list[str] = []
    service = IndexService(
        ctx, ServiceEvents(ready=lambda _p: ready.set(), error=errors.append), embed=False
    )
    service.start()
    try:
        assert ready.wait(60)
        service.remove_folder(docs_folder)
        for _tick in range(200):
            if errors:
                break
            time.sleep(0.05)
        assert errors and "watched for everyone" in errors[0]
    finally:
        service.stop()
        ctx.close()
    status = json.loads(lanterne("index", "status", "--json").stdout)
    assert [f["path"] for f in status["folders"]] == [str(docs_folder.resolve())]
    refused = lanterne("index", "remove", str(docs_folder))
    assert refused.returncode == 1 and "watched for everyone" in refused.stderr


def test_lanterne_policy_says_what_is_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "No policy" in lanterne("policy").stdout
    path = write_policy(tmp_path, 'language = "fr"\ndownloads = false\n', monkeypatch)
    shown = json.loads(lanterne("policy", "--json").stdout)
    assert shown["sources"] == [str(path)]
    assert shown["settings"] == {"ui.language": "fr"} and shown["downloads"] is False


@pytest.mark.gui
def test_settings_shows_locked_values_greyed_and_never_writes_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qtbot: QtBot
) -> None:
    from lanterne.desktop.settings_dialog import SettingsDialog

    write_policy(tmp_path, '[settings]\n"retrieval.top_k" = 4\n', monkeypatch)
    settings = Settings()
    dialog = SettingsDialog(settings)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.managed.isVisible()
    assert "retrieval.top_k" not in dialog._readers
    with qtbot.waitSignal(dialog.saved, timeout=10000):
        dialog.apply()
    assert "retrieval.top_k" not in json.loads(settings.path.read_text(encoding="utf-8"))
    assert Settings(policy=Policy()).get_int("retrieval.top_k") == 5  # the user's own, intact
