"""The global shortcut that summons quick-ask, registered with the system so a clash is known.

Each platform's own registration is used, because it reports a shortcut another application already
holds and does not watch every keystroke: on X11 a key grab on the root window (python-xlib;
BadAccess when taken; the key found in the keymap by x11_keys.py), on Windows RegisterHotKey
(ERROR_HOTKEY_ALREADY_REGISTERED when taken; the key mapped through the keyboard layout by
windows_keys.py). On Wayland the shortcut belongs to the compositor: it is asked for through the
desktop portal's GlobalShortcuts (portal_shortcut.py), which lets the desktop show its dialog and
choose the trigger, reported later by `bound` or `lost`. Where there is no such portal, or where
the shortcut needs a permission Lanterne does not ask for (macOS), `start()` raises with what to do
instead: bind `lanterne quick-ask` in the system's keyboard settings. Keys are named by what they
are, not where they sit ("space", "k", "f12"), so the shortcut means the same on AZERTY, QWERTZ or
Dvorak.
"""

from __future__ import annotations

import functools
import os
import select
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from lanterne.desktop import windows_keys, x11_keys
from lanterne.foundation.translation import _

MODIFIERS = ("ctrl", "shift", "alt", "super")
_ALIASES = {"control": "ctrl", "meta": "super", "win": "super", "cmd": "super", "option": "alt"}
_BLANKS = " \t\r\n"
START_TIMEOUT_S = 5.0  # the listening thread says within this whether the shortcut is had
ERROR_HOTKEY_ALREADY_REGISTERED = 1409  # winerror.h: RegisterHotKey's "taken"


class HotkeyError(Exception):
    """The shortcut cannot be used; the message says why and what to do instead."""


@dataclass(frozen=True)
class Hotkey:
    modifiers: frozenset[str]
    key: str  # lower case: "space", "k", "f12"

    def __str__(self) -> str:
        return "+".join([m for m in MODIFIERS if m in self.modifiers] + [self.key])


# A listening thread's body: (hotkey, fire, stop, ready, failure). It sets `ready` once the
# shortcut is held, or puts why not in `failure` first.
Listener = Callable[
    [Hotkey, Callable[[], object], threading.Event, threading.Event, list[str]], None
]


def parse_hotkey(text: str) -> Hotkey:
    """ "Ctrl+Shift+Space" -> Hotkey({ctrl, shift}, "space"); at least one modifier. The plus
    key itself is written as it is pressed, "ctrl++"."""
    text = text.strip(_BLANKS)
    plus = text.endswith("+") and text[:-1].rstrip(_BLANKS).endswith("+")
    if plus:
        text = text[:-1].rstrip(_BLANKS)[:-1]
    # Only ASCII blanks are trimmed: a no-break space is a key of some layouts.
    parts = [p.strip(_BLANKS).lower() for p in text.split("+") if p.strip(_BLANKS)]
    if plus:
        parts.append("+")
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
        listen: Listener = _listen_x11
        if sys.platform == "win32":
            # Mapped here, on the thread the user typed the shortcut on: its keyboard layout.
            try:
                keys = windows_keys.registration(
                    self.hotkey.modifiers, self.hotkey.key, windows_keys.system_scan()
                )
            except windows_keys.WindowsKeyError as exc:
                raise HotkeyError(str(exc)) from exc
            listen = functools.partial(_listen_windows, keys)
        ready = threading.Event()
        failure: list[str] = []
        self._stop.clear()
        self._thread = threading.Thread(
            target=_reporting,
            args=(listen, self.hotkey, self.activated.emit, self._stop, ready, failure),
            name="lanterne-hotkey",
            daemon=True,
        )
        self._thread.start()
        self._await_answer(ready, failure)

    def _await_answer(self, ready: threading.Event, failure: list[str]) -> None:
        """Success only when the thread said it holds the shortcut and still runs."""
        thread = self._thread
        assert thread is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        while not ready.wait(0.05) and thread.is_alive() and time.monotonic() < deadline:
            pass
        if failure or not ready.is_set() or not thread.is_alive():
            self.stop()  # a late registration is released, not left behind
            raise HotkeyError(failure[0] if failure else _no_answer(self.hotkey))

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


def _no_answer(hotkey: Hotkey) -> str:
    return _with_advice(
        _("The shortcut {hotkey} could not be registered: the system did not answer.").format(
            hotkey=hotkey
        )
    )


def _reporting(
    listen: Listener,
    hotkey: Hotkey,
    fire: Callable[[], object],
    stop: threading.Event,
    ready: threading.Event,
    failure: list[str],
) -> None:
    """Run a listener so that it always answers start(): whatever it raises before it holds
    the shortcut becomes a failure in words, and `ready` is set however it ends."""
    try:
        listen(hotkey, fire, stop, ready, failure)
    except Exception:
        if ready.is_set():
            raise  # the shortcut was held and the loop broke: threading.excepthook reports it
        failure.append(
            _with_advice(
                _(
                    "The shortcut {hotkey} could not be registered because of an unexpected error."
                ).format(hotkey=hotkey)
            )
        )
    finally:
        if not ready.is_set():
            if not failure:
                failure.append(_no_answer(hotkey))
            ready.set()


def _listen_x11(
    hotkey: Hotkey,
    fire: Callable[[], object],
    stop: threading.Event,
    ready: threading.Event,
    failure: list[str],
) -> None:
    from Xlib import X, display, error

    try:
        screen = display.Display()
    except Exception:  # no server, or no permission to use it: said in words
        failure.append(
            _with_advice(_("The shortcut cannot be registered: the X display cannot be reached."))
        )
        ready.set()
        return
    root = screen.screen().root
    try:
        # Where this keyboard's keymap has the key, and whether Shift types it there.
        key = x11_keys.grab(hotkey.key, screen.keysym_to_keycodes)
    except x11_keys.X11KeyError as exc:
        failure.append(str(exc))
        ready.set()
        screen.close()
        return
    keycode = key.keycode
    masks = {"ctrl": X.ControlMask, "shift": X.ShiftMask, "alt": X.Mod1Mask, "super": X.Mod4Mask}
    mask = X.ShiftMask if key.shift else 0
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


def _windows_refusal(hotkey: Hotkey, code: int) -> str:
    """RegisterHotKey's error in words: taken, or Windows's own words for anything else."""
    if code == ERROR_HOTKEY_ALREADY_REGISTERED:
        return _taken(hotkey)
    import ctypes

    format_error: Callable[[int], str] | None = getattr(ctypes, "FormatError", None)
    words = format_error(code).strip().rstrip(".") if format_error is not None else ""
    return _(
        "Windows refused the shortcut {hotkey}: {reason} (error {code}). Choose another in "
        "Settings."
    ).format(hotkey=hotkey, reason=words or _("no reason given"), code=code)


def _listen_windows(
    keys: windows_keys.Registration,
    hotkey: Hotkey,
    fire: Callable[[], object],
    stop: threading.Event,
    ready: threading.Event,
    failure: list[str],
) -> None:
    import ctypes
    from ctypes import wintypes

    # use_last_error: RegisterHotKey's reason is read with ctypes.get_last_error(), saved by
    # ctypes right after the call, before anything else can overwrite it.
    user32 = ctypes.WinDLL("user32", use_last_error=True)  # type: ignore[attr-defined]
    if not user32.RegisterHotKey(None, 1, keys.modifiers, keys.vk):
        error: int = ctypes.get_last_error()  # type: ignore[attr-defined]
        failure.append(_windows_refusal(hotkey, error))
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
