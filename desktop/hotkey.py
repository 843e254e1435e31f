"""The global shortcut that summons quick-ask, registered with the system so a clash is known.

Each platform's own registration is used, because it reports a shortcut another application
already holds and does not watch every keystroke: on X11 a key grab on the root window
(python-xlib; BadAccess when taken), on Windows RegisterHotKey (fails when taken). On Wayland
the shortcut belongs to the compositor: it is asked for through the desktop portal's
GlobalShortcuts (portal_shortcut.py), which lets the desktop show its dialog and choose the
trigger, reported later by `bound` or `lost`. Where there is no such portal, or where the
shortcut needs a permission Lanterne does not ask for (macOS), `start()` raises with what to
do instead: bind `lanterne quick-ask` in the system's keyboard settings. Keys are named by
what they are, not where they sit ("space", "k", "f12"), so the shortcut means the same on
AZERTY, QWERTZ or Dvorak.
"""

from __future__ import annotations

import os
import select
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from lanterne.translation import _

MODIFIERS = ("ctrl", "shift", "alt", "super")
_ALIASES = {"control": "ctrl", "meta": "super", "win": "super", "cmd": "super", "option": "alt"}


class HotkeyError(Exception):
    """The shortcut cannot be used; the message says why and what to do instead."""


@dataclass(frozen=True)
class Hotkey:
    modifiers: frozenset[str]
    key: str  # lower case: "space", "k", "f12"

    def __str__(self) -> str:
        return "+".join([m for m in MODIFIERS if m in self.modifiers] + [self.key])


def parse_hotkey(text: str) -> Hotkey:
    """ "Ctrl+Shift+Space" -> Hotkey({ctrl, shift}, "space"); at least one modifier."""
    parts = [p.strip().lower() for p in text.split("+") if p.strip()]
    if not parts:
        raise HotkeyError(_("No shortcut given."))
    *mods, key = parts
    modifiers = frozenset(_ALIASES.get(m, m) for m in mods)
    unknown = modifiers - set(MODIFIERS)
    if unknown:
        raise HotkeyError(
            _("Unknown modifier in the shortcut: {name}").format(name=", ".join(sorted(unknown)))
        )
    if not modifiers:
        raise HotkeyError(_("A global shortcut needs at least one modifier (Ctrl, Alt, Shift)."))
    if key in MODIFIERS or key in _ALIASES:
        raise HotkeyError(_("The shortcut needs a key besides its modifiers."))
    return Hotkey(modifiers, key)


def _advice() -> str:
    return _(
        "bind the command `lanterne quick-ask` to a shortcut in the system's keyboard settings"
    )


def _with_advice(reason: str) -> str:
    """`reason`, then what to do instead."""
    advice = _advice()
    return f"{reason} {advice[:1].upper()}{advice[1:]}."


def _on_wayland() -> bool:
    return (
        sys.platform.startswith("linux")
        and bool(os.environ.get("WAYLAND_DISPLAY"))
        and os.environ.get("QT_QPA_PLATFORM", "") != "xcb"
    )


def _unsupported_reason() -> str | None:
    if sys.platform == "darwin":
        return _("Global shortcuts are not available on macOS yet: {advice}.").format(
            advice=_advice()
        )
    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        return _("No X display to register the shortcut with: {advice}.").format(advice=_advice())
    return None


