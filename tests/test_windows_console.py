"""The command line on Windows: output redirected to a file or a pipe is encoded in cp1252, which
has no "■" (the house-rules mask), no CJK and no emoji; the classic console prints the ANSI
erase-line sequence as "←[2K" unless asked to understand it.

The cp1252 streams are the ones Python opens there (TextIOWrapper, strict errors); the console
is a fake terminal with a fake kernel32 behind it, fed through the real progress code.
"""

from __future__ import annotations

import ctypes
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from lanterne import launch
from lanterne.cli import index_cmd
from lanterne.cli.progress_line import (
    ENABLE_VIRTUAL_TERMINAL_PROCESSING,
    ProgressLine,
    enable_virtual_terminal,
    understands_ansi,
)
from lanterne.context import AppContext
from lanterne.conversations.store import ConversationStore
from lanterne.foundation.settings import Settings
from lanterne.indexer.embedding_worker import EmbeddingProgress
from lanterne.indexer.indexing import Progress
from support.cli import LANTERNE

ODD = "■■■ 漢字 😀"  # the house-rules mask, CJK, an emoji: none of them in cp1252


@pytest.fixture
def odd_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A policy, a folder and a conversation holding ODD; returns the folder."""
    policy = tmp_path / "policy.toml"
    policy.write_text(
        f'[settings]\n"house.masked_words" = "{ODD}"\n"house.disclaimer" = "{ODD}"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("LANTERNE_POLICY", str(policy))
    folder = tmp_path / "漢字 😀"
    folder.mkdir()
    (folder / "note ■.txt").write_text(f"Une note : {ODD}.", encoding="utf-8")
    store = ConversationStore(AppContext(Settings()).conversations_path)
    conversation = store.create(ODD)
    store.add_message(conversation, "user", f"Que veut dire {ODD} ?")
    store.add_message(conversation, "assistant", f"{ODD} [1].", "complete", [], {"language": "fr"})
    store.close()
    return folder


def run_cp1252(monkeypatch: pytest.MonkeyPatch, *argv: str) -> tuple[int, str, str]:
    """`lanterne ARGV` in this process, its output going where Windows sends a redirection."""
    out, err = io.BytesIO(), io.BytesIO()
    stdout, stderr = (io.TextIOWrapper(b, encoding="cp1252") for b in (out, err))
    with monkeypatch.context() as patch:
        patch.setattr(sys, "stdout", stdout)
        patch.setattr(sys, "stderr", stderr)
        patch.setattr(sys, "argv", ["lanterne", *argv])
        code = launch.main()
        stdout.flush()
        stderr.flush()
    return code, out.getvalue().decode("cp1252"), err.getvalue().decode("cp1252")


@pytest.mark.model
def test_json_through_cp1252_is_escaped_and_reads_back_the_same(
    odd_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run_cp1252(monkeypatch, "policy", "--json")
    assert code == 0, err
    assert json.loads(out)["settings"]["house.masked_words"] == ODD
    code, out, err = run_cp1252(monkeypatch, "index", "add", str(odd_data), "--no-embed", "--json")
    assert code == 0, err
    assert json.loads(out)["folders"][0]["path"] == str(odd_data.resolve())
    code, out, err = run_cp1252(monkeypatch, "export", "-")
    assert code == 0, err
    (example,) = (json.loads(line) for line in out.splitlines())
    assert example["messages"][-1]["content"] == f"{ODD} [1]."
    code, out, err = run_cp1252(monkeypatch, "export", "--preview", "1", "--json")
    assert code == 0, err
    assert json.loads(out)["examples"][0]["messages"][-2]["content"].startswith(
        f"Que veut dire {ODD}"
    )


@pytest.mark.model
def test_text_through_cp1252_loses_characters_not_the_command(
    odd_data: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    code, out, err = run_cp1252(monkeypatch, "policy")
    assert code == 0, err
    assert "house.masked_words = ??? ?? ? (locked)" in out
    code, out, err = run_cp1252(monkeypatch, "index", "add", str(odd_data), "--no-embed")
    assert code == 0, err
    assert "1 indexed" in out
    code, out, err = run_cp1252(monkeypatch, "export", "--preview", "1")
    assert code == 0, err
    assert json.loads(out[out.index("{") :])["messages"][-1]["content"] == f"{ODD} [1]."
    exported = tmp_path / "demonstrations ■.jsonl"
    code, out, err = run_cp1252(monkeypatch, "export", str(exported))
    assert code == 0, err
    assert "demonstrations ?.jsonl" in out
    assert f'"{ODD} [1]."' in exported.read_text(encoding="utf-8")  # files: UTF-8, unescaped


@pytest.mark.slow
def test_the_installed_command_with_a_cp1252_stdout(odd_data: Path) -> None:
    """PYTHONIOENCODING=cp1252 gives the real `lanterne` script the streams Windows gives it."""

    def lanterne_cp1252(*args: str) -> tuple[int, str]:
        done = subprocess.run(
            [str(LANTERNE), *args],
            capture_output=True,
            timeout=300,
            env={**os.environ, "PYTHONIOENCODING": "cp1252"},
        )
        return done.returncode, done.stdout.decode("cp1252") + done.stderr.decode("cp1252")

    code, out = lanterne_cp1252("policy", "--json")
    assert code == 0, out
    assert json.loads(out)["settings"]["house.disclaimer"] == ODD
    code, out = lanterne_cp1252("export", "-")
    assert code == 0, out
    assert json.loads(out)["messages"][-1]["content"] == f"{ODD} [1]."
    code, out = lanterne_cp1252("policy")
    assert code == 0 and "Traceback" not in out, out


class Terminal(io.StringIO):
    """What a program writing to a console sees: a terminal on file descriptor 2."""

    def isatty(self) -> bool:
        return True

    def fileno(self) -> int:
        return 2


class Kernel32:
    """GetConsoleMode and SetConsoleMode of a console in `mode` that accepts the flag or not
    (it does from Windows 10 on); None for a handle that is no console."""

    def __init__(self, mode: int | None, accepts: bool) -> None:
        self.mode, self.accepts = mode, accepts
        self.set_to: list[int] = []

    def GetConsoleMode(self, handle: ctypes.c_void_p, mode: Any) -> int:  # noqa: N802
        assert handle.value == 1234  # the handle msvcrt gave for the stream's descriptor
        if self.mode is None:
            return 0
        mode._obj.value = self.mode  # what ctypes.byref points to
        return 1

    def SetConsoleMode(self, handle: ctypes.c_void_p, mode: ctypes.c_uint32) -> int:  # noqa: N802
        self.set_to.append(mode.value)
        return int(self.accepts)


@pytest.fixture
def console(monkeypatch: pytest.MonkeyPatch) -> Kernel32:
    """A Windows console of this era (output mode 0x3), behind fake msvcrt and ctypes.windll."""
    kernel32 = Kernel32(mode=0x3, accepts=True)
    monkeypatch.setitem(sys.modules, "msvcrt", SimpleNamespace(get_osfhandle=lambda fd: 1234))
    monkeypatch.setattr(ctypes, "windll", SimpleNamespace(kernel32=kernel32), raising=False)
    return kernel32


def test_virtual_terminal_processing_is_asked_of_the_console(console: Kernel32) -> None:
    assert enable_virtual_terminal(Terminal()) is True
    assert console.set_to == [0x3 | ENABLE_VIRTUAL_TERMINAL_PROCESSING]
    console.accepts = False  # before Windows 10
    assert enable_virtual_terminal(Terminal()) is False
    console.mode, console.set_to = 0x7, []  # already on (Windows Terminal)
    assert enable_virtual_terminal(Terminal()) is True and console.set_to == []
    console.mode = None  # a handle that is no console
    assert enable_virtual_terminal(Terminal()) is False


def test_no_windows_api_means_no_ansi() -> None:
    """Here there is no ctypes.windll: as if the call had failed."""
    assert enable_virtual_terminal(Terminal()) is False
    assert understands_ansi(Terminal(), platform="win32") is False
    assert understands_ansi(Terminal(), platform="linux", enable=lambda _s: False) is True


def test_without_ansi_a_line_is_overwritten_with_spaces() -> None:
    screen = Terminal()
    line = ProgressLine(screen, ansi=False)
    line.show("[1/10] a long name.txt")
    line.show("[2/10] b.txt")
    line.show("[10/10]", final=True)
    line.show("[1/1] c.txt", final=True)
    assert screen.getvalue().split("\r") == [
        "",
        "[1/10] a long name.txt",
        "[2/10] b.txt          ",
        "[10/10]     \n",
        "[1/1] c.txt\n",
    ]


def test_with_ansi_a_line_is_erased_and_a_log_gets_lines() -> None:
    screen = Terminal()
    line = ProgressLine(screen, ansi=True)
    line.show("[1/2] a.txt")
    line.show("[2/2]", final=True)
    assert screen.getvalue() == "\r\x1b[2K[1/2] a.txt\r\x1b[2K[2/2]\n"
    log = io.StringIO()  # not a terminal
    ProgressLine(log, ansi=True).show("[1/2] a.txt")
    assert log.getvalue() == "[1/2] a.txt\n"


@pytest.mark.parametrize("accepts", [False, True])
def test_index_progress_on_the_windows_console(
    console: Kernel32, accepts: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`lanterne index add` in the classic console: "←[2K" before every line, until now."""
    console.accepts = accepts
    screen = Terminal()
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(sys, "stderr", screen)
    files = index_cmd._ProgressPrinter()
    files(
        Progress(done=1, total=2, current=Path("a long name.txt"), indexed=1, unchanged=0, failed=0)
    )
    files(Progress(done=2, total=2, current=None, indexed=2, unchanged=0, failed=0))
    passages = index_cmd._embedding_printer()
    passages(EmbeddingProgress(embedded=4, total=4))
    shown = screen.getvalue()
    assert ("\x1b" in shown) is accepts
    assert shown.endswith("[4/4] passages embedded\n")
    if not accepts:
        assert "\r" + "[2/2] ".ljust(len("[1/2] a long name.txt")) + "\n" in shown
