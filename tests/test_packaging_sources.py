"""The Windows and macOS installers' sources, checked here where they cannot be built: the MSI
writes exactly the policy values Lanterne reads, every localized string exists in English and
French, the .app's property lists are valid and complete, the icons are real .ico and .icns
files, and the release workflow builds, installs and signs on all three systems."""

from __future__ import annotations

import plistlib
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from lanterne.foundation.policy import BUNDLE_ID, KNOWN_KEYS, _plist_key, policy_from_mapping

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
sys.path.insert(0, str(PACKAGING))

import icons  # noqa: E402
import release_macos  # noqa: E402
import release_windows  # noqa: E402
from release_steps import ReleaseError  # noqa: E402

WIX = "{http://wixtoolset.org/schemas/v4/wxs}"
WXL = "{http://wixtoolset.org/schemas/v4/wxl}"


def wxs() -> ET.Element:
    return ET.parse(PACKAGING / "windows" / "lanterne.wxs").getroot()


def policy_values() -> list[ET.Element]:
    return [
        value
        for value in wxs().iter(f"{WIX}RegistryValue")
        if value.get("Key") == r"Software\Policies\Lanterne"
    ]


def test_the_msi_writes_the_policy_values_lanterne_reads() -> None:
    values = policy_values()
    assert {_plist_key(v.get("Name", "")) for v in values} <= set(KNOWN_KEYS)
    assert all(v.get("Root") == "HKLM" for v in values)  # users cannot write there
    # What the registry holds after `msiexec /i ... ALLUSERS=1 MODELPATH=... DOWNLOADS=0 ...`,
    # as the Windows reader enumerates it (REG_SZ -> str, REG_DWORD -> int).
    given = {
        "MODELPATH": r"\\srv\models\model.gguf",
        "MODELMIRROR": "https://mirror.example.org",
        "HOTKEY": "ctrl+alt+k",
        "UILANGUAGE": "fr",
        "DOWNLOADS": "0",
        "REMOTE": "0",
    }
    registry: dict[str, Any] = {}
    for value in values:
        prop = re.fullmatch(r"\[(\w+)\]", value.get("Value", ""))
        assert prop, value.attrib
        raw = given[prop.group(1)]
        registry[value.get("Name", "")] = int(raw) if value.get("Type") == "integer" else raw
    policy = policy_from_mapping({_plist_key(k): v for k, v in registry.items()}, "msi")
    assert policy.settings["model.path"] == given["MODELPATH"]
    assert policy.settings["models.hub_url"] == given["MODELMIRROR"]
    assert policy.settings["quick_ask.hotkey"] == "ctrl+alt+k"
    assert policy.settings["ui.language"] == "fr"
    assert policy.downloads is False and policy.remote is False


def test_the_msi_properties_are_secure_and_only_written_per_machine() -> None:
    root = wxs()
    declared = {p.get("Id") for p in root.iter(f"{WIX}Property") if p.get("Secure") == "yes"}
    used = {re.sub(r"^\[(\w+)\]$", r"\1", v.get("Value", "")) for v in policy_values()}
    assert used and used <= declared  # else an elevated install would never see them
    components = [c for c in root.iter(f"{WIX}Component") if c.get("Id", "").startswith("Policy")]
    assert len(components) == len(used)
    for component in components:
        assert (component.get("Condition") or "").startswith("ALLUSERS=1 AND ")
    launch = " ".join(c.get("Condition", "") for c in root.iter(f"{WIX}Launch"))
    assert all(name in launch for name in used)  # refused, not ignored, in a per-user install
    package = root.find(f"{WIX}Package")
    assert package is not None and package.get("Scope") == "perUserOrMachine"


def test_every_installer_string_is_in_english_and_french() -> None:
    source = (PACKAGING / "windows" / "lanterne.wxs").read_text(encoding="utf-8")
    used = set(re.findall(r"!\(loc\.(\w+)\)", source))
    cultures = {}
    for culture, lcid in (("en-US", "1033"), ("fr-FR", "1036")):
        root = ET.parse(PACKAGING / "windows" / f"lanterne.{culture}.wxl").getroot()
        assert root.tag == f"{WXL}WixLocalization" and root.get("Culture") == culture
        strings = {s.get("Id"): s.get("Value", "") for s in root.iter(f"{WXL}String")}
        assert strings["Language"] == lcid
        cultures[culture] = strings
    assert used == set(cultures["en-US"]) == set(cultures["fr-FR"])
    assert cultures["fr-FR"]["Downgrade"] != cultures["en-US"]["Downgrade"]
    rtf = (PACKAGING / "windows" / "License.rtf").read_text(encoding="ascii")
    assert rtf.startswith("{\\rtf1") and rtf.count("{") == rtf.count("}")


def test_msi_versions_are_three_numbers_in_release_order() -> None:
    # The build number holds the patch and the stage (tests/test_windows_version.py).
    assert release_windows.msi_version("0.1.0") == "0.1.800"
    assert release_windows.msi_version("1.2.3rc1") == "1.2.3601"
    assert release_windows.msi_version("2.0.dev4") == "2.0.4"
    assert release_windows.msi_version("3") == "3.0.800"
    with pytest.raises(ReleaseError):
        release_windows.msi_version("300.0.0")


