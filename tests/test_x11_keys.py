"""The X11 key table, checked here with no X server: every key the settings editor writes against
libxkbcommon (the keysyms' own definition, loaded by Qt on every Linux desktop) and python-xlib,
and where a key sits in written core keymaps (AZERTY, QWERTY, QWERTY with Russian) as an X server
answers Display.keysym_to_keycodes."""

from __future__ import annotations

import ctypes
import re
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from Xlib import XK

from lanterne.desktop import x11_keys
from lanterne.desktop.x11_keys import (
    NAMED_KEYSYMS,
    Grab,
    X11KeyError,
    grab,
    keysym_name,
    keysyms,
    unicode_keysym,
)
from support.qt_keys import editor_key_names

for _group in ("xf86", "xkb", "korean"):  # python-xlib loads only Latin-1 and misc by itself
    XK.load_keysym_group(_group)

NO_SYMBOL = 0
# Keysyms by name, for the written keymaps.
TAB, ISO_LEFT_TAB, PRIOR, EURO = 0xFF09, 0xFE20, 0xFF55, 0x20AC
CYRILLIC_EF, CYRILLIC_EF_CAPITAL = 0x6C6, 0x6E6


# python-xlib lacks these two keysym names (it spells the second XF86_XF86BackForward).
XLIB_LACKS = {"Codeinput", "XF86BackForward"}


def xkbcommon() -> ctypes.CDLL:
    try:
        library = ctypes.CDLL("libxkbcommon.so.0")
    except OSError:
        pytest.skip("needs libxkbcommon (Qt's own dependency on Linux)")
    library.xkb_keysym_from_name.argtypes = [ctypes.c_char_p, ctypes.c_int]
    library.xkb_keysym_from_name.restype = ctypes.c_uint32
    library.xkb_keysym_to_utf32.argtypes = [ctypes.c_uint32]
    library.xkb_keysym_to_utf32.restype = ctypes.c_uint32
    return library


def from_name(name: str) -> int:
    return int(xkbcommon().xkb_keysym_from_name(name.encode("ascii"), 0))


def xlib_keysym(name: str) -> int:
    """python-xlib's keysym for an xkbcommon name (it writes XF86AudioMute as XF86_AudioMute)."""
    xlib_name = name.replace("XF86", "XF86_", 1) if name.startswith("XF86") else name
    return int(XK.string_to_keysym(xlib_name))


