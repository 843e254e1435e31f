"""The Windows shortcut key table, checked here: named keys against Microsoft's Virtual-Key Codes,
characters through written AZERTY (fr-FR), QWERTZ (de-DE) and QWERTY (en-US) layouts standing in
for VkKeyScanW (tests/support/windows_layouts.py)."""

from __future__ import annotations

import re

import pytest

from lanterne.desktop import windows_keys
from lanterne.desktop.hotkey import parse_hotkey
from lanterne.desktop.windows_keys import (
    MOD_ALT,
    MOD_CONTROL,
    MOD_NOREPEAT,
    MOD_SHIFT,
    MOD_WIN,
    Registration,
    WindowsKeyError,
    key_code,
    registration,
)
from support.windows_layouts import LAYOUTS, characters, vk_key_scan

US = vk_key_scan(LAYOUTS["en-US"])
VK_MEDIA_STOP = 0xB2
VK_DIVIDE = 0x6F


def no_layout(char: str) -> int:
    return -1  # VkKeyScanW's "no key types it" (0xFFFF as a SHORT)


def never_asked(char: str) -> int:
    raise AssertionError(f"the layout was asked for {char!r}")


# From Microsoft's "Virtual-Key Codes" table (winuser.h).
@pytest.mark.parametrize(
    ("name", "vk"),
    [
        ("return", 0x0D),  # VK_RETURN
        ("enter", 0x0D),
        ("esc", 0x1B),  # VK_ESCAPE
        ("backspace", 0x08),  # VK_BACK
        ("tab", 0x09),  # VK_TAB
        ("space", 0x20),  # VK_SPACE
        ("pgup", 0x21),  # VK_PRIOR
        ("pgdown", 0x22),  # VK_NEXT
        ("end", 0x23),  # VK_END
        ("home", 0x24),  # VK_HOME
        ("left", 0x25),  # VK_LEFT
        ("up", 0x26),  # VK_UP
        ("right", 0x27),  # VK_RIGHT
        ("down", 0x28),  # VK_DOWN
        ("print", 0x2C),  # VK_SNAPSHOT
        ("ins", 0x2D),  # VK_INSERT
        ("del", 0x2E),  # VK_DELETE
        ("pause", 0x13),  # VK_PAUSE
        ("menu", 0x5D),  # VK_APPS
        ("f1", 0x70),  # VK_F1
        ("f12", 0x7B),  # VK_F12
        ("f24", 0x87),  # VK_F24
        ("volume up", 0xAF),  # VK_VOLUME_UP
        ("media play", 0xB3),  # VK_MEDIA_PLAY_PAUSE
        ("a", 0x41),
        ("z", 0x5A),
        ("0", 0x30),
        ("9", 0x39),
    ],
)
def test_named_keys_letters_and_digits_are_microsoft_s_codes(name: str, vk: int) -> None:
    assert key_code(name, never_asked) == (vk, 0)


def test_shift_tab_is_the_tab_key_with_shift() -> None:
    assert registration({"ctrl"}, "backtab", never_asked) == Registration(
        MOD_NOREPEAT | MOD_CONTROL | MOD_SHIFT, 0x09
    )


def test_modifiers_are_register_hotkey_s_flags() -> None:
    assert registration({"ctrl", "alt", "shift", "super"}, "k", never_asked) == Registration(
        MOD_NOREPEAT | MOD_CONTROL | MOD_ALT | MOD_SHIFT | MOD_WIN, 0x4B
    )


@pytest.mark.parametrize("name", ["f0", "f25", "f35"])
def test_function_keys_windows_lacks_are_refused_by_name(name: str) -> None:
    with pytest.raises(WindowsKeyError, match=f"Windows has no {name.upper()} key"):
        key_code(name, never_asked)


@pytest.mark.parametrize("name", ["sysreq", "monitor brightness up", "launch (5)", "hyper"])
def test_keys_windows_has_no_code_for_are_refused_by_name(name: str) -> None:
    with pytest.raises(WindowsKeyError, match=re.escape(f"“{name}” cannot be used for a shortcut")):
        key_code(name, never_asked)