def test_the_mac_app_property_lists_are_complete(tmp_path: Path) -> None:
    info = release_macos.info_plist("1.2.3")
    plistlib.loads(plistlib.dumps(info))  # every value a property list can hold
    assert info["CFBundleIdentifier"] == BUNDLE_ID  # the managed-preferences domain of the policy
    assert info["CFBundleExecutable"] == "lanterne"
    assert info["LSUIElement"] is False and info["LSBackgroundOnly"] is False
    assert info["CFBundleLocalizations"] == ["en", "fr"]
    english, french = release_macos.USAGE["en"], release_macos.USAGE["fr"]
    assert set(english) == set(french) and all(english[k] != french[k] for k in english)
    assert all(info[key] == text for key, text in english.items())
    entries = release_macos.write_localized_strings(tmp_path)
    assert [dest for _src, dest in entries] == ["en.lproj", "fr.lproj"]
    assert plistlib.loads(Path(entries[1][0]).read_bytes()) == french
    entitlements = plistlib.loads((PACKAGING / "macos" / "entitlements.plist").read_bytes())
    assert entitlements == {"com.apple.security.cs.allow-unsigned-executable-memory": True}
    (component,) = release_macos.component_plist()
    assert component["BundleIsRelocatable"] is False
    script = tmp_path / "postinstall"
    script.write_text(release_macos.POSTINSTALL)
    subprocess.run(["sh", "-n", str(script)], check=True)


def test_the_spec_compiles() -> None:
    spec = PACKAGING / "lanterne.spec"
    compile(spec.read_text(encoding="utf-8"), str(spec), "exec")


def test_the_icons_are_real_ico_and_icns(tmp_path: Path) -> None:
    from PIL import Image

    made = icons.build_icons(tmp_path)
    with Image.open(made["ico"]) as ico:
        assert ico.format == "ICO" and {(s, s) for s in icons.ICO_SIZES} <= ico.info["sizes"]
    with Image.open(made["icns"]) as icns:
        assert icns.format == "ICNS" and icns.size == (1024, 1024)
    for size in icons.HICOLOR_SIZES:
        with Image.open(made[f"png-{size}"]) as png:
            assert png.size == (size, size) and png.mode == "RGBA"
            centre = png.getpixel((size // 2, size // 2))
            assert isinstance(centre, tuple) and centre[3] == 255  # drawn, not transparent


def test_the_release_workflow_builds_installs_and_signs_everywhere() -> None:
    path = ROOT / ".github" / "workflows" / "release.yml"
    text = path.read_text(encoding="utf-8")
    workflow = yaml.safe_load(text)
    job = workflow["jobs"]["build"]
    systems = {entry["os"].split("-")[0] for entry in job["strategy"]["matrix"]["include"]}
    assert systems == {"ubuntu", "windows", "macos"}
    runs = [step.get("run", "") for step in job["steps"]]
    assert any("packaging/build_release.py" in run for run in runs)
    for check in ("dpkg -i", "msiexec", "installer -pkg"):  # each artefact installed and run
        assert any(check in run for run in runs), check
    header = text.split("\nname:")[0]
    for secret in set(re.findall(r"secrets\.(\w+)", text)):
        assert secret in header, f"{secret} is used but not documented"


def test_the_workflow_keeps_secrets_out_of_scripts_and_the_llama_cache_on_failure() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text())
    for name, job in workflow["jobs"].items():
        for step in job["steps"]:
            # A secret pasted into a script's text breaks on a quote or a `$` (or runs it).
            assert "secrets." not in step.get("run", ""), (name, step.get("name"))
    steps = workflow["jobs"]["build"]["steps"]
    uses = [step.get("uses", "") for step in steps]
    assert not any(u.startswith("actions/cache@") for u in uses)  # saves only if all passed
    restore = next(i for i, u in enumerate(uses) if u.startswith("actions/cache/restore@"))
    save = next(i for i, u in enumerate(uses) if u.startswith("actions/cache/save@"))
    llama = next(i for i, s in enumerate(steps) if "--llama-only" in s.get("run", ""))
    build = next(
        i
        for i, s in enumerate(steps)
        if "build_release.py" in s.get("run", "") and "--llama-only" not in s.get("run", "")
    )
    assert restore < llama < save < build  # saved as soon as built, before what may fail
    rule = steps[save]["if"]
    assert "always()" in rule or "!cancelled()" in rule
    assert steps[save]["with"]["path"] == steps[restore]["with"]["path"]
    restore_id = steps[restore]["id"]
    assert f"steps.{restore_id}.outputs.cache-primary-key" in steps[save]["with"]["key"]
    # The WiX extensions the MSI build passes are the ones the workflow installs.
    wix = next(s["run"] for s in steps if "wix extension add" in s.get("run", ""))
    for extension in release_windows.WIX_EXTENSIONS:
        assert f"wix extension add --global {extension}/" in wix