# Qt's X11 key table (qxkbcommon.cpp KeyTbl): every key Qt makes from an X keysym, besides
# modifiers and dead keys, must come back to a keysym under the name the settings editor gives.
QT_KEYS_FROM_X11 = [
    *(Qt.Key.Key_Escape, Qt.Key.Key_Tab, Qt.Key.Key_Backtab, Qt.Key.Key_Backspace),
    *(Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Insert, Qt.Key.Key_Delete),
    *(Qt.Key.Key_Pause, Qt.Key.Key_Print, Qt.Key.Key_SysReq, Qt.Key.Key_Home, Qt.Key.Key_End),
    *(Qt.Key.Key_Left, Qt.Key.Key_Up, Qt.Key.Key_Right, Qt.Key.Key_Down, Qt.Key.Key_PageUp),
    *(Qt.Key.Key_PageDown, Qt.Key.Key_CapsLock, Qt.Key.Key_NumLock, Qt.Key.Key_ScrollLock),
    *(Qt.Key.Key_Menu, Qt.Key.Key_Help, Qt.Key.Key_Clear, Qt.Key.Key_Undo, Qt.Key.Key_Redo),
    *(Qt.Key.Key_Find, Qt.Key.Key_Cancel, Qt.Key.Key_Space, Qt.Key.Key_Codeinput),
    *(Qt.Key.Key_Kanji, Qt.Key.Key_Muhenkan, Qt.Key.Key_Henkan, Qt.Key.Key_Hiragana),
    *(Qt.Key.Key_Katakana, Qt.Key.Key_Zenkaku_Hankaku, Qt.Key.Key_Eisu_toggle),
    *(Qt.Key.Key_Hangul, Qt.Key.Key_Hangul_Hanja, Qt.Key.Key_Hangul_Special),
    *(Qt.Key.Key_Back, Qt.Key.Key_Forward, Qt.Key.Key_Stop, Qt.Key.Key_Refresh),
    *(Qt.Key.Key_Favorites, Qt.Key.Key_LaunchMedia, Qt.Key.Key_OpenUrl, Qt.Key.Key_HomePage),
    *(Qt.Key.Key_Search, Qt.Key.Key_VolumeDown, Qt.Key.Key_VolumeMute, Qt.Key.Key_VolumeUp),
    *(Qt.Key.Key_MediaPlay, Qt.Key.Key_MediaStop, Qt.Key.Key_MediaPrevious),
    *(Qt.Key.Key_MediaNext, Qt.Key.Key_MediaRecord, Qt.Key.Key_MediaPause),
    *(Qt.Key.Key_LaunchMail, Qt.Key.Key_Calculator, Qt.Key.Key_Sleep, Qt.Key.Key_WWW),
    *(Qt.Key.Key_MonBrightnessUp, Qt.Key.Key_MonBrightnessDown, Qt.Key.Key_MicMute),
    *(Qt.Key.Key_TouchpadToggle, Qt.Key.Key_Eject, Qt.Key.Key_Explorer, Qt.Key.Key_Terminal),
    *(Qt.Key(Qt.Key.Key_Launch0.value + n) for n in range(16)),
    *(Qt.Key(Qt.Key.Key_F1.value + n) for n in range(35)),
    *(Qt.Key(Qt.Key.Key_0.value + n) for n in range(10)),
    *(Qt.Key(Qt.Key.Key_A.value + n) for n in range(26)),
    *(Qt.Key.Key_Comma, Qt.Key.Key_Plus, Qt.Key.Key_Exclam, Qt.Key.Key_twosuperior),
    *(Qt.Key.Key_Eacute, Qt.Key.Key_Agrave, Qt.Key.Key_ssharp, Qt.Key.Key_nobreakspace),
]


def test_the_named_keys_are_the_keysyms_libxkbcommon_and_python_xlib_name() -> None:
    unknown_to_xlib = set()
    for name, (xkb_name, keysym) in NAMED_KEYSYMS.items():
        assert from_name(xkb_name) == keysym, (name, xkb_name)
        assert re.fullmatch(r"[A-Za-z0-9_]+", xkb_name), xkb_name  # the specification's rule
        if xlib_keysym(xkb_name):
            assert xlib_keysym(xkb_name) == keysym, (name, xkb_name)
        else:
            unknown_to_xlib.add(xkb_name)
    assert unknown_to_xlib == XLIB_LACKS


@pytest.mark.gui
def test_every_key_the_settings_editor_writes_has_an_x_keysym_or_a_reason() -> None:
    library = xkbcommon()
    names = editor_key_names()
    for key, name in names.items():
        try:
            found = keysyms(name)
        except X11KeyError as exc:
            assert key not in QT_KEYS_FROM_X11, (key, name)
            assert name in str(exc) or name.upper() in str(exc), (name, str(exc))
            assert keysym_name(name) is None, name
            continue
        assert found and all(found), (key, name)
        spec_name = keysym_name(name)
        assert spec_name is not None and from_name(spec_name) == found[0], (name, spec_name)
        if len(name) == 1:  # a character: each keysym is that character (or its capital)
            typed = {chr(library.xkb_keysym_to_utf32(keysym)) for keysym in found}
            assert name in typed and typed <= {name, name.upper(), "µ", "Μ"}, (name, typed)
            if ord(name) <= 0xFF:
                assert found[0] == ord(name) and XK.keysym_to_string(found[0]) == name
        else:
            assert xlib_keysym(spec_name) == found[0] or spec_name in XLIB_LACKS, name
    for key in QT_KEYS_FROM_X11:
        assert key in names and keysyms(names[key]), key
    # The names the review found unknown to XK.string_to_keysym, and their keysyms.
    expected = {
        Qt.Key.Key_Escape: 0xFF1B,  # Escape
        Qt.Key.Key_PageUp: 0xFF55,  # Prior
        Qt.Key.Key_PageDown: 0xFF56,  # Next
        Qt.Key.Key_Delete: 0xFFFF,  # Delete
        Qt.Key.Key_Insert: 0xFF63,  # Insert
        Qt.Key.Key_Backspace: 0xFF08,  # BackSpace
        Qt.Key.Key_Return: 0xFF0D,  # Return
        Qt.Key.Key_Print: 0xFF61,  # Print
        Qt.Key.Key_Comma: 0x2C,  # comma
        Qt.Key.Key_Eacute: 0xE9,  # eacute
        Qt.Key.Key_twosuperior: 0xB2,  # twosuperior
    }
    assert {key: keysyms(names[key])[0] for key in expected} == expected
    assert [names[k] for k in expected][:8] == [
        *("esc", "pgup", "pgdown", "del", "ins", "backspace", "return", "print")
    ]


