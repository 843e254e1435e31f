"""VkKeyScanW for three Windows keyboard layouts, written out, so the key mapping is tested here.

Each layout is its character rows as Microsoft's layout sources give them (Windows-driver-samples,
input/layout: kbdfr.c/kbdfr.h French AZERTY, kbdgr.c/kbdgr.h German QWERTZ, kbdus.c US QWERTY):
(virtual key, unshifted, with Shift, with AltGr), in the order VkKeyScanW searches them (the
layout's character tables in turn, rows in order, the first match wins), numeric keypad left out
(VkKeyScanW ignores it). Dead keys are left out too ("^" and "¨" on AZERTY; "^", "´", "`" on
QWERTZ): what VkKeyScanW answers for a dead key's character is not checked here. Letters a-z are
left out where they type nothing with AltGr: the mapping never asks the layout for them.
"""

from __future__ import annotations

from collections.abc import Callable

NONE = ""  # the key types nothing in that state

SHIFT_STATE = 0x1
ALTGR_STATE = 0x6  # Ctrl+Alt: how VkKeyScanW reports AltGr

Row = tuple[int, str, str, str]

VK_OEM_1, VK_OEM_PLUS, VK_OEM_COMMA, VK_OEM_MINUS, VK_OEM_PERIOD = 0xBA, 0xBB, 0xBC, 0xBD, 0xBE
VK_OEM_2, VK_OEM_3, VK_OEM_4, VK_OEM_5, VK_OEM_6, VK_OEM_7 = 0xBF, 0xC0, 0xDB, 0xDC, 0xDD, 0xDE
VK_OEM_8, VK_OEM_102 = 0xDF, 0xE2


def vk(char: str) -> int:
    """VK_0..VK_9 and VK_A..VK_Z are the character's code."""
    return ord(char)


# kbdfr.c: aVkToWch3, aVkToWch4, aVkToWch5, then aVkToWch2.
AZERTY_FR: list[Row] = [
    (VK_OEM_5, "*", "µ", NONE),
    (VK_OEM_102, "<", ">", NONE),
    (vk("2"), "é", "2", NONE),  # AltGr: dead "~"
    (vk("3"), '"', "3", "#"),
    (vk("4"), "'", "4", "{"),
    (vk("7"), "è", "7", NONE),  # AltGr: dead "`"
    (vk("0"), "à", "0", "@"),
    (VK_OEM_4, ")", "°", "]"),
    (VK_OEM_PLUS, "=", "+", "}"),
    (vk("E"), "e", "E", "€"),
    (VK_OEM_1, "$", "£", "¤"),
    (vk("5"), "(", "5", "["),
    (vk("6"), "-", "6", "|"),
    (vk("8"), "_", "8", "\\"),
    (vk("9"), "ç", "9", "^"),
    (VK_OEM_7, "²", NONE, NONE),
    (vk("1"), "&", "1", NONE),
    (VK_OEM_3, "ù", "%", NONE),
    (VK_OEM_COMMA, ",", "?", NONE),
    (VK_OEM_PERIOD, ";", ".", NONE),
    (VK_OEM_2, ":", "/", NONE),
    (VK_OEM_8, "!", "§", NONE),
]

# kbdgr.c: aVkToWch3, aVkToWch4, aVkToWch5, then aVkToWch2.
QWERTZ_DE: list[Row] = [
    (vk("3"), "3", "§", "³"),
    (vk("7"), "7", "/", "{"),
    (vk("8"), "8", "(", "["),
    (vk("9"), "9", ")", "]"),
    (vk("0"), "0", "=", "}"),
    (VK_OEM_4, "ß", "?", "\\"),
    (vk("Q"), "q", "Q", "@"),
    (vk("E"), "e", "E", "€"),
    (vk("M"), "m", "M", "µ"),
    (VK_OEM_102, "<", ">", "|"),
    (VK_OEM_1, "ü", "Ü", NONE),
    (VK_OEM_PLUS, "+", "*", "~"),
    (VK_OEM_2, "#", "'", NONE),
    (vk("2"), "2", '"', "²"),
    (vk("6"), "6", "&", NONE),
    (VK_OEM_MINUS, "-", "_", NONE),
    (VK_OEM_5, NONE, "°", NONE),  # unshifted: dead "^"
    (vk("1"), "1", "!", NONE),
    (vk("4"), "4", "$", NONE),
    (vk("5"), "5", "%", NONE),
    (VK_OEM_3, "ö", "Ö", NONE),
    (VK_OEM_7, "ä", "Ä", NONE),
    (VK_OEM_COMMA, ",", ";", NONE),
    (VK_OEM_PERIOD, ".", ":", NONE),
]

# kbdus.c: aVkToWch3, aVkToWch4, then aVkToWch2.
QWERTY_US: list[Row] = [
    (VK_OEM_4, "[", "{", NONE),
    (VK_OEM_6, "]", "}", NONE),
    (VK_OEM_5, "\\", "|", NONE),
    (VK_OEM_102, "\\", "|", NONE),
    (vk("2"), "2", "@", NONE),
    (vk("6"), "6", "^", NONE),
    (VK_OEM_MINUS, "-", "_", NONE),
    (VK_OEM_3, "`", "~", NONE),
    (vk("1"), "1", "!", NONE),
    (vk("3"), "3", "#", NONE),
    (vk("4"), "4", "$", NONE),
    (vk("5"), "5", "%", NONE),
    (vk("7"), "7", "&", NONE),
    (vk("8"), "8", "*", NONE),
    (vk("9"), "9", "(", NONE),
    (vk("0"), "0", ")", NONE),
    (VK_OEM_PLUS, "=", "+", NONE),
    (VK_OEM_1, ";", ":", NONE),
    (VK_OEM_7, "'", '"', NONE),
    (VK_OEM_COMMA, ",", "<", NONE),
    (VK_OEM_PERIOD, ".", ">", NONE),
    (VK_OEM_2, "/", "?", NONE),
]

LAYOUTS: dict[str, list[Row]] = {"fr-FR": AZERTY_FR, "de-DE": QWERTZ_DE, "en-US": QWERTY_US}


def characters(rows: list[Row]) -> set[str]:
    return {char for _vk, *chars in rows for char in chars if char}


def vk_key_scan(rows: list[Row]) -> Callable[[str], int]:
    """VkKeyScanW over `rows`: (shift state << 8) | key, or -1 when no key types the character."""

    def scan(char: str) -> int:
        for key, plain, shifted, altgr in rows:
            for state, typed in ((0, plain), (SHIFT_STATE, shifted), (ALTGR_STATE, altgr)):
                if typed == char:
                    return state << 8 | key
        return -1

    return scan
