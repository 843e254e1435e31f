"""A shortcut's key as Windows sees it: a virtual-key code and RegisterHotKey's modifier flags.

Qt-free and Windows-free, so the whole table is tested on any system. Keys are named as the
settings' shortcut editor writes them (Qt's portable key names in lower case: "return", "pgup",
"del", "f12", "volume up") and mapped through Microsoft's Virtual-Key Codes table. Letters a-z and
digits 0-9 are their own codes: VK_A..VK_Z and VK_0..VK_9 name the key that bears them on every
layout. Any other character ("é", "²", "ß", ",", "!") sits on a different key from one layout to
the next, so the keyboard layout is asked, through `scan`: VkKeyScanW on Windows (`system_scan`),
a written layout in the tests. Never `ord()` of the character: "²" is 0xB2, the media Stop key.

The layout also says which shift state types the character. Shift is added to the shortcut:
the character is what the key gives with Shift, so Shift was held (Qt's editor writes Ctrl+Shift+1
on QWERTY as "ctrl+!" or "ctrl+shift+!": it drops Shift when the key's text already implies it),
and with Shift it is the key the user pressed. A character typed with AltGr is refused: AltGr is
Ctrl+Alt to Windows, so a shortcut on it would take that character ("@" and "€" on AZERTY, "@" on
QWERTZ) from every application.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from lanterne.foundation.translation import _

# A character -> VkKeyScanW's answer: shift state in the high byte, the key in the low byte,
# 0xFFFF (-1 as a SHORT) when no key of the layout types it.
Scan = Callable[[str], int]

MOD_ALT, MOD_CONTROL, MOD_SHIFT, MOD_WIN = 0x1, 0x2, 0x4, 0x8
MOD_NOREPEAT = 0x4000  # held down, the shortcut fires once
MODIFIER_FLAGS = {"alt": MOD_ALT, "ctrl": MOD_CONTROL, "shift": MOD_SHIFT, "super": MOD_WIN}
_SHIFT_STATE = 0x1  # VkKeyScanW's high byte: 1 Shift, 2 Ctrl, 4 Alt (6: AltGr), 8 Hankaku
_ALTGR_STATE = 0x6

VK_TAB = 0x09
VK_F1 = 0x70
FUNCTION_KEYS = 24  # VK_F1..VK_F24 (0x70..0x87); Windows has no F0 and no F25

# Qt's portable key names (lower case) and a few names an administrator may type in a policy.
NAMED_KEYS: dict[str, int] = {
    "cancel": 0x03,  # VK_CANCEL (Ctrl+Break)
    "backspace": 0x08,  # VK_BACK
    "tab": VK_TAB,
    "clear": 0x0C,  # VK_CLEAR (keypad 5 without Num Lock)
    "return": 0x0D,  # VK_RETURN
    "enter": 0x0D,  # the keypad's Enter: VK_RETURN as well (an extended key)
    "pause": 0x13,  # VK_PAUSE
    "capslock": 0x14,  # VK_CAPITAL
    "esc": 0x1B,  # VK_ESCAPE
    "escape": 0x1B,
    "space": 0x20,  # VK_SPACE
    "pgup": 0x21,  # VK_PRIOR
    "pageup": 0x21,
    "pgdown": 0x22,  # VK_NEXT
    "pagedown": 0x22,
    "end": 0x23,  # VK_END
    "home": 0x24,  # VK_HOME
    "left": 0x25,  # VK_LEFT
    "up": 0x26,  # VK_UP
    "right": 0x27,  # VK_RIGHT
    "down": 0x28,  # VK_DOWN
    "select": 0x29,  # VK_SELECT
    "printer": 0x2A,  # VK_PRINT
    "execute": 0x2B,  # VK_EXECUTE
    "print": 0x2C,  # VK_SNAPSHOT: Print Screen (Qt's Key_Print)
    "printscreen": 0x2C,
    "ins": 0x2D,  # VK_INSERT
    "insert": 0x2D,
    "del": 0x2E,  # VK_DELETE
    "delete": 0x2E,
    "help": 0x2F,  # VK_HELP
    "menu": 0x5D,  # VK_APPS: the context-menu key
    "sleep": 0x5F,  # VK_SLEEP
    "numlock": 0x90,  # VK_NUMLOCK
    "scrolllock": 0x91,  # VK_SCROLL
    "massyo": 0x93,  # VK_OEM_FJ_MASSHOU (Fujitsu/OASYS)
    "touroku": 0x94,  # VK_OEM_FJ_TOUROKU
    "back": 0xA6,  # VK_BROWSER_BACK
    "forward": 0xA7,  # VK_BROWSER_FORWARD
    "refresh": 0xA8,  # VK_BROWSER_REFRESH
    "stop": 0xA9,  # VK_BROWSER_STOP
    "search": 0xAA,  # VK_BROWSER_SEARCH
    "favorites": 0xAB,  # VK_BROWSER_FAVORITES
    "home page": 0xAC,  # VK_BROWSER_HOME
    "volume mute": 0xAD,  # VK_VOLUME_MUTE
    "volume down": 0xAE,  # VK_VOLUME_DOWN
    "volume up": 0xAF,  # VK_VOLUME_UP
    "media next": 0xB0,  # VK_MEDIA_NEXT_TRACK
    "media previous": 0xB1,  # VK_MEDIA_PREV_TRACK
    "media stop": 0xB2,  # VK_MEDIA_STOP
    "media play": 0xB3,  # VK_MEDIA_PLAY_PAUSE
    "toggle media play/pause": 0xB3,
    "launch mail": 0xB4,  # VK_LAUNCH_MAIL
    "launch media": 0xB5,  # VK_LAUNCH_MEDIA_SELECT
    "launch (0)": 0xB6,  # VK_LAUNCH_APP1
    "launch (1)": 0xB7,  # VK_LAUNCH_APP2
    "play": 0xFA,  # VK_PLAY
    "zoom": 0xFB,  # VK_ZOOM
}
# Names that stand for a key with Shift: Qt calls Shift+Tab "Backtab".
SHIFTED_NAMES: dict[str, int] = {"backtab": VK_TAB}

# Codes a key can carry (VkKeyScanW's answer is checked against them): not the mouse buttons,
# the modifiers themselves, unassigned or reserved codes, nor 0xFF.
_NOT_A_KEY = frozenset(
    {
        *(0x00, 0x01, 0x02, 0x04, 0x05, 0x06, 0x07, 0x0A, 0x0B, 0x0E, 0x0F),  # mouse, unassigned
        *(0x10, 0x11, 0x12, 0x5B, 0x5C, *range(0xA0, 0xA6)),  # Shift, Ctrl, Alt, Windows
        *(0x16, 0x1A, 0x5E, 0xB8, 0xB9, 0xE0, 0xE8, 0xFF),  # IME on/off, reserved, none
        *range(0x3A, 0x41),  # unassigned
        *range(0x88, 0x90),  # reserved (UI navigation)
        *range(0x97, 0xA0),  # unassigned
    }
)


# Qt names a key by its character in capitals, the settings in lower case: the micro sign
# (AZERTY's Shift+*) comes back as the Greek small mu, which the layout does not type.
_QT_RENAMED = {"\u03bc": "\u00b5"}


class WindowsKeyError(ValueError):
    """The key cannot be a shortcut on Windows; the message says so in words."""


@dataclass(frozen=True)
class Registration:
    """RegisterHotKey's two arguments: modifier flags (MOD_NOREPEAT included) and the key."""

    modifiers: int
    vk: int