# (layout, character, virtual key, needs Shift); checked against Microsoft's kbdfr, kbdgr, kbdus.
@pytest.mark.parametrize(
    ("layout", "char", "vk", "shift"),
    [
        ("fr-FR", "²", 0xDE, False),  # VK_OEM_7, left of 1: not VK_MEDIA_STOP (ord("²"))
        ("fr-FR", "é", 0x32, False),  # the 2 key: not 0xE9 (ord("é"), reserved)
        ("fr-FR", "ù", 0xC0, False),  # VK_OEM_3
        ("fr-FR", ")", 0xDB, False),  # VK_OEM_4
        ("fr-FR", "&", 0x31, False),  # the 1 key
        ("fr-FR", "!", 0xDF, False),  # VK_OEM_8
        ("fr-FR", ",", 0xBC, False),  # VK_OEM_COMMA
        ("fr-FR", ";", 0xBE, False),  # VK_OEM_PERIOD
        ("fr-FR", "$", 0xBA, False),  # VK_OEM_1
        ("fr-FR", "-", 0x36, False),  # the 6 key
        ("fr-FR", "=", 0xBB, False),  # VK_OEM_PLUS
        ("fr-FR", ".", 0xBE, True),
        ("fr-FR", "%", 0xC0, True),
        ("fr-FR", "/", 0xBF, True),
        ("fr-FR", "+", 0xBB, True),
        ("de-DE", "ß", 0xDB, False),  # VK_OEM_4
        ("de-DE", "ü", 0xBA, False),  # VK_OEM_1
        ("de-DE", "ö", 0xC0, False),  # VK_OEM_3
        ("de-DE", "ä", 0xDE, False),  # VK_OEM_7
        ("de-DE", "#", 0xBF, False),  # VK_OEM_2
        ("de-DE", "+", 0xBB, False),  # VK_OEM_PLUS
        ("de-DE", "-", 0xBD, False),  # VK_OEM_MINUS
        ("de-DE", "<", 0xE2, False),  # VK_OEM_102
        ("de-DE", "?", 0xDB, True),
        ("de-DE", "°", 0xDC, True),  # VK_OEM_5, whose unshifted "^" is a dead key
        ("de-DE", "!", 0x31, True),
        ("en-US", "`", 0xC0, False),  # VK_OEM_3
        ("en-US", "[", 0xDB, False),  # VK_OEM_4
        ("en-US", "\\", 0xDC, False),  # VK_OEM_5, found before VK_OEM_102
        ("en-US", "'", 0xDE, False),  # VK_OEM_7
        ("en-US", ";", 0xBA, False),  # VK_OEM_1
        ("en-US", "!", 0x31, True),  # Qt's editor writes Ctrl+Shift+1 as "ctrl+!"
        ("en-US", "@", 0x32, True),
        ("en-US", "+", 0xBB, True),
    ],
)
def test_characters_are_mapped_through_the_keyboard_layout(
    layout: str, char: str, vk: int, shift: bool
) -> None:
    scan = vk_key_scan(LAYOUTS[layout])
    expected = MOD_NOREPEAT | MOD_CONTROL | (MOD_SHIFT if shift else 0)
    assert registration({"ctrl"}, char, scan) == Registration(expected, vk)
    assert registration({"ctrl", "shift"}, char, scan).modifiers == expected | MOD_SHIFT


@pytest.mark.parametrize(
    ("layout", "char"),
    [
        *(("fr-FR", "@"), ("fr-FR", "€"), ("fr-FR", "#"), ("fr-FR", "\\"), ("fr-FR", "{")),
        *(("de-DE", "@"), ("de-DE", "€"), ("de-DE", "\\"), ("de-DE", "~"), ("de-DE", "µ")),
    ],
)
def test_a_character_typed_with_altgr_is_refused(layout: str, char: str) -> None:
    """AltGr is Ctrl+Alt to Windows: Ctrl+Alt+0 would take "@" from every AZERTY user."""
    with pytest.raises(WindowsKeyError, match=re.escape(f"“{char}” is typed with AltGr")):
        registration({"ctrl", "alt"}, char, vk_key_scan(LAYOUTS[layout]))


