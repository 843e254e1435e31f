"""The Windows installer's logic (packaging/windows/lanterne.wxs), run here through a model of
Windows Installer (tests/support/msi_model.py): where "for all users" installs, what an
upgrade does with the policy an administrator gave, which package replaces which, and what
an uninstall leaves. The real `wix build` and msiexec run in the release workflow."""

from __future__ import annotations

import json
import re
import sys
import types
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from lanterne import autostart
from support.msi_model import (
    PROGRAM_FILES_KEY,
    WINDOWS_REGISTRY,
    WIX,
    Registry,
    Session,
    condition,
    formatted,
    per_machine_start,
    per_user_start,
)

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
sys.path.insert(0, str(PACKAGING))

import release_windows  # noqa: E402

PROGRAM_FILES_APP = r"C:\Program Files\Lanterne"
PROFILE_APP = r"C:\Users\admin\AppData\Local\Programs\Lanterne"
POLICY_KEY = r"Software\Policies\Lanterne"


def wxs() -> ET.Element:
    return ET.parse(PACKAGING / "windows" / "lanterne.wxs").getroot()


def session(props: dict[str, str], registry: Registry | None = None, ui: bool = False) -> Session:
    return Session(wxs(), props, dict(WINDOWS_REGISTRY if registry is None else registry), ui)


# --- where each scope installs -----------------------------------------------------------


def test_all_users_in_the_dialog_installs_into_program_files() -> None:
    """Double-clicked by an administrator, Advanced, "Install for all users": the package
    started per user, so ProgramFiles64Folder points into the profile (WiX 7288, 8887)."""
    install = session(per_user_start(), ui=True)
    assert install.start()
    assert install.props["APPLICATIONFOLDER"] == PROFILE_APP  # the two-click default: per user
    install.click_scope_next("WixPerMachineFolder")
    assert install.props["APPLICATIONFOLDER"] == PROGRAM_FILES_APP
    assert install.props["ALLUSERS"] == "1"
    assert install.props["MSIINSTALLPERUSER"] == ""  # per machine, whatever reads it later
    # Changing one's mind on the same page: back to the profile, per user.
    install.click_scope_next("WixPerUserFolder")
    assert install.props["APPLICATIONFOLDER"] == PROFILE_APP
    assert install.props["ALLUSERS"] == "" and install.props["MSIINSTALLPERUSER"] == "1"


@pytest.mark.parametrize("ui", [False, True])
def test_silent_and_two_click_installs_keep_their_folders(ui: bool) -> None:
    machine = session(per_machine_start(), ui=ui)  # msiexec /i ... ALLUSERS=1
    assert machine.start() and machine.props["APPLICATIONFOLDER"] == PROGRAM_FILES_APP
    user = session(per_user_start(), ui=ui)  # msiexec /i ... (no ALLUSERS)
    assert user.start() and user.props["APPLICATIONFOLDER"] == PROFILE_APP
    # Without the registry value (never seen on 64-bit Windows), the per-machine start
    # still resolves Program Files itself.
    bare = session(per_machine_start(), registry={}, ui=ui)
    assert bare.start() and bare.props["APPLICATIONFOLDER"] == PROGRAM_FILES_APP


def test_program_files_is_read_from_the_64_bit_registry() -> None:
    searches = {
        (s.get("Root"), s.get("Key"), s.get("Name")): s for s in wxs().iter(f"{WIX}RegistrySearch")
    }
    search = searches[PROGRAM_FILES_KEY]
    assert search.get("Bitness") == "always64"  # not Program Files (x86)
    assert search.get("Type") == "raw"


# --- policy properties across upgrades ---------------------------------------------------


def policy_of(registry: Registry) -> dict[str, tuple[str, str]]:
    return {name: value for (root, key, name), value in registry.items() if key == POLICY_KEY}


def upgrade(registry: Registry, command_line: dict[str, str]) -> tuple[bool, Registry]:
    """A silent major upgrade: AppSearch reads the registry the previous version left, then
    RemoveExistingProducts removes its values, then this version writes its own."""
    new = session({**per_machine_start(), **command_line}, registry)
    if not new.start():
        return False, registry
    return True, {**WINDOWS_REGISTRY, **new.installed_values()}


def first_install(command_line: dict[str, str]) -> Registry:
    installed, registry = upgrade(dict(WINDOWS_REGISTRY), command_line)
    assert installed
    return registry


GIVEN = {"MODELPATH": r"\\srv\models\model.gguf", "DOWNLOADS": "0", "HOTKEY": "ctrl+alt+k"}


def test_policy_properties_survive_an_upgrade_pushed_without_them() -> None:
    registry = first_install(GIVEN)
    written = policy_of(registry)
    assert written == {
        "ModelPath": ("string", GIVEN["MODELPATH"]),
        "Downloads": ("integer", "0"),
        "Hotkey": ("string", "ctrl+alt+k"),
    }
    installed, after = upgrade(registry, {})  # the next version, pushed with ALLUSERS=1 only
    assert installed
    assert policy_of(after) == written
    installed, again = upgrade(after, {})  # and the one after that
    assert installed and policy_of(again) == written


def test_a_value_on_the_command_line_replaces_the_remembered_one() -> None:
    registry = first_install(GIVEN)
    installed, after = upgrade(registry, {"MODELPATH": r"D:\models\new.gguf", "REMOTE": "0"})
    assert installed
    assert policy_of(after) == {
        "ModelPath": ("string", r"D:\models\new.gguf"),
        "Downloads": ("integer", "0"),
        "Hotkey": ("string", "ctrl+alt+k"),
        "Remote": ("integer", "0"),
    }
    refused, _ = upgrade(registry, {"DOWNLOADS": "yes"})
    assert not refused  # still checked