class GlobalHotkey(QObject):
    activated = Signal()  # emitted on the GUI thread (queued from the listening thread)
    bound = Signal(str)  # Wayland: the desktop bound the shortcut; its own words for the trigger
    lost = Signal(str)  # Wayland: no portal, refused or removed later; why and what to do

    def __init__(self, hotkey: Hotkey, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.hotkey = hotkey
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Register the shortcut; raises HotkeyError when it is taken or cannot be had here.
        On Wayland the desktop answers later, through `bound` or `lost`."""
        if _on_wayland():
            self._start_portal()
            return
        reason = _unsupported_reason()
        if reason:
            raise HotkeyError(reason)
        ready = threading.Event()
        failure: list[str] = []
        target = _listen_windows if sys.platform == "win32" else _listen_x11
        self._stop.clear()
        self._thread = threading.Thread(
            target=target,
            args=(self.hotkey, self.activated.emit, self._stop, ready, failure),
            name="lanterne-hotkey",
            daemon=True,
        )
        self._thread.start()
        ready.wait(5)
        if failure:
            self._thread.join(2)
            raise HotkeyError(failure[0])

    def _start_portal(self) -> None:
        """Ask the desktop on the hotkey's thread; its answer comes as `bound` or `lost`."""
        from lanterne.desktop import portal_shortcut

        def lost(error: portal_shortcut.PortalError) -> None:
            if isinstance(error, portal_shortcut.PortalUnavailableError):
                self.lost.emit(
                    _(
                        "On Wayland, global shortcuts belong to the desktop, and this one offers "
                        "no shortcut portal: {advice}."
                    ).format(advice=_advice())
                )
            else:
                self.lost.emit(_with_advice(str(error)))

        callbacks = portal_shortcut.Callbacks(
            fire=self.activated.emit, bound=self.bound.emit, lost=lost
        )
        self._stop.clear()
        self._thread = threading.Thread(
            target=portal_shortcut.listen,
            args=(self.hotkey.modifiers, self.hotkey.key, callbacks, self._stop),
            name="lanterne-hotkey-portal",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
            self._thread = None


def _taken(hotkey: Hotkey) -> str:
    return _(
        "The shortcut {hotkey} is already used by another application: choose another in Settings."
    ).format(hotkey=hotkey)


def _listen_x11(
    hotkey: Hotkey,
    fire: Callable[[], object],
    stop: threading.Event,
    ready: threading.Event,
    failure: list[str],
) -> None:
    from Xlib import XK, X, display, error

    try:
        screen = display.Display()
    except Exception as exc:  # no server, no permission: said in words
        failure.append(_("The X display cannot be reached: {error}").format(error=exc))
        ready.set()
        return
    root = screen.screen().root
    keysym = XK.string_to_keysym(hotkey.key) or XK.string_to_keysym(hotkey.key.capitalize())
    keycode = screen.keysym_to_keycode(keysym) if keysym else 0
    if not keycode:
        failure.append(_("Unknown key in the shortcut: {key}").format(key=hotkey.key))
        ready.set()
        screen.close()
        return
    masks = {"ctrl": X.ControlMask, "shift": X.ShiftMask, "alt": X.Mod1Mask, "super": X.Mod4Mask}
    mask = 0
    for modifier in hotkey.modifiers:
        mask |= masks[modifier]
    # The same shortcut with Caps Lock or Num Lock on is still the shortcut.
    variants = [mask | extra for extra in (0, X.LockMask, X.Mod2Mask, X.LockMask | X.Mod2Mask)]
    catch = error.CatchError(error.BadAccess)
    for variant in variants:
        root.grab_key(keycode, variant, True, X.GrabModeAsync, X.GrabModeAsync, onerror=catch)
    screen.sync()
    if catch.get_error():
        for variant in variants:
            root.ungrab_key(keycode, variant)
        screen.close()
        failure.append(_taken(hotkey))
        ready.set()
        return
    ready.set()
    try:
        while not stop.is_set():
            readable, _w, _x = select.select([screen.fileno()], [], [], 0.1)
            if not readable and not screen.pending_events():
                continue
            while screen.pending_events():
                event = screen.next_event()
                if event.type == X.KeyPress and event.detail == keycode:
                    fire()
    finally:
        try:
            for variant in variants:
                root.ungrab_key(keycode, variant)
            screen.sync()
            screen.close()
        except Exception:  # the X server went first (session ending): nothing left to release
            pass


def _listen_windows(
    hotkey: Hotkey,
    fire: Callable[[], object],
    stop: threading.Event,
    ready: threading.Event,
    failure: list[str],
) -> None:
    import ctypes
    from ctypes import wintypes

    user32 = ctypes.windll.user32  # type: ignore[attr-defined]
    flags = {"alt": 0x1, "ctrl": 0x2, "shift": 0x4, "super": 0x8}
    modifiers = 0x4000  # MOD_NOREPEAT: held down, it fires once
    for modifier in hotkey.modifiers:
        modifiers |= flags[modifier]
    named = {"space": 0x20, "enter": 0x0D, "tab": 0x09, "escape": 0x1B}
    if hotkey.key in named:
        vk = named[hotkey.key]
    elif len(hotkey.key) == 1 and hotkey.key.isalnum():
        vk = ord(hotkey.key.upper())
    elif hotkey.key.startswith("f") and hotkey.key[1:].isdigit():
        vk = 0x6F + int(hotkey.key[1:])  # VK_F1 = 0x70
    else:
        failure.append(_("Unknown key in the shortcut: {key}").format(key=hotkey.key))
        ready.set()
        return
    if not user32.RegisterHotKey(None, 1, modifiers, vk):
        failure.append(_taken(hotkey))
        ready.set()
        return
    ready.set()
    message = wintypes.MSG()
    try:
        while not stop.is_set():
            # PeekMessage with PM_REMOVE, polled: this thread owns the hotkey and its queue.
            while user32.PeekMessageW(ctypes.byref(message), None, 0, 0, 1):
                if message.message == 0x0312:  # WM_HOTKEY
                    fire()
            stop.wait(0.05)
    finally:
        user32.UnregisterHotKey(None, 1)