@pytest.mark.parametrize(
    ("layout", "char"), [("en-US", "é"), ("en-US", "²"), ("en-US", "ß"), ("de-DE", "é")]
)
def test_a_character_no_key_types_is_refused_by_name(layout: str, char: str) -> None:
    with pytest.raises(
        WindowsKeyError, match=re.escape(f"No key types “{char}” on this keyboard layout")
    ):
        registration({"ctrl"}, char, vk_key_scan(LAYOUTS[layout]))


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_every_character_of_each_layout_maps_to_a_key_or_is_refused(layout: str) -> None:
    rows = LAYOUTS[layout]
    scan = vk_key_scan(rows)
    without_altgr = {char for _vk, plain, shifted, _altgr in rows for char in (plain, shifted)}
    for char in sorted(characters(rows)):
        if char.isascii() and char.isalnum():
            continue  # letters and digits are their own codes: the layout is not asked
        if char not in without_altgr:
            with pytest.raises(WindowsKeyError, match="AltGr"):
                registration({"ctrl"}, char, scan)
            continue
        keys = registration({"ctrl"}, char, scan)
        assert windows_keys.is_key_code(keys.vk), (char, hex(keys.vk))
        assert keys.vk == scan(char) & 0xFF
        assert bool(keys.modifiers & MOD_SHIFT) == bool(scan(char) >> 8), char
        if not char.isascii():
            assert keys.vk != ord(char), char


def test_a_key_the_layout_lacks_is_an_error_not_its_code_point() -> None:
    """The old mapping registered ord("²") = VK_MEDIA_STOP and ord("ß".upper()) crashed."""
    for char in ("²", "ß", "é", ","):
        with pytest.raises(WindowsKeyError, match=re.escape(f"“{char}”")):
            key_code(char, no_layout)
    with pytest.raises(WindowsKeyError, match="No key types"):
        key_code("😀", never_asked)  # beyond one UTF-16 unit: VkKeyScanW cannot be asked


def test_an_answer_that_is_not_a_key_is_refused() -> None:
    for answer in (0x00FF, 0x0010, 0x0001, 0x01A2, 0xFFFF):  # none, Shift, a mouse button...

        def scan(char: str, answer: int = answer) -> int:
            return answer

        with pytest.raises(WindowsKeyError, match="No key types"):
            key_code("é", scan)


def test_the_micro_sign_qt_writes_as_greek_mu_is_still_azerty_s_key() -> None:
    """Qt upper-cases "µ" into Greek capital mu; lower-cased, the settings hold Greek "μ"."""
    assert key_code("μ", vk_key_scan(LAYOUTS["fr-FR"])) == (0xDC, MOD_SHIFT)  # Shift+*
    greek = vk_key_scan([(0x4D, "μ", "Μ", "")])  # the Greek layout's own mu, on the M key
    assert key_code("μ", greek) == (0x4D, 0)


def test_a_letter_the_layout_has_only_as_a_capital_is_that_key_with_shift() -> None:
    capital_only = vk_key_scan([(0xC0, "", "Ñ", "")])
    assert key_code("ñ", capital_only) == (0xC0, MOD_SHIFT)


def test_the_plus_key_is_parsed_and_mapped_per_layout() -> None:
    plus = parse_hotkey("Ctrl++")
    assert (plus.modifiers, plus.key, str(plus)) == (frozenset({"ctrl"}), "+", "ctrl++")
    assert parse_hotkey(" ctrl + shift + + ").key == "+"
    assert registration(plus.modifiers, plus.key, vk_key_scan(LAYOUTS["de-DE"])) == (
        Registration(MOD_NOREPEAT | MOD_CONTROL, 0xBB)
    )
    assert registration(plus.modifiers, plus.key, US) == Registration(
        MOD_NOREPEAT | MOD_CONTROL | MOD_SHIFT, 0xBB
    )
