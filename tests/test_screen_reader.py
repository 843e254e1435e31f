"""A screen reader's pass over the real app: its windows read over AT-SPI, as Orca reads them.

The app runs on Xvfb with a private session bus and accessibility bus, the screen-reader status
set as Orca sets it. Every control a user can reach must have a name to be said, the main
controls must be there by role and name, in both languages, and keyboard focus, as the screen
reader follows it, must go through the window in reading order.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from support import atspi, dbus_session, xvfb
from support.x_app import quit_app, set_up_already, start_app, wait_window, xdotool

pytestmark = [
    pytest.mark.xserver,
    pytest.mark.skipif(
        not (xvfb.available() and dbus_session.available() and atspi.available()),
        reason="needs Xvfb, xdotool, dbus-daemon and at-spi2-core (dev.py installs them)",
    ),
]


@dataclass
class Session:
    display: str
    env: dict[str, str]
    reader: atspi.ScreenReader


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    env = {"XDG_RUNTIME_DIR": str(runtime)}
    with xvfb.xvfb() as display, dbus_session.session_bus(env) as address:
        env["DBUS_SESSION_BUS_ADDRESS"] = address
        reader = atspi.ScreenReader(address)
        try:
            yield Session(display, env, reader)
        finally:
            reader.close()


def _read_until(
    reader: atspi.ScreenReader, check: str, wanted: object, timeout: float = 15
) -> atspi.Node:
    """The app's tree once `check` (a role and name to find, or "focused") holds."""
    deadline = time.monotonic() + timeout
    while True:
        app = reader.application("Lanterne")
        if check == "focused":
            node = app.focused()
            if node is not None and node.name == wanted:
                return app
        elif app.find(*wanted) is not None:  # type: ignore[misc]
            return app
        if time.monotonic() > deadline:
            raise AssertionError(f"{check} {wanted!r} never read; focus on {app.focused()}")
        time.sleep(0.2)


