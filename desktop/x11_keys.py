"""A shortcut's key as X11 and the desktop portal name it: a keysym (a number, grabbed on the X
server) and its xkbcommon name (the XDG shortcuts specification's words, asked of the portal).

Qt-free and server-free, so the whole table is tested on any system. Keys are named as the settings'
shortcut editor writes them (Qt's portable key names in lower case: "esc", "pgup", "volume up") and
mapped to the keysym that Qt's own X11 key table reads as that key; F1..F35 are keysyms F1..F35.
A character is its keysym by the X11 protocol's encoding: a Latin-1 character's keysym is its code
point ("é" 0xE9, "²" 0xB2, "," 0x2C), any other is 0x01000000 + code point. Many of those also have
an older keysym that keymaps use instead ("€" EuroSign, "œ" oe, the Cyrillic and Greek letters):
libxkbcommon, which Qt loads on every Linux desktop, gives it, and both are looked for.

Where the key sits is the keymap's business (`lookup`: python-xlib's Display.keysym_to_keycodes, a
written keymap in the tests), and its place decides as on Windows (windows_keys.py): a character
typed with Shift adds Shift to the shortcut, since Shift was held to type it; one typed with AltGr
(the keymap's third level or beyond) is refused, so that a shortcut means the same key on both
systems; letters and digits are the key that bears them, with no Shift added (on AZERTY, "1" is
the key of "&" and "1").
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from lanterne.foundation.translation import _

# A keysym -> (keycode, index) for each place of the keymap that has it, as python-xlib's
# Display.keysym_to_keycodes answers. The index is the place in the core keymap's row: group 1
# unshifted, group 1 with Shift, group 2 unshifted, group 2 with Shift, then levels 3 and 4
# (AltGr, AltGr+Shift) of each group.
Lookup = Callable[[int], Iterable[tuple[int, int]]]

_FIRST_ALTGR_INDEX = 4
XK_F1 = 0xFFBE
FUNCTION_KEYS = 35  # keysyms F1..F35 (0xFFBE..0xFFE0), as Qt has Key_F1..Key_F35
UNICODE_KEYSYM_OFFSET = 0x01000000

# The editor's names -> (xkbcommon keysym name, keysym), from Qt's X11 key table (qxkbcommon.cpp)
# and the names an administrator may type in a policy, as windows_keys.py accepts them.
NAMED_KEYSYMS: dict[str, tuple[str, int]] = {
    "esc": ("Escape", 0xFF1B),
    "escape": ("Escape", 0xFF1B),
    "tab": ("Tab", 0xFF09),
    "backtab": ("ISO_Left_Tab", 0xFE20),  # Shift+Tab
    "backspace": ("BackSpace", 0xFF08),
    "return": ("Return", 0xFF0D),
    "enter": ("KP_Enter", 0xFF8D),  # the keypad's Enter, as Qt names it
    "ins": ("Insert", 0xFF63),
    "insert": ("Insert", 0xFF63),
    "del": ("Delete", 0xFFFF),
    "delete": ("Delete", 0xFFFF),
    "pause": ("Pause", 0xFF13),
    "print": ("Print", 0xFF61),
    "printscreen": ("Print", 0xFF61),
    "sysreq": ("Sys_Req", 0xFF15),
    "home": ("Home", 0xFF50),
    "end": ("End", 0xFF57),
    "left": ("Left", 0xFF51),
    "up": ("Up", 0xFF52),
    "right": ("Right", 0xFF53),
    "down": ("Down", 0xFF54),
    "pgup": ("Page_Up", 0xFF55),
    "pageup": ("Page_Up", 0xFF55),
    "pgdown": ("Page_Down", 0xFF56),
    "pagedown": ("Page_Down", 0xFF56),
    "capslock": ("Caps_Lock", 0xFFE5),
    "numlock": ("Num_Lock", 0xFF7F),
    "scrolllock": ("Scroll_Lock", 0xFF14),
    "menu": ("Menu", 0xFF67),
    "help": ("Help", 0xFF6A),
    "execute": ("Execute", 0xFF62),  # not from Qt on X11; windows_keys.py has it
    "clear": ("KP_Begin", 0xFF9D),  # keypad 5 without Num Lock
    "undo": ("Undo", 0xFF65),
    "redo": ("Redo", 0xFF66),
    "find": ("Find", 0xFF68),
    "cancel": ("Cancel", 0xFF69),
    "space": ("space", 0x20),
    "code input": ("Codeinput", 0xFF37),
    "multiple candidate": ("MultipleCandidate", 0xFF3D),
    "previous candidate": ("PreviousCandidate", 0xFF3E),
    "kanji": ("Kanji", 0xFF21),
    "muhenkan": ("Muhenkan", 0xFF22),
    "henkan": ("Henkan_Mode", 0xFF23),
    "romaji": ("Romaji", 0xFF24),
    "hiragana": ("Hiragana", 0xFF25),
    "katakana": ("Katakana", 0xFF26),
    "hiragana katakana": ("Hiragana_Katakana", 0xFF27),
    "zenkaku": ("Zenkaku", 0xFF28),
    "hankaku": ("Hankaku", 0xFF29),
    "zenkaku hankaku": ("Zenkaku_Hankaku", 0xFF2A),
    "touroku": ("Touroku", 0xFF2B),
    "massyo": ("Massyo", 0xFF2C),
    "kana lock": ("Kana_Lock", 0xFF2D),
    "kana shift": ("Kana_Shift", 0xFF2E),
    "eisu shift": ("Eisu_Shift", 0xFF2F),
    "eisu toggle": ("Eisu_toggle", 0xFF30),
    "hangul": ("Hangul", 0xFF31),
    "hangul start": ("Hangul_Start", 0xFF32),
    "hangul end": ("Hangul_End", 0xFF33),
    "hangul hanja": ("Hangul_Hanja", 0xFF34),
    "hangul jamo": ("Hangul_Jamo", 0xFF35),
    "hangul romaja": ("Hangul_Romaja", 0xFF36),
    "hangul jeonja": ("Hangul_Jeonja", 0xFF38),
    "hangul banja": ("Hangul_Banja", 0xFF39),
    "hangul prehanja": ("Hangul_PreHanja", 0xFF3A),
    "hangul posthanja": ("Hangul_PostHanja", 0xFF3B),
    "hangul special": ("Hangul_Special", 0xFF3F),
    "back": ("XF86Back", 0x1008FF26),
    "forward": ("XF86Forward", 0x1008FF27),
    "stop": ("XF86Stop", 0x1008FF28),
    "refresh": ("XF86Refresh", 0x1008FF29),
    "favorites": ("XF86Favorites", 0x1008FF30),
    "launch media": ("XF86AudioMedia", 0x1008FF32),  # also XF86MyComputer to Qt
    "open url": ("XF86OpenURL", 0x1008FF38),
    "home page": ("XF86HomePage", 0x1008FF18),
    "search": ("XF86Search", 0x1008FF1B),
    "volume down": ("XF86AudioLowerVolume", 0x1008FF11),
    "volume mute": ("XF86AudioMute", 0x1008FF12),
    "volume up": ("XF86AudioRaiseVolume", 0x1008FF13),
    "media play": ("XF86AudioPlay", 0x1008FF14),
    "toggle media play/pause": ("XF86AudioPlay", 0x1008FF14),  # as windows_keys.py has it
    "media stop": ("XF86AudioStop", 0x1008FF15),
    "media previous": ("XF86AudioPrev", 0x1008FF16),
    "media next": ("XF86AudioNext", 0x1008FF17),
    "media record": ("XF86AudioRecord", 0x1008FF1C),
    "media pause": ("XF86AudioPause", 0x1008FF31),
    "launch mail": ("XF86Mail", 0x1008FF19),
    "memo": ("XF86Memo", 0x1008FF1E),
    "to-do list": ("XF86ToDoList", 0x1008FF1F),
    "calendar": ("XF86Calendar", 0x1008FF20),
    "power down": ("XF86PowerDown", 0x1008FF21),
    "adjust contrast": ("XF86ContrastAdjust", 0x1008FF22),
    "standby": ("XF86Standby", 0x1008FF10),
    "monitor brightness up": ("XF86MonBrightnessUp", 0x1008FF02),
    "monitor brightness down": ("XF86MonBrightnessDown", 0x1008FF03),
    "keyboard light on/off": ("XF86KbdLightOnOff", 0x1008FF04),
    "keyboard brightness up": ("XF86KbdBrightnessUp", 0x1008FF05),
    "keyboard brightness down": ("XF86KbdBrightnessDown", 0x1008FF06),
    "power off": ("XF86PowerOff", 0x1008FF2A),
    "wake up": ("XF86WakeUp", 0x1008FF2B),
    "eject": ("XF86Eject", 0x1008FF2C),
    "screensaver": ("XF86ScreenSaver", 0x1008FF2D),
    "www": ("XF86WWW", 0x1008FF2E),
    "sleep": ("XF86Sleep", 0x1008FF2F),
    "lightbulb": ("XF86LightBulb", 0x1008FF35),
    "shop": ("XF86Shop", 0x1008FF36),
    "history": ("XF86History", 0x1008FF37),
    "add favorite": ("XF86AddFavorite", 0x1008FF39),
    "hot links": ("XF86HotLinks", 0x1008FF3A),
    "adjust brightness": ("XF86BrightnessAdjust", 0x1008FF3B),
    "finance": ("XF86Finance", 0x1008FF3C),
    "community": ("XF86Community", 0x1008FF3D),
    "media rewind": ("XF86AudioRewind", 0x1008FF3E),
    "back forward": ("XF86BackForward", 0x1008FF3F),
    "application left": ("XF86ApplicationLeft", 0x1008FF50),
    "application right": ("XF86ApplicationRight", 0x1008FF51),
    "book": ("XF86Book", 0x1008FF52),
    "cd": ("XF86CD", 0x1008FF53),
    "calculator": ("XF86Calculator", 0x1008FF1D),  # Qt reads only the misspelt XF86Calculater
    "clear grab": ("XF86ClearGrab", 0x1008FE21),
    "close": ("XF86Close", 0x1008FF56),
    "copy": ("XF86Copy", 0x1008FF57),
    "cut": ("XF86Cut", 0x1008FF58),
    "display": ("XF86Display", 0x1008FF59),
    "dos": ("XF86DOS", 0x1008FF5A),
    "documents": ("XF86Documents", 0x1008FF5B),
    "spreadsheet": ("XF86Excel", 0x1008FF5C),
    "browser": ("XF86Explorer", 0x1008FF5D),
    "game": ("XF86Game", 0x1008FF5E),
    "go": ("XF86Go", 0x1008FF5F),
    "itouch": ("XF86iTouch", 0x1008FF60),
    "logoff": ("XF86LogOff", 0x1008FF61),
    "market": ("XF86Market", 0x1008FF62),
    "meeting": ("XF86Meeting", 0x1008FF63),
    "keyboard menu": ("XF86MenuKB", 0x1008FF65),
    "menu pb": ("XF86MenuPB", 0x1008FF66),
    "my sites": ("XF86MySites", 0x1008FF67),
    "new": ("XF86New", 0x1008FF68),
    "news": ("XF86News", 0x1008FF69),
    "home office": ("XF86OfficeHome", 0x1008FF6A),
    "open": ("XF86Open", 0x1008FF6B),
    "paste": ("XF86Paste", 0x1008FF6D),
    "phone": ("XF86Phone", 0x1008FF6E),
    "reply": ("XF86Reply", 0x1008FF72),
    "reload": ("XF86Reload", 0x1008FF73),
    "rotate windows": ("XF86RotateWindows", 0x1008FF74),
    "rotation pb": ("XF86RotationPB", 0x1008FF75),
    "rotation kb": ("XF86RotationKB", 0x1008FF76),
    "save": ("XF86Save", 0x1008FF77),
    "send": ("XF86Send", 0x1008FF7B),
    "spellchecker": ("XF86Spell", 0x1008FF7C),
    "split screen": ("XF86SplitScreen", 0x1008FF7D),
    "support": ("XF86Support", 0x1008FF7E),
    "task panel": ("XF86TaskPane", 0x1008FF7F),
    "terminal": ("XF86Terminal", 0x1008FF80),
    "tools": ("XF86Tools", 0x1008FF81),
    "travel": ("XF86Travel", 0x1008FF82),
    "video": ("XF86Video", 0x1008FF87),
    "word processor": ("XF86Word", 0x1008FF89),
    "xfer": ("XF86Xfer", 0x1008FF8A),
    "zoom in": ("XF86ZoomIn", 0x1008FF8B),
    "zoom out": ("XF86ZoomOut", 0x1008FF8C),
    "away": ("XF86Away", 0x1008FF8D),
    "messenger": ("XF86Messenger", 0x1008FF8E),
    "webcam": ("XF86WebCam", 0x1008FF8F),
    "mail forward": ("XF86MailForward", 0x1008FF90),
    "pictures": ("XF86Pictures", 0x1008FF91),
    "music": ("XF86Music", 0x1008FF92),
    "battery": ("XF86Battery", 0x1008FF93),
    "bluetooth": ("XF86Bluetooth", 0x1008FF94),
    "wireless": ("XF86WLAN", 0x1008FF95),
    "ultra wide band": ("XF86UWB", 0x1008FF96),
    "media fast forward": ("XF86AudioForward", 0x1008FF97),
    "audio repeat": ("XF86AudioRepeat", 0x1008FF98),
    "audio random play": ("XF86AudioRandomPlay", 0x1008FF99),
    "subtitle": ("XF86Subtitle", 0x1008FF9A),
    "audio cycle track": ("XF86AudioCycleTrack", 0x1008FF9B),
    "time": ("XF86Time", 0x1008FF9F),
    "select": ("XF86Select", 0x1008FFA0),
    "view": ("XF86View", 0x1008FFA1),
    "top menu": ("XF86TopMenu", 0x1008FFA2),
    "red": ("XF86Red", 0x1008FFA3),
    "green": ("XF86Green", 0x1008FFA4),
    "yellow": ("XF86Yellow", 0x1008FFA5),
    "blue": ("XF86Blue", 0x1008FFA6),
    "suspend": ("XF86Suspend", 0x1008FFA7),
    "hibernate": ("XF86Hibernate", 0x1008FFA8),
    "touchpad toggle": ("XF86TouchpadToggle", 0x1008FFA9),
    "touchpad on": ("XF86TouchpadOn", 0x1008FFB0),
    "touchpad off": ("XF86TouchpadOff", 0x1008FFB1),
    "microphone mute": ("XF86AudioMicMute", 0x1008FFB2),
    "launch (0)": ("XF86Launch0", 0x1008FF40),
    "launch (1)": ("XF86Launch1", 0x1008FF41),
    "launch (2)": ("XF86Launch2", 0x1008FF42),
    "launch (3)": ("XF86Launch3", 0x1008FF43),
    "launch (4)": ("XF86Launch4", 0x1008FF44),
    "launch (5)": ("XF86Launch5", 0x1008FF45),
    "launch (6)": ("XF86Launch6", 0x1008FF46),
    "launch (7)": ("XF86Launch7", 0x1008FF47),
    "launch (8)": ("XF86Launch8", 0x1008FF48),
    "launch (9)": ("XF86Launch9", 0x1008FF49),
    "launch (a)": ("XF86LaunchA", 0x1008FF4A),
    "launch (b)": ("XF86LaunchB", 0x1008FF4B),
    "launch (c)": ("XF86LaunchC", 0x1008FF4C),
    "launch (d)": ("XF86LaunchD", 0x1008FF4D),
    "launch (e)": ("XF86LaunchE", 0x1008FF4E),
    "launch (f)": ("XF86LaunchF", 0x1008FF4F),
}

# Qt names a key by its character in capitals, the settings in lower case: the micro sign
# (AZERTY's Shift+*) comes back as the Greek small mu.
_QT_RENAMED = {"\u03bc": "\u00b5"}


class X11KeyError(ValueError):
    """The key cannot be a shortcut here; the message says so in words."""


@dataclass(frozen=True)
class Grab:
    """The key to grab, and whether Shift is part of the shortcut because the key needs it."""

    keycode: int
    shift: bool


def keysyms(key: str) -> tuple[int, ...]:
    """A key name -> the keysyms that stand for it, the likeliest first; raises X11KeyError."""
    if key in NAMED_KEYSYMS:
        return (NAMED_KEYSYMS[key][1],)
    if len(key) == 1:
        return character_keysyms(key)
    number = _function_key_number(key)
    if number is not None:
        if 1 <= number <= FUNCTION_KEYS:
            return (XK_F1 + number - 1,)
        raise X11KeyError(
            _("The keyboard has no {key} key: choose another shortcut in Settings.").format(
                key=key.upper()
            )
        )
    raise X11KeyError(
        _(
            "The key “{key}” cannot be used for a shortcut on this desktop: choose another in "
            "Settings."
        ).format(key=key)
    )


def character_keysyms(char: str) -> tuple[int, ...]:
    """The keysyms a keymap may give `char` under: its older keysym, its code point's; then
    the same for the micro sign Qt renames, and for the capital when only it is on a key."""
    chars = [char, *([_QT_RENAMED[char]] if char in _QT_RENAMED else [])]
    if char.upper() != char and len(char.upper()) == 1:
        chars.append(char.upper())
    found: list[int] = []
    for each in chars:
        for keysym in (_legacy_keysym(each), unicode_keysym(each)):
            if keysym and keysym not in found:
                found.append(keysym)
    return tuple(found)


def unicode_keysym(char: str) -> int:
    """The X11 protocol's keysym for a character: Latin-1 as it is, others offset."""
    code = ord(char)
    if 0x20 <= code <= 0x7E or 0xA0 <= code <= 0xFF:
        return code
    return UNICODE_KEYSYM_OFFSET + code


