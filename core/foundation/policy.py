"""The organisation's policy: what an IT department fixes for every user of a machine.

Read at start from the system's managed location, which users cannot write: Linux
`/etc/lanterne/policy.toml`, Windows `HKLM\\Software\\Policies\\Lanterne`, macOS managed
preferences (`/Library/Managed Preferences/[user/]org.lanterne.Lanterne.plist`, written by an
MDM profile). A file named by `LANTERNE_POLICY` adds rules, to try a policy before deploying
it; it never loosens the system's. Precedence: policy > the user's settings > defaults.

The same keys everywhere (TOML keys, registry values, plist keys): a few named for what IT
asks for, plus a `settings` table that locks any setting by its key.
"""

from __future__ import annotations

import getpass
import importlib
import math
import os
import plistlib
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lanterne.foundation.server_address import normalize_base_url
from lanterne.foundation.translation import _

BUNDLE_ID = "org.lanterne.Lanterne"
LINUX_POLICY = Path("/etc/lanterne/policy.toml")
MACOS_MANAGED = Path("/Library/Managed Preferences")
WINDOWS_KEY = r"Software\Policies\Lanterne"
POLICY_ENV = "LANTERNE_POLICY"

# Named keys that lock one setting each.
_SETTING_KEYS = {
    "model_path": "model.path",
    "model_mirror": "models.hub_url",
    "hotkey": "quick_ask.hotkey",
    "language": "ui.language",
}
_LIST_KEYS = ("allowed_models", "remote_urls", "folders")
_BOOL_KEYS = ("downloads", "remote")
KNOWN_KEYS = (*_SETTING_KEYS, *_LIST_KEYS, *_BOOL_KEYS, "settings")


class PolicyError(ValueError):
    """A policy that cannot be applied; names where it came from and what is wrong."""


@dataclass(frozen=True)
class Policy:
    settings: Mapping[str, Any] = field(default_factory=dict)  # locked settings, raw values
    allowed_models: tuple[str, ...] = ()  # model names or file names; empty allows any
    downloads: bool = True
    remote: bool = True
    remote_urls: tuple[str, ...] = ()  # the only servers allowed; empty allows any
    folders: tuple[str, ...] = ()  # watched for every user, cannot be removed
    sources: tuple[str, ...] = ()  # where the rules came from, for messages

    def locks(self, key: str) -> bool:
        return key in self.settings

    def model_allowed(self, name: str) -> bool:
        """Whether a model, by its catalog name, file name or path, may be used."""
        if not self.allowed_models:
            return True
        candidates = {name, Path(name).name, Path(name).stem}
        return any(Path(allowed).name in candidates for allowed in self.allowed_models)

    def remote_allowed(self, url: str) -> bool:

        if not self.remote:
            return False
        allowed = {normalize_base_url(u) for u in self.remote_urls}
        return not allowed or normalize_base_url(url) in allowed

    def describe(self) -> dict[str, Any]:
        """What the policy sets, as `lanterne policy --json` prints it."""
        return {
            "sources": list(self.sources),
            "settings": dict(self.settings),
            "allowed_models": list(self.allowed_models),
            "downloads": self.downloads,
            "remote": self.remote,
            "remote_urls": list(self.remote_urls),
            "folders": list(self.folders),
        }


NO_POLICY = Policy()