@contextmanager
def _running_app(
    session: Session, home: Path, **settings: object
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """The app started as a set-up user, with its main window; it must then quit cleanly."""
    set_up_already(home, **settings)
    app = start_app(session.display, env=session.env)
    try:
        yield app, wait_window(session.display, "^Lanterne$", app)
        _out, err = quit_app(session.display, app)
    finally:
        if app.poll() is None:
            app.kill()
            app.communicate()
    assert app.returncode == 0, err


def _click_into(session: Session, window: str) -> None:
    # No window manager gives focus: a click does, as a user's would.
    xdotool(session.display, "mousemove", "--window", window, "600", "40")
    xdotool(session.display, "click", "1")


MAIN_CONTROLS = {
    "en": [
        ("push button", "New conversation"),
        ("text", "Search conversations"),
        ("list", "Conversations"),
        ("text", "Question"),
        ("push button", "Ask"),
    ],
    "fr": [
        ("push button", "Nouvelle conversation"),
        ("text", "Rechercher dans les conversations"),
        ("list", "Conversations"),
        ("text", "Question"),
        ("push button", "Demander"),
    ],
}


@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_control_of_the_main_window_is_read_with_its_name(
    session: Session, lanterne_home: Path, language: str
) -> None:
    with _running_app(session, lanterne_home, **{"ui.language": language}):
        tree = _read_until(session.reader, "find", ("push button", MAIN_CONTROLS[language][-1][1]))
        assert tree.find("frame", "Lanterne") is not None
        for role, name in MAIN_CONTROLS[language]:
            assert tree.find(role, name) is not None, f"no {role} named {name!r}"
        assert tree.unnamed() == []


def test_the_windows_opened_from_the_keyboard_are_read_with_their_names(
    session: Session, lanterne_home: Path
) -> None:
    with _running_app(session, lanterne_home) as (app, window):
        for keys, title, control in (
            ("ctrl+shift+k", "^Knowledge$", ("list", "Watched folders")),
            ("ctrl+comma", "^Settings$", ("push button", "OK")),
            ("ctrl+shift+space", "^Quick ask$", ("", "Quick ask")),  # the global shortcut
            ("alt+f e", "^Evaluation$", ("push button", "Run")),  # through the File menu
            ("alt+f x", "^Export demonstration data$", ("table", "Matching answers")),
        ):
            _click_into(session, window)
            xdotool(session.display, "key", *keys.split())
            dialog = wait_window(session.display, title, app, timeout=10)
            tree = _read_until(session.reader, "find", control)
            assert tree.unnamed() == [], title
            _click_into(session, dialog)
            xdotool(session.display, "key", "Escape")
            deadline = time.monotonic() + 10
            while xdotool(session.display, "search", "--onlyvisible", "--name", title):
                assert time.monotonic() < deadline, f"{title} did not close on Escape"
                time.sleep(0.1)


# Left to right as the window is laid out: conversations, the chat (an empty conversation at
# start: the welcome panel in its place, read with its button), the sources panel.
READING_ORDER = [
    "New conversation",
    "Search conversations",
    "Conversations",
    "Getting started",
    "Add a folder…",
    "Question",
    "Ask",
    "Sources",
]


def test_tab_moves_the_read_focus_through_the_window_in_reading_order(
    session: Session, lanterne_home: Path
) -> None:
    with _running_app(session, lanterne_home) as (_app, window):
        _read_until(session.reader, "find", ("push button", "Ask"))
        # Into the window by its status bar, which takes no focus: the app's own focus stays.
        xdotool(session.display, "mousemove", "--window", window, "600", "712")
        xdotool(session.display, "click", "1")
        # The question box has the focus at start: a user types straight away.
        _read_until(session.reader, "focused", "Question")
        heard = []
        for _press in range(len(READING_ORDER) + 2):  # once round, and on
            xdotool(session.display, "key", "Tab")
            time.sleep(0.3)
            focused = session.reader.application("Lanterne").focused()
            heard.append(focused.name if focused else "")
        start = READING_ORDER.index("Question") + 1
        expected = [READING_ORDER[(start + i) % len(READING_ORDER)] for i in range(len(heard))]
        assert heard == expected  # Tab leaves the question box; nothing silent on the way


def test_the_reasoning_section_is_read_and_opened_from_the_keyboard(
    session: Session, lanterne_home: Path
) -> None:
    """A saved answer with its reasoning: Tab in the conversation reaches the section's link,
    read with what it is and what Enter does; Enter opens it, read then as "hide"."""
    from lanterne.context import AppContext
    from lanterne.conversations.store import ConversationStore
    from lanterne.foundation.settings import Settings

    set_up_already(lanterne_home)
    store = ConversationStore(AppContext(Settings()).conversations_path)
    cid = store.create("Apple pie")
    store.add_message(cid, "user", "How long does the apple pie bake?")
    answer = store.add_message(cid, "assistant", "Forty minutes.", "complete")
    store.update_message(answer, text="Forty minutes.", reasoning="The recipe says forty.")
    store.close()
    with _running_app(session, lanterne_home) as (_app, window):
        _read_until(session.reader, "find", ("list item", "Apple pie"))
        xdotool(session.display, "mousemove", "--window", window, "100", "82")
        xdotool(session.display, "click", "1")  # the conversation, opened
        # Qt gives the read-only conversation the role of a label, its text read through it.
        tree = _read_until(session.reader, "find", ("label", "Conversation"))
        chat = tree.find("label", "Conversation")
        assert chat is not None
        deadline = time.monotonic() + 10
        while "Forty minutes." not in session.reader.text(chat):
            assert time.monotonic() < deadline, session.reader.text(chat)
            time.sleep(0.2)
        assert "The recipe says forty." not in session.reader.text(chat)  # folded
        heard = []
        for _press in range(3):
            xdotool(session.display, "key", "Tab")
            time.sleep(0.3)
            heard.append(session.reader.selected_text(chat))
            if heard[-1]:
                break
        assert heard[-1] == "Reasoning (4 words) — show", heard
        xdotool(session.display, "key", "Return")
        time.sleep(0.3)
        assert session.reader.selected_text(chat) == "Reasoning (4 words) — hide"
        assert "The recipe says forty." in session.reader.text(chat)
