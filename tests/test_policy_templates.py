"""The policy templates IT deploys (Linux TOML, Windows ADMX/ADML, macOS profile) name the
keys Lanterne reads, and say the same in French and English."""

from __future__ import annotations

import plistlib
import re
from pathlib import Path
from typing import Any

from lxml import etree

from lanterne.foundation.policy import KNOWN_KEYS, read_plist, read_toml
from lanterne.foundation.settings import Settings

POLICY = Path(__file__).resolve().parent.parent / "packaging" / "policy"
NS = {"p": "http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions"}


def _all(tree: Any, expression: str) -> set[str]:
    return {str(v) for v in tree.xpath(expression, namespaces=NS)}


def _parse(path: Path) -> Any:
    return etree.parse(str(path))


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def test_the_linux_example_is_a_policy_lanterne_applies() -> None:
    policy = read_toml(POLICY / "policy.toml")
    settings = Settings(policy=policy)
    assert settings.get_str("ui.language") == "fr" and settings.is_locked("models.hub_url")
    assert settings.get_int("retrieval.top_k") == 6
    assert not policy.downloads and policy.remote_urls == ("https://llm.example.org",)
    assert policy.model_allowed(settings.get_str("model.path"))


def test_the_macos_profile_carries_the_same_policy(tmp_path: Path) -> None:
    profile = plistlib.loads((POLICY / "org.lanterne.Lanterne.mobileconfig").read_bytes())
    (payload,) = profile["PayloadContent"]
    assert payload["PayloadType"] == "org.lanterne.Lanterne"
    # What macOS writes to /Library/Managed Preferences: the payload's keys.
    managed = tmp_path / "org.lanterne.Lanterne.plist"
    managed.write_bytes(plistlib.dumps(payload))
    mac = read_plist(managed)
    linux = read_toml(POLICY / "policy.toml")
    assert mac.settings.keys() == linux.settings.keys()
    assert (mac.downloads, mac.remote, mac.allowed_models, mac.remote_urls) == (
        linux.downloads,
        linux.remote,
        linux.allowed_models,
        linux.remote_urls,
    )


def test_the_group_policy_template_writes_the_keys_lanterne_reads() -> None:
    admx = _parse(POLICY / "lanterne.admx")
    value_names = _all(admx, "//p:policy/@valueName | //p:elements/*/@valueName")
    assert {_snake(v) for v in value_names} == set(KNOWN_KEYS) - {"settings"}
    assert _all(admx, "//p:policy/@key") == {r"Software\Policies\Lanterne"}
    strings = set(re.findall(r"\$\(string\.(\w+)\)", (POLICY / "lanterne.admx").read_text()))
    presentations = _all(admx, "//p:policy/@presentation")
    ids = {re.sub(r"\$\(presentation\.(\w+)\)", r"\1", p) for p in presentations}
    texts = {}
    for language in ("en-US", "fr-FR"):
        adml = _parse(POLICY / language / "lanterne.adml")
        table = {s.get("id"): s.text for s in adml.xpath("//p:string", namespaces=NS)}
        assert set(table) == strings, language
        shown = _all(adml, "//p:presentation/@id")
        assert shown == ids, language
        refs = _all(adml, "//p:presentation/*/@refId")
        assert refs == ids  # each box edits the element of the same name
        texts[language] = table
    translated = [k for k in strings if k.endswith("_Help")]
    assert all(texts["fr-FR"][k] != texts["en-US"][k] for k in translated)