def policy_from_mapping(data: Mapping[str, Any], source: str) -> Policy:
    """A policy from the keys of one location; unknown keys are errors, so a misspelt rule
    is found when it is deployed rather than silently ignored."""
    unknown = sorted(set(data) - set(KNOWN_KEYS))
    if unknown:
        raise PolicyError(
            _("The policy {source} has unknown keys: {keys}. Known keys: {known}.").format(
                source=source, keys=", ".join(unknown), known=", ".join(KNOWN_KEYS)
            )
        )
    settings: dict[str, Any] = {}
    table = data.get("settings", {})
    if not isinstance(table, Mapping):
        raise PolicyError(
            _("In the policy {source}, 'settings' must be a table of setting keys.").format(
                source=source
            )
        )
    settings.update(table)
    for name, key in _SETTING_KEYS.items():
        if name in data:
            settings[key] = data[name]
    lists = {name: _string_list(data.get(name, ()), name, source) for name in _LIST_KEYS}
    flags = {name: on_off(data.get(name, True), name, source) for name in _BOOL_KEYS}
    if not flags["remote"]:
        settings["engine.backend"] = "local"
    return Policy(
        settings=settings,
        allowed_models=lists["allowed_models"],
        downloads=flags["downloads"],
        remote=flags["remote"],
        remote_urls=lists["remote_urls"],
        folders=lists["folders"],
        sources=(source,),
    )


def _string_list(value: Any, name: str, source: str) -> tuple[str, ...]:
    if isinstance(value, str):  # a registry REG_SZ, or a single entry written without brackets
        value = [value] if value else []
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise PolicyError(
            _("In the policy {source}, {name} must be a list of strings.").format(
                source=source, name=name
            )
        )
    return tuple(value)


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def on_off(value: Any, name: str, source: str) -> bool:
    """A switch as any policy writes it: a boolean (TOML, plist), 1 or 0 (Group Policy writes
    REG_DWORD), or text such as "true" or "0" (Group Policy Preferences' string values)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise PolicyError(
        _(
            "In the policy {source}, {name} must be on or off (1 or 0, true or false), "
            "not {value!r}."
        ).format(source=source, name=name, value=value)
    )


def as_declared(value: Any, kind: type, name: str, source: str) -> str | int | float | bool:
    """A locked setting's value as the type the setting declares, where nothing is lost in the
    conversion (1 -> on, "6" -> 6, 1 -> 1.0, 8192.0 -> 8192); anything else is a PolicyError
    naming the value, so a wrong deployment is found at once rather than guessed at."""
    if isinstance(value, list | tuple):  # a REG_MULTI_SZ, a TOML array, a plist array
        raise PolicyError(
            _("In the policy {source}, {name} must be one value, not a list.").format(
                source=source, name=name
            )
        )
    if kind is bool:
        return on_off(value, name, source)
    if kind is str:
        if isinstance(value, str):
            return value
        raise PolicyError(
            _("In the policy {source}, {name} must be text, not {value!r}.").format(
                source=source, name=name, value=value
            )
        )
    number = _number(value)
    if kind is int and (isinstance(number, int) or (number is not None and number.is_integer())):
        return int(number)
    if kind is float and number is not None:
        return float(number)
    message = (
        _("In the policy {source}, {name} must be a whole number, not {value!r}.")
        if kind is int
        else _("In the policy {source}, {name} must be a number, not {value!r}.")
    )
    raise PolicyError(message.format(source=source, name=name, value=value))


def _number(value: Any) -> int | float | None:
    """`value` as a finite number, from a number or its text; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            value = int(text)
        except ValueError:
            try:
                value = float(text)
            except ValueError:
                return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    return None


def merged(stronger: Policy, weaker: Policy) -> Policy:
    """Both policies at once: `stronger` wins where both set a value, and the restrictions of
    each hold (a model must be allowed by both, downloads off if either turns them off)."""
    return Policy(
        settings={**weaker.settings, **stronger.settings},
        allowed_models=_both(stronger.allowed_models, weaker.allowed_models),
        downloads=stronger.downloads and weaker.downloads,
        remote=stronger.remote and weaker.remote,
        remote_urls=_both(stronger.remote_urls, weaker.remote_urls),
        folders=tuple(dict.fromkeys((*stronger.folders, *weaker.folders))),
        sources=(*stronger.sources, *weaker.sources),
    )