def test_per_user_installs_refuse_policy_and_ignore_the_machines() -> None:
    machine = first_install(GIVEN)
    user = session(per_user_start(), machine)  # a user's own copy on the same computer
    assert user.start()
    assert not policy_of(user.installed_values())
    assert not session({**per_user_start(), "MODELPATH": r"C:\m.gguf"}).start()


# --- which package replaces which --------------------------------------------------------


def built_msis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """windows_packages' `wix build` command lines, through a fake wix on PATH."""
    log = tmp_path / "wix.log"
    tool = tmp_path / "bin" / "wix"
    tool.parent.mkdir()
    tool.write_text(
        f"#!{sys.executable}\nimport json, os, sys\n"
        "with open(os.environ['FAKE_WIX_LOG'], 'a') as log:\n"
        "    log.write(json.dumps(sys.argv[1:]) + '\\n')\n"
    )
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tool.parent}:{Path(sys.executable).parent}")
    monkeypatch.setenv("FAKE_WIX_LOG", str(log))
    for name in ("LANTERNE_WINDOWS_CERT_PFX", "LANTERNE_WINDOWS_CERT_SHA1"):
        monkeypatch.delenv(name, raising=False)
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    icons = {"ico": tmp_path / "lanterne.ico"}
    release_windows.windows_packages(bundle, tmp_path, "0.2.0", icons, require_signing=False)
    return [json.loads(line) for line in log.read_text().splitlines()]


def option(command: list[str], flag: str) -> list[str]:
    return [command[i + 1] for i, arg in enumerate(command) if arg == flag]


def test_the_other_language_or_a_rebuild_replaces_the_installed_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commands = built_msis(tmp_path, monkeypatch)
    assert [option(c, "-culture") for c in commands] == [["en-US"], ["fr-FR"]]
    # One source and one version for both languages, hence one UpgradeCode...
    assert len({c[1] for c in commands}) == 1 and Path(commands[0][1]).name == "lanterne.wxs"
    assert len({tuple(option(c, "-d")) for c in commands}) == 1
    assert "Version=0.2.800" in option(commands[0], "-d")
    package = wxs().find(f"{WIX}Package")
    assert package is not None
    assert re.fullmatch(r"[0-9a-f-]{36}", package.get("UpgradeCode", ""))
    assert package.get("Version") == "$(Version)"
    # ...so the fr-FR package over the en-US one, or a rebuild over the same version, is a
    # same-version major upgrade: allowed, or both would be installed side by side.
    (upgrade_rule,) = list(wxs().iter(f"{WIX}MajorUpgrade"))
    assert upgrade_rule.get("AllowSameVersionUpgrades") == "yes"
    assert upgrade_rule.get("AllowDowngrades") in (None, "no")  # downgrades still refused
    assert upgrade_rule.get("DowngradeErrorMessage")


# --- what an uninstall leaves ------------------------------------------------------------


def fake_winreg(writes: list[tuple[Any, str, str]]) -> types.ModuleType:
    """Just what autostart.set_enabled calls, recording each value it writes."""

    class Key:
        def __init__(self, root: Any, path: str) -> None:
            self.root, self.path = root, path

        def __enter__(self) -> Key:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

    module = types.ModuleType("winreg")
    module.HKEY_CURRENT_USER = "HKCU"  # type: ignore[attr-defined]
    module.REG_SZ = 1  # type: ignore[attr-defined]
    module.CreateKey = Key  # type: ignore[attr-defined]

    def set_value(key: Key, name: str, _reserved: int, _kind: int, _data: str) -> None:
        writes.append((key.root, key.path, name))

    module.SetValueEx = set_value  # type: ignore[attr-defined]
    return module


def test_the_uninstall_removes_the_start_at_login_entry_the_app_writes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    writes: list[tuple[Any, str, str]] = []
    monkeypatch.setitem(sys.modules, "winreg", fake_winreg(writes))
    monkeypatch.setattr(sys, "platform", "win32")
    autostart.set_enabled(True)
    ((root, key, name),) = writes

    root_element = wxs()
    (action,) = [
        ca for ca in root_element.iter(f"{WIX}CustomAction") if ca.get("DllEntry") == "WixQuietExec"
    ]
    assert action.get("BinaryRef", "").startswith("Wix4UtilCA_")
    assert action.get("Execute") == "deferred"
    assert action.get("Impersonate") == "yes"  # HKCU is the uninstalling user's
    assert action.get("Return") == "ignore"  # no entry: reg.exe fails, the uninstall goes on
    # A deferred action reads its command from the property named after it.
    (data,) = [p for p in root_element.iter(f"{WIX}SetProperty") if p.get("Id") == action.get("Id")]
    command = formatted(data.get("Value", ""), {"System64Folder": "C:\\Windows\\System32\\"})
    words = [w.strip('"') for w in re.findall(r'"[^"]*"|\S+', command)]
    assert words == [
        r"C:\Windows\System32\reg.exe", "delete", f"{root}\\{key}", "/v", name, "/f"
    ]  # fmt: skip

    (scheduled,) = [
        c for c in root_element.iter(f"{WIX}Custom") if c.get("Action") == action.get("Id")
    ]
    when = scheduled.get("Condition", "")
    assert condition(when, {"REMOVE": "ALL"})  # uninstall
    assert not condition(when, {"REMOVE": "ALL", "UPGRADINGPRODUCTCODE": "{0C9D}"})  # upgrade
    assert not condition(when, {})  # install
    assert not condition(when, {"REMOVE": "Lanterne"})  # a feature only (none can be)
    # The quiet command comes from WiX's Util extension: given to every `wix build`.
    assert "WixToolset.Util.wixext" in release_windows.WIX_EXTENSIONS
