"""Settings keys that cannot be misspelt: every key the code hands to `Settings` is declared, and
every typed getter matches the declared type (the lint is tests/support/setting_keys.py).

Like qutebrowser's check of option names, this reads the code rather than running it, so a key
on a path no test takes is checked too. A key the lint cannot follow (a variable from outside
the code) is allowed only in the places named in DYNAMIC, which go through the table itself; a
new one fails here until it is named. At run time, `Settings` refuses an unknown key by name.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from lanterne.foundation.settings import Settings, SettingsError
from support.setting_keys import Report, check_files, check_source

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("core", "engine", "indexer", "desktop", "tests", "bench")

# The places whose keys come from the table or from a file checked against it, and why.
DYNAMIC = {
    # The accessor itself: checks the key it is given.
    ("core/foundation/settings.py", "Settings.set"),
    # The settings dialog lays out, reads, checks and stores a row per declared setting.
    ("desktop/settings_dialog.py", "SettingsDialog._page"),
    ("desktop/settings_dialog.py", "SettingsDialog._editor"),
    ("desktop/settings_dialog.py", "SettingsDialog.apply"),
    ("desktop/settings_dialog.py", "SettingsDialog._stored"),
    # An evaluation variant file: each key is checked against the table as the file is read,
    # then applied.
    ("core/evaluation/variants.py", "parse_variant"),
    ("core/evaluation/runner.py", "variant_settings"),
}

# Wrong on purpose: tests proving that Settings refuses these.
EXPECTED = {
    (
        "tests/test_answer_style.py",
        "test_the_assistant_reads_the_controls_from_settings",
        "answer.length accepts ('short', 'normal', 'detailed'), set to 'endless'",
    ),
    ("tests/test_settings.py", "test_wrong_type_is_a_clear_error", "unknown setting 'no.such'"),
    (
        "tests/test_settings.py",
        "test_wrong_type_is_a_clear_error",
        "retrieval.top_k is declared int, set to 'many'",
    ),
    (
        "tests/test_settings.py",
        "test_choices_are_enforced",
        "offload.kv_cache_type accepts ('auto', 'f16', 'q8_0'), set to 'q4'",
    ),
    (
        "tests/test_setting_keys.py",
        "test_settings_refuse_an_unknown_key_at_run_time",
        "unknown setting 'answer.tnoe'",
    ),
}


@cache
def _tree() -> Report:
    """The lint's report on the project's own code, read once."""
    return check_files(sorted(f for d in FOLDERS for f in (ROOT / d).rglob("*.py")), ROOT)


def test_every_key_in_the_code_is_declared_and_read_with_its_type() -> None:
    report = _tree()
    found = {(p.path, p.function, p.message) for p in report.problems}
    unexpected = [
        str(p) for p in report.problems if (p.path, p.function, p.message) not in EXPECTED
    ]
    assert not unexpected, "\n".join(unexpected)
    assert found == EXPECTED, f"no longer wrong on purpose: {EXPECTED - found}"


def test_keys_the_lint_cannot_follow_are_only_where_named() -> None:
    report = _tree()
    sites = {(d.path, d.function) for d in report.dynamic}
    new = [str(d) for d in report.dynamic if (d.path, d.function) not in DYNAMIC]
    assert not new, f"a settings key that is a variable; name the place in DYNAMIC: {new}"
    assert sites == DYNAMIC, f"named in DYNAMIC but gone: {DYNAMIC - sites}"


def test_the_lint_follows_constants_loops_and_conditionals_in_the_code() -> None:
    """The keys of the real code it must see through, so the first test is not vacuous."""
    checked = {(path, key) for path, _line, key in _tree().checked}
    assert ("core/autostart.py", "ui.start_at_login") in checked  # a module constant
    assert ("core/cli/serve_cmd.py", "api.port") in checked  # a loop over literal pairs
    assert ("desktop/api_settings.py", "api.queue_limit") in checked  # a literal dict's keys
    assert ("core/evaluation/runner.py", "retrieval.top_k") in checked  # a constant tuple
    assert ("core/model_library.py", "retrieval.embedding_model") in checked  # a conditional


MISTAKES = """
from lanterne.foundation.settings import Settings, checked

