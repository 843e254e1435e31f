"""The quick-ask shortcut: parsed by name, registered with the X server, clashes detected; on
Wayland asked of the desktop through the real xdg-desktop-portal; on Windows (simulated) every
key the settings editor writes mapped, RegisterHotKey's errors told apart, start() never a
success without the listening thread's word."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from pytestqt.qtbot import QtBot

from lanterne.desktop import hotkey as hotkey_module
from lanterne.desktop import windows_keys
from lanterne.desktop.hotkey import GlobalHotkey, Hotkey, HotkeyError, parse_hotkey
from lanterne.desktop.portal_shortcut import preferred_trigger
from lanterne.desktop.settings_dialog import hotkey_text
from support import desktop_portal, xvfb
from support.qt_keys import MODIFIER_KEYS, all_qt_keys, editor_key_names, unnamed_special_keys
from support.windows_layouts import LAYOUTS, characters, vk_key_scan

US = vk_key_scan(LAYOUTS["en-US"])

pytestmark = pytest.mark.gui


def test_shortcuts_are_parsed_by_key_name() -> None:
    hotkey = parse_hotkey("Ctrl+Shift+Space")
    assert hotkey.modifiers == {"ctrl", "shift"} and hotkey.key == "space"
    assert str(hotkey) == "ctrl+shift+space"
    assert str(parse_hotkey("shift + control + K")) == "ctrl+shift+k"
    assert str(parse_hotkey("cmd+alt+f12")) == "alt+super+f12"
    for bad, why in (
        ("space", "at least one modifier"),
        ("ctrl+shift", "needs a key"),
        ("hyper+space", "Unknown modifier"),
        ("", "No shortcut"),
    ):
        with pytest.raises(HotkeyError, match=why):
            parse_hotkey(bad)


@pytest.fixture
def x_display(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if not xvfb.available():
        pytest.skip("needs Xvfb and xdotool (dev.py installs them)")
    with xvfb.xvfb() as name:
        monkeypatch.setenv("DISPLAY", name)
        monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
        yield name


@pytest.mark.xserver
def test_a_shortcut_held_by_another_application_is_reported(x_display: str) -> None:
    first = GlobalHotkey(parse_hotkey("ctrl+shift+space"))
    first.start()  # another X client holding it, as a second application would
    try:
        second = GlobalHotkey(parse_hotkey("ctrl+shift+space"))
        with pytest.raises(HotkeyError, match="already used by another application"):
            second.start()
        free = GlobalHotkey(parse_hotkey("ctrl+alt+k"))
        free.start()  # a free one is fine
        free.stop()
    finally:
        first.stop()
    again = GlobalHotkey(parse_hotkey("ctrl+shift+space"))
    again.start()  # released on stop
    again.stop()


@pytest.fixture
def wayland(monkeypatch: pytest.MonkeyPatch) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("Linux desktops only")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    monkeypatch.setenv("QT_QPA_PLATFORM", "wayland")
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)


def _portal_or_skip() -> None:
    if not desktop_portal.available():
        pytest.skip("needs dbus-daemon and xdg-desktop-portal (dev.py installs them)")


def test_shortcuts_are_asked_of_the_portal_in_the_xdg_specification_s_words() -> None:
    """Modifiers, then an xkbcommon keysym name: the editor's "pgup" or "," is not one."""
    ctrl = frozenset({"ctrl"})
    assert preferred_trigger(frozenset({"shift", "ctrl"}), "space") == "CTRL+SHIFT+space"
    assert preferred_trigger(frozenset({"super", "alt"}), "f12") == "ALT+LOGO+F12"
    assert preferred_trigger(ctrl, "k") == "CTRL+k"
    assert preferred_trigger(ctrl, "pgup") == "CTRL+Page_Up"
    assert preferred_trigger(ctrl, "esc") == "CTRL+Escape"
    assert preferred_trigger(ctrl, "backspace") == "CTRL+BackSpace"
    assert preferred_trigger(ctrl, "volume up") == "CTRL+XF86AudioRaiseVolume"
    assert preferred_trigger(ctrl, ",") == "CTRL+comma"
    assert preferred_trigger(ctrl, "+") == "CTRL+plus"
    assert preferred_trigger(ctrl, "é") == "CTRL+eacute"
    assert preferred_trigger(ctrl, "²") == "CTRL+twosuperior"
    assert preferred_trigger(ctrl, "voice dial") is None  # no keysym: the desktop asks the user