def _both(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    if a and b:
        return tuple(x for x in a if x in b) or ("",)  # nothing allowed by both: none at all
    return a or b


def read_toml(path: Path) -> Policy:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError(
            _("Cannot read the policy {source}: {error}").format(source=path, error=exc)
        ) from exc
    return policy_from_mapping(data, str(path))


def read_plist(path: Path) -> Policy:
    try:
        data = plistlib.loads(path.read_bytes())
    except (OSError, plistlib.InvalidFileException, ValueError) as exc:
        raise PolicyError(
            _("Cannot read the policy {source}: {error}").format(source=path, error=exc)
        ) from exc
    data = {k: v for k, v in data.items() if not k.startswith("Payload")}  # profile keys
    return policy_from_mapping({_plist_key(k): v for k, v in data.items()}, str(path))


def _plist_key(key: str) -> str:
    """macOS profiles write keys in CamelCase ("AllowedModels"); the policy's are snake_case."""
    out = "".join("_" + c.lower() if c.isupper() else c for c in key)
    return out.lstrip("_")


def _read_registry() -> Policy:
    winreg: Any = importlib.import_module("winreg")  # Windows only
    source = "HKLM\\" + WINDOWS_KEY
    try:
        root = winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, WINDOWS_KEY)
    except OSError:
        return NO_POLICY
    with root:
        data = {_plist_key(k): v for k, v in _registry_values(winreg, root, source).items()}
        try:
            sub = winreg.OpenKey(root, "Settings")
        except OSError:
            sub = None
        if sub is not None:
            with sub:
                found = _registry_values(winreg, sub, source + "\\Settings")
            data["settings"] = {k.lower(): v for k, v in found.items()}  # names ignore case
    return policy_from_mapping(data, source)


def _registry_values(winreg: Any, key: Any, source: str) -> dict[str, Any]:
    """A key's values, each as its registry type says: text (REG_SZ; REG_EXPAND_SZ with its
    %VARIABLES% expanded), a list of text (REG_MULTI_SZ), a signed number (REG_DWORD and
    REG_QWORD: regedit shows -1 as 0xffffffff). The key's `(Default)` value is not a rule."""
    found: dict[str, Any] = {}
    bits_of = {winreg.REG_DWORD: 32, winreg.REG_QWORD: 64}
    index = 0
    while True:
        try:
            name, value, kind = winreg.EnumValue(key, index)
        except OSError:  # no more values
            return found
        index += 1
        if not name:
            continue
        if kind == winreg.REG_SZ:
            found[name] = value
        elif kind == winreg.REG_EXPAND_SZ:
            found[name] = winreg.ExpandEnvironmentStrings(value)
        elif kind == winreg.REG_MULTI_SZ:
            found[name] = list(value)
        elif kind in bits_of and isinstance(value, int):
            bits = bits_of[kind]
            found[name] = value - (1 << bits) if value >= 1 << (bits - 1) else value
        else:
            described = _("binary data") if kind == winreg.REG_BINARY else _("of an unknown type")
            raise PolicyError(
                _(
                    "In the policy {source}, {name} is {described}: write it as text "
                    "(REG_SZ), a list of text (REG_MULTI_SZ) or a number (REG_DWORD)."
                ).format(source=source, name=name, described=described)
            )


def system_policy() -> Policy:
    """The policy of this machine's administrators (none when nothing is deployed)."""
    if sys.platform == "win32":
        return _read_registry()
    if sys.platform == "darwin":
        policy = NO_POLICY
        for path in (MACOS_MANAGED / f"{BUNDLE_ID}.plist", _macos_user_plist()):
            if path.exists():
                policy = merged(read_plist(path), policy)  # the user's profile is more specific
        return policy
    return read_toml(LINUX_POLICY) if LINUX_POLICY.exists() else NO_POLICY


def _macos_user_plist() -> Path:
    return MACOS_MANAGED / getpass.getuser() / f"{BUNDLE_ID}.plist"


def load_policy() -> Policy:
    """The system's policy, plus the rules of the file `LANTERNE_POLICY` names (if any)."""
    policy = system_policy()
    extra = os.environ.get(POLICY_ENV)
    if extra:
        path = Path(extra).expanduser()
        policy = merged(policy, read_plist(path) if path.suffix == ".plist" else read_toml(path))
    return policy