KEY = "ui.start_at_logon"


def reads(settings: Settings, values: dict[str, object]) -> object:
    settings.get_str("answer.tnoe")
    settings.get_str("api.port")
    settings.get_int("model.temperature")
    settings.get_bool(KEY)
    Settings().set("ui.theme", "pink")
    settings.copy().set("api.port", "8765")
    settings.set("house.allow_export", 1)
    for key in ("model.path", "modle.path"):
        settings.is_locked(key)
    settings.get("remote.url" if values else "remote.ulr")
    settings.serialized({"api.host": "::1", "api.hots": "::1"})
    checked("index.readres", 2)
    return values.get("quick_ask.hotkye")


def fine(settings: Settings, other: dict[str, object], name: str) -> object:
    settings.get_int("api.port")
    settings.get_float("model.temperature")
    settings.set("model.temperature", 0)
    settings.set("offload.gpu_layers", -1)
    other.get("not a key")
    return settings.get(name)
"""


def test_a_misspelt_key_and_a_wrong_getter_are_caught(tmp_path: Path) -> None:
    module = tmp_path / "pkg" / "mistakes.py"
    module.parent.mkdir()
    module.write_text(MISTAKES, encoding="utf-8")
    report = check_files([module], tmp_path)
    assert [(p.line, p.function, p.message) for p in report.problems] == [
        (8, "reads", "unknown setting 'answer.tnoe'"),
        (9, "reads", "get_str on 'api.port', declared int"),
        (10, "reads", "get_int on 'model.temperature', declared float"),
        (11, "reads", "unknown setting 'ui.start_at_logon'"),
        (12, "reads", "ui.theme accepts ('system', 'light', 'dark'), set to 'pink'"),
        (13, "reads", "api.port is declared int, set to '8765'"),
        (14, "reads", "house.allow_export is declared bool, set to 1"),
        (16, "reads", "unknown setting 'modle.path'"),
        (17, "reads", "unknown setting 'remote.ulr'"),
        (18, "reads", "unknown setting 'api.hots'"),
        (19, "reads", "unknown setting 'index.readres'"),
        (20, "reads", "unknown setting 'quick_ask.hotkye' (spelt like one)"),
    ]
    assert {p.path for p in report.problems} == {"pkg/mistakes.py"}
    assert [(d.function, d.line) for d in report.dynamic] == [("fine", 29)]


def test_the_same_code_spelt_right_passes() -> None:
    fixed = (
        MISTAKES.replace("tnoe", "tone")
        .replace('get_str("api.port")', 'get_int("api.port")')
        .replace('get_int("model.temperature")', 'get_float("model.temperature")')
        .replace("logon", "login")
        .replace('"pink"', '"dark"')
        .replace('"8765"', "8765")
        .replace('allow_export", 1', 'allow_export", True')
        .replace("modle", "model")
        .replace("ulr", "url")
        .replace("hots", "host")
        .replace("readres", "readers")
        .replace("hotkye", "hotkey")
    )
    report = check_source(fixed, "fixed.py")
    assert report.problems == []
    assert {key for _path, _line, key in report.checked} == {
        "answer.tone",
        "api.host",
        "api.port",
        "house.allow_export",
        "index.readers",
        "model.path",
        "model.temperature",
        "offload.gpu_layers",
        "remote.url",
        "ui.start_at_login",
        "ui.theme",
    }


def test_settings_refuse_an_unknown_key_at_run_time() -> None:
    settings = Settings()
    for read in (settings.get, settings.get_str, settings.is_locked):
        with pytest.raises(SettingsError, match=r"^Unknown setting: answer\.tnoe$"):
            read("answer.tnoe")
    with pytest.raises(SettingsError, match=r"^Unknown setting: answer\.tnoe$"):
        settings.serialized({"answer.tnoe": "formal"})
    assert settings.get_str("answer.tone") == "neutral"