def keysym_name(key: str) -> str | None:
    """A key name -> its xkbcommon keysym name ("Page_Up", "comma", "eacute", "F12"), the XDG
    shortcuts specification's words for it; None when X has no keysym for the key."""
    if key in NAMED_KEYSYMS:
        return NAMED_KEYSYMS[key][0]
    number = _function_key_number(key)
    if number is not None:
        return f"F{number}" if 1 <= number <= FUNCTION_KEYS else None
    if len(key) != 1:
        return None
    library = _xkbcommon()
    if library is not None:
        buffer = ctypes.create_string_buffer(64)
        keysym = _legacy_keysym(key) or unicode_keysym(key)
        if library.xkb_keysym_get_name(keysym, buffer, len(buffer)) > 0:
            return buffer.value.decode("ascii")
    return f"U{ord(key):04X}"  # xkbcommon's name for any character's keysym


def grab(key: str, lookup: Lookup) -> Grab:
    """Where `key` sits in the keymap: its key, and Shift if the key needs it there; raises
    X11KeyError when no key has it, or only with AltGr."""
    places = [
        (index, rank, keycode)
        for rank, keysym in enumerate(keysyms(key))
        for keycode, index in lookup(keysym)
    ]
    if not places:
        if len(key) == 1:
            raise X11KeyError(
                _(
                    "No key types “{key}” on this keyboard layout: choose another shortcut in "
                    "Settings."
                ).format(key=key)
            )
        raise X11KeyError(
            _("This keyboard has no “{key}” key: choose another shortcut in Settings.").format(
                key=key
            )
        )
    index, _rank, keycode = min(places)
    if index >= _FIRST_ALTGR_INDEX:
        raise X11KeyError(
            _(
                "“{key}” is typed with AltGr on this keyboard and cannot be a shortcut key: "
                "choose another in Settings."
            ).format(key=key)
        )
    own_key = len(key) == 1 and key.isascii() and key.isalnum()
    return Grab(keycode, shift=index % 2 == 1 and not own_key)


def _function_key_number(key: str) -> int | None:
    digits = key[1:]
    if key.startswith("f") and digits.isascii() and digits.isdigit():
        return int(digits)
    return None


def _legacy_keysym(char: str) -> int:
    """The keysym libxkbcommon gives a character (an older one where there is one), or 0."""
    library = _xkbcommon()
    return int(library.xkb_utf32_to_keysym(ord(char))) if library is not None else 0


@functools.cache
def _xkbcommon() -> ctypes.CDLL | None:
    """libxkbcommon, already loaded by Qt on X11 and Wayland; None where there is none."""
    try:
        library = ctypes.CDLL("libxkbcommon.so.0")
    except OSError:
        return None
    library.xkb_utf32_to_keysym.argtypes = [ctypes.c_uint32]
    library.xkb_utf32_to_keysym.restype = ctypes.c_uint32
    library.xkb_keysym_get_name.argtypes = [ctypes.c_uint32, ctypes.c_char_p, ctypes.c_size_t]
    library.xkb_keysym_get_name.restype = ctypes.c_int
    return library
