"""A small model of what Windows Installer does with packaging/windows/lanterne.wxs, to check
the installer's logic here, where no MSI can be built or run.

It evaluates MSI conditions and formatted values, orders the property-setting actions the way
WiX sequences Before/After, runs AppSearch on a dictionary standing for the registry, clicks
Next on WixUI_Advanced's scope dialog, and writes the registry values of the components whose
condition holds. WixUI_Advanced's own actions and dialog events are copied from its source
(wixtoolset/wix, src/ext/UI/wixlib/WixUI_Advanced.wxs, WiX 5), with its WiX variables
(WixUISupportPerUser, WixUISupportPerMachine: 1) substituted. What it does not model is said
where it matters: folder properties are resolved once, from the scope at the start, as
Windows Installer does in the dialogs (the cause of WiX issues 7288 and 8887).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

WIX = "{http://wixtoolset.org/schemas/v4/wxs}"
Registry = dict[tuple[str, str, str], tuple[str, str]]  # (root, key, name) -> (type, value)
Properties = dict[str, str]


# --- conditions and formatted text -------------------------------------------------------

_TOKEN = re.compile(r'\s*(?:(\()|(\))|("[^"]*")|(<>|~=|=)|([\w.]+))')


def _tokens(text: str) -> list[str]:
    found, position = [], 0
    while position < len(text.rstrip()):
        match = _TOKEN.match(text, position)
        if match is None:
            raise ValueError(f"cannot read the condition at {text[position:]!r}")
        found.append(next(group for group in match.groups() if group is not None))
        position = match.end()
    return found


def condition(text: str, props: Mapping[str, str]) -> bool:
    """An MSI condition: OR, AND, NOT, parentheses, =, <>, ~= (case-insensitive), property
    names (alone: true when set, whatever the value), "text" and integers."""
    tokens = _tokens(text)
    position = 0

    def peek() -> str | None:
        return tokens[position] if position < len(tokens) else None

    def take() -> str:
        nonlocal position
        position += 1
        return tokens[position - 1]

    def value(token: str) -> str:
        if token.startswith('"'):
            return token[1:-1]
        if token.isdigit():
            return token
        return props.get(token, "")

    def comparison() -> bool:
        if peek() == "(":
            take()
            result = either()
            assert take() == ")", text
            return result
        token = take()
        left = value(token)
        if peek() not in ("=", "<>", "~="):
            # A property alone is true when it has a value, "0" included (the classic
            # checkbox mistake); an integer alone when it is not 0.
            return left != "0" if token.isdigit() else left != ""
        operator, right = take(), value(take())
        if operator == "~=":
            return left.lower() == right.lower()
        same = int(left) == int(right) if left.isdigit() and right.isdigit() else left == right
        return same if operator == "=" else not same

    def negation() -> bool:
        if peek() == "NOT":
            take()
            return not negation()
        return comparison()

    def both() -> bool:
        result = negation()
        while peek() == "AND":
            take()
            result = negation() and result
        return result

    def either() -> bool:
        result = both()
        while peek() == "OR":
            take()
            result = both() or result
        return result

    result = either()
    assert position == len(tokens), f"unread tokens in {text!r}"
    return result


def formatted(template: str, props: Mapping[str, str]) -> str:
    """A Formatted value: [NAME] replaced by the property's value; "{}" is the empty value."""
    if template == "{}":
        return ""
    return re.sub(r"\[(\w+)\]", lambda m: props.get(m.group(1), ""), template)


# --- actions and their order -------------------------------------------------------------


@dataclass
class Action:
    """A property-setting action (a SetProperty, or one of WixUI_Advanced's own)."""

    name: str
    prop: str
    value: str
    condition: str = ""
    before: str = ""
    after: str = ""
    sequences: tuple[str, ...] = ("ui", "execute")

    def run(self, props: Properties) -> None:
        if not self.condition or condition(self.condition, props):
            props[self.prop] = formatted(self.value, props)