def test_a_character_is_its_latin1_code_or_its_unicode_keysym() -> None:
    assert unicode_keysym("é") == 0xE9 and unicode_keysym(",") == 0x2C
    assert unicode_keysym("²") == 0xB2 and unicode_keysym("\u00a0") == 0xA0
    assert unicode_keysym("€") == 0x010020AC and unicode_keysym("ẞ") == 0x01001E9E
    assert unicode_keysym("😀") == 0x0101F600
    xkbcommon()
    assert keysyms("é")[0] == 0xE9
    # The older keysym keymaps use first, then the Unicode one a keymap may also carry.
    assert keysyms("€") == (EURO, 0x010020AC)
    assert keysyms("ф")[:2] == (CYRILLIC_EF, 0x01000444)
    assert 0xB5 in keysyms("μ")  # Qt's name for the micro sign: the micro sign's keysym too


@pytest.fixture
def without_xkbcommon(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(x11_keys, "_xkbcommon", lambda: None)
    yield


@pytest.mark.usefixtures("without_xkbcommon")
def test_without_libxkbcommon_a_character_is_its_unicode_keysym() -> None:
    assert keysyms("€") == (0x010020AC,)
    assert keysyms("é") == (0xE9, 0xC9)
    assert keysym_name("é") == "U00E9"  # xkbcommon reads it as eacute
    assert keysym_name("pgup") == "Page_Up"


@pytest.mark.parametrize(
    ("name", "spec"),
    [
        ("pgup", "Page_Up"),
        ("pgdown", "Page_Down"),
        ("esc", "Escape"),
        ("del", "Delete"),
        ("backtab", "ISO_Left_Tab"),
        ("volume up", "XF86AudioRaiseVolume"),
        ("launch (a)", "XF86LaunchA"),
        ("f12", "F12"),
        ("f35", "F35"),
        ("space", "space"),
        (",", "comma"),
        ("+", "plus"),
        ("é", "eacute"),
        ("²", "twosuperior"),
        ("\u00a0", "nobreakspace"),
        ("€", "EuroSign"),
        ("ф", "Cyrillic_ef"),
        ("ẞ", "U1E9E"),
    ],
)
def test_keys_have_their_xkbcommon_name(name: str, spec: str) -> None:
    xkbcommon()
    assert keysym_name(name) == spec
    assert from_name(spec) == keysyms(name)[0]


@pytest.mark.parametrize("name", ["f0", "f36", "voice dial", "camera shutter", "hyper"])
def test_keys_x_has_no_keysym_for_are_refused_by_name(name: str) -> None:
    with pytest.raises(X11KeyError, match=re.escape(name.upper() if name[1:].isdigit() else name)):
        keysyms(name)
    assert keysym_name(name) is None


# Core keymaps as an X server gives them: keycode -> keysyms by index (group 1, group 1 with
# Shift, group 2, group 2 with Shift, AltGr, AltGr with Shift). A few keys of xkeyboard-config's
# fr, us and "us,ru" layouts, on evdev keycodes.
AZERTY = {
    10: (ord("&"), ord("1"), ord("&"), ord("1")),
    11: (0xE9, ord("2"), 0xE9, ord("2"), ord("~"), 0xC9),  # é 2, AltGr ~
    19: (0xE0, ord("0"), 0xE0, ord("0"), ord("@"), 0xC0),  # à 0, AltGr @
    23: (TAB, ISO_LEFT_TAB, TAB, ISO_LEFT_TAB),
    26: (ord("e"), ord("E"), ord("e"), ord("E"), EURO, ord("E")),  # AltGr €
    49: (0xB2, NO_SYMBOL, 0xB2, NO_SYMBOL),  # ², left of 1
    51: (ord("*"), 0xB5, ord("*"), 0xB5),  # * µ
    58: (ord(","), ord("?"), ord(","), ord("?")),
    61: (ord("!"), 0xA7, ord("!"), 0xA7),  # ! §
    112: (PRIOR, NO_SYMBOL, PRIOR, NO_SYMBOL),
}
QWERTY = {
    10: (ord("1"), ord("!"), ord("1"), ord("!")),
    21: (ord("="), ord("+"), ord("="), ord("+")),
    38: (ord("a"), ord("A"), ord("a"), ord("A")),
}
QWERTY_RUSSIAN = {38: (ord("a"), ord("A"), CYRILLIC_EF, CYRILLIC_EF_CAPITAL)}
QWERTY_UNICODE_RUSSIAN = {38: (ord("a"), ord("A"), 0x01000444, 0x01000424)}


def lookup(keymap: dict[int, tuple[int, ...]]) -> x11_keys.Lookup:
    """Display.keysym_to_keycodes over a written keymap: lowest index, then lowest keycode."""

    def places(keysym: int) -> list[tuple[int, int]]:
        found = [
            (index, keycode)
            for keycode, row in keymap.items()
            for index, each in enumerate(row)
            if each == keysym
        ]
        return [(keycode, index) for index, keycode in sorted(found)]

    return places


@pytest.mark.parametrize(
    ("keymap", "name", "expected"),
    [
        (AZERTY, "²", Grab(49, shift=False)),  # the key left of 1
        (AZERTY, "é", Grab(11, shift=False)),
        (AZERTY, "&", Grab(10, shift=False)),
        (AZERTY, "1", Grab(10, shift=False)),  # a digit is its key, as on Windows
        (AZERTY, "!", Grab(61, shift=False)),
        (AZERTY, "§", Grab(61, shift=True)),  # typed with Shift: Shift is part of it
        (AZERTY, ",", Grab(58, shift=False)),
        (AZERTY, "?", Grab(58, shift=True)),
        (AZERTY, "μ", Grab(51, shift=True)),  # Qt's name for AZERTY's µ
        (AZERTY, "backtab", Grab(23, shift=True)),  # Shift+Tab
        (AZERTY, "pgup", Grab(112, shift=False)),
        (AZERTY, "e", Grab(26, shift=False)),
        (QWERTY, "!", Grab(10, shift=True)),  # Qt's editor writes Ctrl+Shift+1 as "ctrl+!"
        (QWERTY, "+", Grab(21, shift=True)),
        (QWERTY, "a", Grab(38, shift=False)),
        (QWERTY_RUSSIAN, "ф", Grab(38, shift=False)),  # the second layout's key
        (QWERTY_UNICODE_RUSSIAN, "ф", Grab(38, shift=False)),
    ],
)
def test_a_key_is_grabbed_where_the_keymap_has_it(
    keymap: dict[int, tuple[int, ...]], name: str, expected: Grab
) -> None:
    if not name.isascii():
        xkbcommon()  # "ф" in the first Russian keymap is the older Cyrillic_ef
    assert grab(name, lookup(keymap)) == expected


@pytest.mark.parametrize("char", ["@", "€", "~"])
def test_a_character_typed_with_altgr_is_refused(char: str) -> None:
    """As on Windows: the same shortcut means the same key on both systems."""
    xkbcommon()
    with pytest.raises(X11KeyError, match=re.escape(f"“{char}” is typed with AltGr")):
        grab(char, lookup(AZERTY))


def test_a_key_the_keymap_lacks_is_refused_in_words() -> None:
    with pytest.raises(X11KeyError, match=re.escape("No key types “ß” on this keyboard layout")):
        grab("ß", lookup(AZERTY))
    with pytest.raises(X11KeyError, match=re.escape("This keyboard has no “volume up” key")):
        grab("volume up", lookup(AZERTY))
    with pytest.raises(X11KeyError, match="no F36 key"):
        grab("f36", lookup(AZERTY))