@pytest.mark.usefixtures("wayland")
def test_wayland_without_a_session_bus_explains_how_to_bind_the_command(qtbot: QtBot) -> None:
    hotkey = GlobalHotkey(parse_hotkey("ctrl+shift+space"))
    with qtbot.waitSignal(hotkey.lost, timeout=10000) as lost:
        hotkey.start()  # never blocks: the answer comes from the hotkey's thread
    hotkey.stop()
    assert lost.args is not None and "lanterne quick-ask" in lost.args[0]


@pytest.mark.xserver
@pytest.mark.usefixtures("wayland")
def test_wayland_asks_the_desktop_portal_and_relays_its_presses(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _portal_or_skip()
    with desktop_portal.desktop_portal(tmp_path) as portal:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", portal.address)
        hotkey = GlobalHotkey(parse_hotkey("ctrl+shift+space"))
        with qtbot.waitSignal(hotkey.bound, timeout=10000) as bound:
            hotkey.start()
        try:
            # The desktop's dialog was asked for our shortcut, in the specification's words,
            # and its own words for the trigger come back to show the user.
            asked = portal.event("bound")["shortcuts"]
            assert asked == [
                [
                    "quick-ask",
                    {
                        "description": "Open Lanterne's quick-ask window",
                        "preferred_trigger": "CTRL+SHIFT+space",
                    },
                ]
            ]
            assert bound.args == ["Ctrl+Shift+Space"]
            for _press in range(3):
                with qtbot.waitSignal(hotkey.activated, timeout=10000):
                    portal.order("press")
            with qtbot.waitSignal(hotkey.lost, timeout=10000) as lost:
                portal.order("unbind")  # removed in the desktop's settings
            assert lost.args is not None and "removed" in lost.args[0]
        finally:
            hotkey.stop()
        assert portal.event("closed")  # the session is closed with the shortcut


@pytest.mark.xserver
@pytest.mark.usefixtures("wayland")
def test_the_portal_is_asked_for_a_named_key_by_its_keysym_or_left_to_choose(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _portal_or_skip()
    with desktop_portal.desktop_portal(tmp_path) as portal:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", portal.address)
        for text, asked in (("ctrl+pgup", "CTRL+Page_Up"), ("ctrl+voice dial", None)):
            hotkey = GlobalHotkey(parse_hotkey(text))
            with qtbot.waitSignal(hotkey.bound, timeout=10000):
                hotkey.start()
            hotkey.stop()
            shortcut = portal.event("bound")["shortcuts"][0][1]
            assert shortcut.get("preferred_trigger") == asked, text


@pytest.mark.xserver
@pytest.mark.usefixtures("wayland")
def test_a_shortcut_declined_in_the_desktop_s_dialog_is_reported(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _portal_or_skip()
    with desktop_portal.desktop_portal(tmp_path, backend="decline") as portal:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", portal.address)
        hotkey = GlobalHotkey(parse_hotkey("ctrl+alt+k"))
        with qtbot.waitSignal(hotkey.lost, timeout=10000) as lost:
            hotkey.start()
        hotkey.stop()
        assert lost.args is not None and "declined" in lost.args[0]
        assert portal.event("bound")["shortcuts"][0][1]["preferred_trigger"] == "CTRL+ALT+k"


@pytest.mark.xserver
@pytest.mark.usefixtures("wayland")
def test_a_desktop_without_a_shortcut_portal_explains_how_to_bind_the_command(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _portal_or_skip()
    with desktop_portal.desktop_portal(tmp_path, backend=None) as portal:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", portal.address)
        hotkey = GlobalHotkey(parse_hotkey("ctrl+shift+space"))
        with qtbot.waitSignal(hotkey.lost, timeout=10000) as lost:
            hotkey.start()
        hotkey.stop()
    assert lost.args is not None
    assert "no shortcut portal" in lost.args[0] and "lanterne quick-ask" in lost.args[0]


# Windows, simulated: user32 is a fake, VkKeyScanW a written layout (support/windows_layouts.py).

WM_HOTKEY = 0x0312

# The keys Qt's Windows key mapper turns a virtual key into (qwindowskeymapper.cpp, KeyTbl and
# the extended-key rules): all must reach RegisterHotKey under the name the settings editor gives.
QT_KEYS_FROM_WINDOWS = [
    *(Qt.Key.Key_Cancel, Qt.Key.Key_Backspace, Qt.Key.Key_Tab, Qt.Key.Key_Backtab),
    *(Qt.Key.Key_Clear, Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Pause),
    *(Qt.Key.Key_CapsLock, Qt.Key.Key_Escape, Qt.Key.Key_Space, Qt.Key.Key_PageUp),
    *(Qt.Key.Key_PageDown, Qt.Key.Key_End, Qt.Key.Key_Home, Qt.Key.Key_Left, Qt.Key.Key_Up),
    *(Qt.Key.Key_Right, Qt.Key.Key_Down, Qt.Key.Key_Select, Qt.Key.Key_Printer),
    *(Qt.Key.Key_Execute, Qt.Key.Key_Print, Qt.Key.Key_Insert, Qt.Key.Key_Delete),
    *(Qt.Key.Key_Help, Qt.Key.Key_Menu, Qt.Key.Key_Sleep, Qt.Key.Key_NumLock),
    *(Qt.Key.Key_ScrollLock, Qt.Key.Key_Massyo, Qt.Key.Key_Touroku, Qt.Key.Key_Back),
    *(Qt.Key.Key_Forward, Qt.Key.Key_Refresh, Qt.Key.Key_Stop, Qt.Key.Key_Search),
    *(Qt.Key.Key_Favorites, Qt.Key.Key_HomePage, Qt.Key.Key_VolumeMute),
    *(Qt.Key.Key_VolumeDown, Qt.Key.Key_VolumeUp, Qt.Key.Key_MediaNext),
    *(Qt.Key.Key_MediaPrevious, Qt.Key.Key_MediaStop, Qt.Key.Key_MediaPlay),
    *(Qt.Key.Key_MediaTogglePlayPause, Qt.Key.Key_LaunchMail, Qt.Key.Key_LaunchMedia),
    *(Qt.Key.Key_Launch0, Qt.Key.Key_Launch1, Qt.Key.Key_Play, Qt.Key.Key_Zoom),
    *(Qt.Key(Qt.Key.Key_F1.value + n) for n in range(24)),
    *(Qt.Key(Qt.Key.Key_0.value + n) for n in range(10)),
    *(Qt.Key(Qt.Key.Key_A.value + n) for n in range(26)),
]
# The editor never writes these as a key: modifiers alone ("Option" is a modifier's name too), an
# unknown key (an empty sequence), and the special keys Qt has no name for (dead keys, AltGr...).
NOT_WRITTEN = {*MODIFIER_KEYS, Qt.Key.Key_Option, Qt.Key.Key_unknown, *unnamed_special_keys()}


def test_every_key_the_settings_editor_writes_has_a_windows_code_or_a_reason() -> None:
    names = editor_key_names()
    assert set(all_qt_keys()) - set(names) == NOT_WRITTEN
    assert {names[Qt.Key.Key_Comma], names[Qt.Key.Key_nobreakspace]} == {",", "\u00a0"}
    layouts = [vk_key_scan(rows) for rows in LAYOUTS.values()]
    for key, name in names.items():
        for scan in layouts:
            try:
                vk, _needs = windows_keys.key_code(name, scan)
            except windows_keys.WindowsKeyError as exc:
                assert key not in QT_KEYS_FROM_WINDOWS, (key, name)
                assert name in str(exc) or name.upper() in str(exc)
            else:
                assert windows_keys.is_key_code(vk) and 0x01 <= vk <= 0xFE, (key, name, vk)
    for key in QT_KEYS_FROM_WINDOWS:
        assert key in names, key
    # The names the review found refused, and their codes.
    assert {names[k] for k in (Qt.Key.Key_Return, Qt.Key.Key_Escape, Qt.Key.Key_Backspace)} == {
        "return",
        "esc",
        "backspace",
    }
    assert names[Qt.Key.Key_PageUp] == "pgup" and windows_keys.key_code("pgup", US)[0] == 0x21


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_every_character_of_a_layout_as_the_editor_writes_it_reaches_a_key(layout: str) -> None:
    """Qt names a key by the character it types ("²", "ù", "ß", "€" beyond Qt's key table too):
    as the editor writes it, each maps to its key on that layout, or AltGr's is refused."""
    rows = LAYOUTS[layout]
    scan = vk_key_scan(rows)
    without_altgr = {char for _vk, plain, shifted, _altgr in rows for char in (plain, shifted)}
    for char in sorted(characters(rows)):
        if char != char.lower() and char.lower() in characters(rows):
            continue  # "Ü" is written "ü", the key's other character: checked as "ü"
        # Qt keeps a key's character in capitals: "µ" comes back as Greek "μ".
        name = hotkey_text(QKeySequence(f"Ctrl+{char}")).removeprefix("ctrl+")
        assert name == char.lower() or (char, name) == ("µ", "μ"), (char, name)
        if char.isascii() and char.isalnum():
            assert windows_keys.key_code(name, never_asked) == (ord(char.upper()), 0)
        elif char in without_altgr:
            vk, needs = windows_keys.key_code(name, scan)
            assert (vk, bool(needs)) == (scan(char) & 0xFF, bool(scan(char) >> 8)), char
        else:
            with pytest.raises(windows_keys.WindowsKeyError, match="AltGr"):
                windows_keys.key_code(name, scan)


def never_asked(char: str) -> int:
    raise AssertionError(f"the layout was asked for {char!r}")


class FakeUser32:
    """user32 as RegisterHotKey and its message queue behave, with a chosen last error."""

    def __init__(self, refuse_with: int = 0, presses: int = 0) -> None:
        self.refuse_with = refuse_with
        self.presses = presses
        self.registered: list[tuple[object, int, int, int]] = []
        self.unregistered = 0
        self.last_error = 0

    def RegisterHotKey(self, hwnd: object, ident: int, modifiers: int, vk: int) -> int:  # noqa: N802
        self.registered.append((hwnd, ident, modifiers, vk))
        self.last_error = self.refuse_with
        return 0 if self.refuse_with else 1

    def UnregisterHotKey(self, hwnd: object, ident: int) -> int:  # noqa: N802
        self.unregistered += 1
        return 1

    def PeekMessageW(self, message: Any, *_args: object) -> int:  # noqa: N802
        if not self.presses:
            return 0
        self.presses -= 1
        message._obj.message = WM_HOTKEY
        return 1


@pytest.fixture
def windows(monkeypatch: pytest.MonkeyPatch) -> Callable[..., FakeUser32]:
    """sys.platform "win32" and a fake user32 loaded with use_last_error, as hotkey.py does."""
    import ctypes

    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(windows_keys, "system_scan", lambda: vk_key_scan(LAYOUTS["fr-FR"]))
    monkeypatch.setattr(ctypes, "FormatError", lambda code: "The parameter is incorrect.", False)

    def install(refuse_with: int = 0, presses: int = 0) -> FakeUser32:
        user32 = FakeUser32(refuse_with, presses)

        def win_dll(name: str, use_last_error: bool = False) -> FakeUser32:
            assert name == "user32" and use_last_error  # else the last error is not kept
            return user32

        monkeypatch.setattr(ctypes, "WinDLL", win_dll, False)
        monkeypatch.setattr(ctypes, "get_last_error", lambda: user32.last_error, False)
        return user32

    return install


def test_windows_registers_the_key_of_the_layout_and_relays_presses(
    windows: Callable[..., FakeUser32], qtbot: QtBot
) -> None:
    user32 = windows(presses=1)
    hotkey = GlobalHotkey(parse_hotkey("ctrl+²"))  # AZERTY: the key left of 1
    with qtbot.waitSignal(hotkey.activated, timeout=5000):
        hotkey.start()
    hotkey.stop()
    ctrl_norepeat = windows_keys.MOD_CONTROL | windows_keys.MOD_NOREPEAT
    assert user32.registered == [(None, 1, ctrl_norepeat, 0xDE)]  # VK_OEM_7, not VK_MEDIA_STOP
    assert user32.unregistered == 1


def test_windows_reports_a_taken_shortcut_as_taken(windows: Callable[..., FakeUser32]) -> None:
    windows(refuse_with=1409)  # ERROR_HOTKEY_ALREADY_REGISTERED
    with pytest.raises(HotkeyError, match="already used by another application"):
        GlobalHotkey(parse_hotkey("ctrl+shift+space")).start()


def test_windows_reports_another_refusal_in_its_own_words(
    windows: Callable[..., FakeUser32],
) -> None:
    windows(refuse_with=87)  # ERROR_INVALID_PARAMETER
    with pytest.raises(HotkeyError) as refused:
        GlobalHotkey(parse_hotkey("ctrl+shift+space")).start()
    assert "already used" not in str(refused.value)
    assert "The parameter is incorrect (error 87)" in str(refused.value)


def test_windows_refuses_a_key_the_layout_lacks_at_once(
    windows: Callable[..., FakeUser32], monkeypatch: pytest.MonkeyPatch
) -> None:
    user32 = windows()
    monkeypatch.setattr(windows_keys, "system_scan", lambda: lambda char: -1)
    began = time.monotonic()
    with pytest.raises(HotkeyError, match="No key types “ß” on this keyboard layout"):
        GlobalHotkey(parse_hotkey("ctrl+ß")).start()
    assert time.monotonic() - began < 1
    assert user32.registered == []


def test_a_listener_that_breaks_before_holding_the_shortcut_is_a_failure_at_once(
    windows: Callable[..., FakeUser32], monkeypatch: pytest.MonkeyPatch
) -> None:
    import ctypes

    windows()

    def broken(name: str, use_last_error: bool = False) -> FakeUser32:
        raise OSError("user32 could not be loaded")

    monkeypatch.setattr(ctypes, "WinDLL", broken, False)
    began = time.monotonic()
    with pytest.raises(HotkeyError, match="could not be registered because of an unexpected"):
        GlobalHotkey(parse_hotkey("ctrl+shift+space")).start()
    assert time.monotonic() - began < 1


@pytest.fixture
def x11_listener(monkeypatch: pytest.MonkeyPatch) -> Callable[[hotkey_module.Listener], None]:
    """The X11 path up to its listening thread, whose body the test gives."""
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)

    def use(listen: hotkey_module.Listener) -> None:
        monkeypatch.setattr(hotkey_module, "_listen_x11", listen)

    return use


def test_a_listener_that_never_answers_is_not_a_success(
    x11_listener: Callable[[hotkey_module.Listener], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hotkey_module, "START_TIMEOUT_S", 0.3)

    def silent(
        hotkey: Hotkey,
        fire: Callable[[], object],
        stop: threading.Event,
        ready: threading.Event,
        failure: list[str],
    ) -> None:
        stop.wait(10)  # holds nothing, says nothing, until told to stop

    x11_listener(silent)
    began = time.monotonic()
    with pytest.raises(HotkeyError, match="the system did not answer"):
        GlobalHotkey(parse_hotkey("ctrl+shift+space")).start()
    assert time.monotonic() - began < 2  # stopped, not waited for


def test_a_listener_that_ends_without_a_word_is_not_a_success(
    x11_listener: Callable[[hotkey_module.Listener], None],
) -> None:
    x11_listener(lambda *_args: None)
    began = time.monotonic()
    with pytest.raises(HotkeyError, match="the system did not answer"):
        GlobalHotkey(parse_hotkey("ctrl+shift+space")).start()
    assert time.monotonic() - began < 1


def test_an_x_display_that_cannot_be_reached_is_said_in_words(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from Xlib import display, error

    def unreachable(*_args: object) -> None:  # python-xlib's words for a missing server
        raise error.DisplayConnectionError(":4242", "[Errno 2] No such file or directory")

    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("DISPLAY", ":4242")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(display, "Display", unreachable)
    with pytest.raises(HotkeyError) as refused:
        GlobalHotkey(parse_hotkey("ctrl+shift+space")).start()
    assert "the X display cannot be reached" in str(refused.value)
    assert "lanterne quick-ask" in str(refused.value)
    assert "Errno" not in str(refused.value) and ":4242" not in str(refused.value)