_INSTALL_WITH = 'ACTION="INSTALL" AND APPLICATIONFOLDER=""'
WIXUI_ADVANCED_ACTIONS = [
    Action("WixSetDefaultPerUserFolder", "WixPerUserFolder",
           r"[LocalAppDataFolder]Apps\[ApplicationFolderName]", before="CostFinalize"),
    Action("WixSetDefaultPerMachineFolder", "WixPerMachineFolder",
           "[ProgramFilesFolder][ApplicationFolderName]", after="WixSetDefaultPerUserFolder"),
    Action("WixSetPerUserFolder", "APPLICATIONFOLDER", "[WixPerUserFolder]",
           f'{_INSTALL_WITH} AND (ALLUSERS="" OR (ALLUSERS=2 AND (NOT Privileged)))',
           after="WixSetDefaultPerMachineFolder"),
    Action("WixSetPerMachineFolder", "APPLICATIONFOLDER", "[WixPerMachineFolder]",
           f"{_INSTALL_WITH} AND (ALLUSERS=1 OR (ALLUSERS=2 AND Privileged))",
           after="WixSetPerUserFolder"),
]  # fmt: skip

# InstallScopeDlg's Next button: (order, property, value, condition).
WIXUI_ADVANCED_SCOPE_NEXT = [
    (1, "WixAppFolder", "WixPerUserFolder", "1 AND NOT Privileged"),
    (2, "ALLUSERS", "{}", 'WixAppFolder = "WixPerUserFolder"'),
    (3, "ALLUSERS", "1", 'WixAppFolder = "WixPerMachineFolder"'),
    (4, "APPLICATIONFOLDER", "[WixPerUserFolder]", 'WixAppFolder = "WixPerUserFolder"'),
    (5, "APPLICATIONFOLDER", "[WixPerMachineFolder]", 'WixAppFolder = "WixPerMachineFolder"'),
]


def set_property_actions(root: ET.Element) -> list[Action]:
    sequences = {"ui": ("ui",), "execute": ("execute",), "both": ("ui", "execute")}
    actions = []
    for element in root.iter(f"{WIX}SetProperty"):
        prop = element.get("Id", "")
        kind = element.get("Sequence", "both")
        actions.append(
            Action(
                element.get("Action") or f"Set{prop}",
                prop,
                element.get("Value", ""),
                element.get("Condition", ""),
                element.get("Before", ""),
                element.get("After", ""),
                ("first",) if kind == "first" else sequences[kind],
            )
        )
    return actions


def ordered(anchor: str, actions: list[Action], sequence: str) -> Iterator[Action]:
    """The actions around a standard action, as WiX places them: each action's Before ones
    right before it and its After ones right after it, in the order they are written."""
    for action in actions:
        if action.before == anchor and _runs_in(action, sequence):
            yield from ordered(action.name, actions, sequence)
    for action in actions:
        if action.name == anchor:
            yield action
    for action in actions:
        if action.after == anchor and _runs_in(action, sequence):
            yield from ordered(action.name, actions, sequence)


def _runs_in(action: Action, sequence: str) -> bool:
    # "first": the UI sequence when there is a UI, else the execute sequence (silent).
    return sequence in action.sequences or "first" in action.sequences


# --- a session ---------------------------------------------------------------------------