def is_key_code(vk: int) -> bool:
    """A virtual-key code that stands for a key of the keyboard."""
    return 0 <= vk <= 0xFF and vk not in _NOT_A_KEY


def registration(modifiers: Iterable[str], key: str, scan: Scan) -> Registration:
    """("ctrl", "shift"), "é" -> what to register; raises WindowsKeyError."""
    flags = MOD_NOREPEAT
    for modifier in modifiers:
        flags |= MODIFIER_FLAGS[modifier]
    vk, extra = key_code(key, scan)
    return Registration(flags | extra, vk)


def key_code(key: str, scan: Scan) -> tuple[int, int]:
    """A key name -> (virtual-key code, modifier flags the key itself needs)."""
    if key in NAMED_KEYS:
        return NAMED_KEYS[key], 0
    if key in SHIFTED_NAMES:
        return SHIFTED_NAMES[key], MOD_SHIFT
    if len(key) == 1 and ("a" <= key <= "z" or "0" <= key <= "9"):
        return ord(key.upper()), 0
    if len(key) == 1:
        return character_code(key, scan)
    number = _function_key_number(key)
    if number is not None:
        if 1 <= number <= FUNCTION_KEYS:
            return VK_F1 + number - 1, 0
        raise WindowsKeyError(
            _("Windows has no {key} key: choose another shortcut in Settings.").format(
                key=key.upper()
            )
        )
    raise WindowsKeyError(
        _(
            "The key “{key}” cannot be used for a shortcut on Windows: choose another in Settings."
        ).format(key=key)
    )


def character_code(char: str, scan: Scan) -> tuple[int, int]:
    """The key that types `char` on this layout, and Shift if the layout needs it there."""
    answer = _scan(char, scan)
    if answer is None and char in _QT_RENAMED:
        answer = _scan(_QT_RENAMED[char], scan)
    if answer is None and char.upper() != char and len(char.upper()) == 1:
        answer = _scan(char.upper(), scan)  # only its capital is on the keyboard
    if answer is None:
        raise WindowsKeyError(
            _(
                "No key types “{key}” on this keyboard layout: choose another shortcut in Settings."
            ).format(key=char)
        )
    vk, state = answer
    if state & _ALTGR_STATE == _ALTGR_STATE:
        raise WindowsKeyError(
            _(
                "“{key}” is typed with AltGr on this keyboard, so a shortcut on it would stop "
                "you typing it: choose another in Settings."
            ).format(key=char)
        )
    if state & ~_SHIFT_STATE:
        raise WindowsKeyError(
            _(
                "“{key}” needs more than Shift to be typed on this keyboard and cannot be a "
                "shortcut key: choose another in Settings."
            ).format(key=char)
        )
    return vk, MOD_SHIFT if state & _SHIFT_STATE else 0


def _scan(char: str, scan: Scan) -> tuple[int, int] | None:
    """(key, shift state) from the layout, or None when no key of it types `char`."""
    if ord(char) > 0xFFFF:  # VkKeyScanW takes one UTF-16 unit: no key types an emoji
        return None
    answer = scan(char) & 0xFFFF
    vk, state = answer & 0xFF, answer >> 8
    if answer == 0xFFFF or not is_key_code(vk):
        return None
    return vk, state


def _function_key_number(key: str) -> int | None:
    digits = key[1:]
    if key.startswith("f") and digits.isascii() and digits.isdigit():
        return int(digits)
    return None


def system_scan() -> Scan:
    """VkKeyScanW of user32, with the keyboard layout of the calling thread (call it on the
    thread the user typed the shortcut on: the GUI thread)."""
    import ctypes

    user32 = ctypes.WinDLL("user32")  # type: ignore[attr-defined]
    vk_key_scan = user32.VkKeyScanW
    vk_key_scan.argtypes = [ctypes.c_wchar]
    vk_key_scan.restype = ctypes.c_short

    def scan(char: str) -> int:
        return int(vk_key_scan(char))

    return scan