@dataclass
class Session:
    """One run of the package: its properties (the scope's folders resolved at the start),
    the registry it reads and writes, and whether it has a UI."""

    root: ET.Element
    props: Properties
    registry: Registry = field(default_factory=dict)
    ui: bool = False

    @property
    def sequence(self) -> str:
        return "ui" if self.ui else "execute"

    def actions(self) -> list[Action]:
        return WIXUI_ADVANCED_ACTIONS + set_property_actions(self.root)

    def start(self) -> bool:
        """Property defaults, AppSearch with the actions around it, the launch conditions,
        then the actions before CostFinalize. False when a launch condition refuses."""
        for element in self.root.iter(f"{WIX}Property"):
            if element.get("Value") is not None and element.get("Id", "") not in self.props:
                self.props[element.get("Id", "")] = element.get("Value", "")
        actions = [*self.actions(), Action("AppSearch", "", "")]
        for action in ordered("AppSearch", actions, self.sequence):
            if action.name == "AppSearch":
                self.app_search()
            else:
                action.run(self.props)
        if not all(condition(c, self.props) for c in self.launch_conditions()):
            return False
        for action in ordered("CostFinalize", self.actions(), self.sequence):
            action.run(self.props)
        return True

    def launch_conditions(self) -> list[str]:
        return [launch.get("Condition", "") for launch in self.root.iter(f"{WIX}Launch")]

    def app_search(self) -> None:
        """A raw registry search: text as it is, an integer as "#<number>"."""
        for element in self.root.iter(f"{WIX}Property"):
            search = element.find(f"{WIX}RegistrySearch")
            if search is None:
                continue
            found = self.registry.get(
                (search.get("Root", ""), search.get("Key", ""), search.get("Name", ""))
            )
            if found is not None:
                kind, value = found
                self.props[element.get("Id", "")] = f"#{value}" if kind == "integer" else value

    def click_scope_next(self, choice: str) -> None:
        """The Advanced dialog's scope page: choose, then Next. Its events and ours, by Order."""
        self.props["WixAppFolder"] = choice
        events = list(WIXUI_ADVANCED_SCOPE_NEXT)
        for publish in self.root.iter(f"{WIX}Publish"):
            if publish.get("Dialog") == "InstallScopeDlg" and publish.get("Property"):
                events.append(
                    (
                        int(publish.get("Order", "1")),
                        publish.get("Property", ""),
                        publish.get("Value", ""),
                        publish.get("Condition", "1"),
                    )
                )
        for _order, prop, value, when in sorted(events, key=lambda event: event[0]):
            if condition(when, self.props):
                self.props[prop] = formatted(value, self.props)

    def installed_values(self) -> Registry:
        """The registry values of every component whose condition holds (HKMU: HKLM per
        machine, HKCU per user)."""
        written: Registry = {}
        for component in self.root.iter(f"{WIX}Component"):
            if not condition(component.get("Condition") or "1", self.props):
                continue
            for value in component.iter(f"{WIX}RegistryValue"):
                root = value.get("Root", "")
                if root == "HKMU":
                    root = "HKLM" if self.props.get("ALLUSERS") == "1" else "HKCU"
                where = (root, value.get("Key", ""), value.get("Name", ""))
                written[where] = (
                    value.get("Type", "string"),
                    formatted(value.get("Value", ""), self.props),
                )
        return written


def per_user_start(profile: str = r"C:\Users\admin") -> Properties:
    """A dual-scope package (ALLUSERS=2, MSIINSTALLPERUSER=1) started without ALLUSERS=1:
    per user, so Windows Installer sets ALLUSERS to "" and points the Program Files folders
    into the profile."""
    programs = rf"{profile}\AppData\Local\Programs" + "\\"
    return {
        "ACTION": "INSTALL",
        "ALLUSERS": "",
        "MSIINSTALLPERUSER": "1",
        "Privileged": "1",
        "LocalAppDataFolder": rf"{profile}\AppData\Local" + "\\",
        "ProgramFilesFolder": programs,
        "ProgramFiles64Folder": programs,
    }


def per_machine_start() -> Properties:
    """The same package started with ALLUSERS=1: per machine from the start."""
    return {
        **per_user_start(),
        "ALLUSERS": "1",
        "ProgramFilesFolder": "C:\\Program Files (x86)\\",
        "ProgramFiles64Folder": "C:\\Program Files\\",
    }


PROGRAM_FILES_KEY = ("HKLM", r"SOFTWARE\Microsoft\Windows\CurrentVersion", "ProgramFilesDir")
WINDOWS_REGISTRY: Registry = {PROGRAM_FILES_KEY: ("string", r"C:\Program Files")}
