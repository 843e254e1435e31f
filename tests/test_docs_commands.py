"""Every `lanterne …` command line in the README and docs/*.md parses with the CLI's own parser.

Docs drift when an option is renamed or a subcommand moves, and nobody runs the examples. Each
command the docs show goes through `build_parser()` (nothing is executed):

- a line in a fenced code block is an example: it must parse as written, placeholders and all
  (FILE, "QUESTION" and the like are strings to argparse; the few that must be numbers are
  given one);
- inline code in prose (and in the module maps' descriptions) mentions a command or an option:
  it must name real ones, but may leave out the arguments a complete command needs;
- synopsis notation is expanded: `[--copy]` with and without, `FILE|-` each alternative,
  `NAME...` once.

`docs/settings.md` is generated from the settings table and checked by tests/test_settings.py.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

from lanterne.autostart import BACKGROUND_FLAG
from lanterne.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

# Code that names `lanterne` and a word without being a command line, and why.
NOT_COMMANDS = {
    (
        "docs/architecture.md",
        "lanterne models list|recommend|download|import|remove|use|scan|token",
    ): "the module map lists the subcommands models_cmd.py registers, not one command",
}
# Placeholders that argparse would refuse as they are written (a number is expected).
NUMBERS = {"N": "3", "PORT": "8800"}
# `lanterne` (or a path to it, or `python -m lanterne`) then a word; `dev.py run --` passes the
# rest to it. Not `lanterne.desktop`, `lanterne-documents`, `~/lanterne-sample`.
COMMAND = re.compile(
    r"(?:(?<![\w.~-])(?:[\w.~/\\-]*[/\\])?lanterne|\bdev\.py run --)[ \t]+(?=[^\s#])"
)
FENCE = re.compile(r"^\s*(```|~~~)")
SPAN = re.compile(r"(`+)((?:(?!\n[ \t]*\n).)+?)\1", re.DOTALL)
SHELL_STOPS = {">", ">>", "<", "|", "||", "&", "&&", ";", "(", ")"}
REQUIRED = "the following arguments are required: "


@dataclass(frozen=True)
class DocCommand:
    file: str  # relative to the repository
    line: int
    text: str  # from `lanterne` on, as written
    example: bool  # a fenced example (complete) rather than a mention in prose

    def where(self) -> str:
        return f"{self.file}:{self.line}: {self.text}"


class ParserExitError(Exception):
    """argparse stopped: it refused the line (status 2), or was done early (--version, --help)."""

    def __init__(self, parser: argparse.ArgumentParser, status: int, message: str) -> None:
        super().__init__(message)
        self.parser = parser
        self.status = status
        self.message = message


def _error(self: argparse.ArgumentParser, message: str) -> NoReturn:
    raise ParserExitError(self, 2, message)


def _exit(self: argparse.ArgumentParser, status: int = 0, message: str | None = None) -> NoReturn:
    raise ParserExitError(self, status, message or f"exit status {status}")


@pytest.fixture
def parser(monkeypatch: pytest.MonkeyPatch) -> argparse.ArgumentParser:
    """The CLI's parser, every subparser raising instead of printing and exiting."""
    monkeypatch.setattr(argparse.ArgumentParser, "error", _error)
    monkeypatch.setattr(argparse.ArgumentParser, "exit", _exit)
    return build_parser()


def commands_in(path: Path, root: Path = ROOT) -> Iterator[DocCommand]:
    """The command lines in one Markdown file: fenced examples, then inline code."""
    name = path.relative_to(root).as_posix()
    prose: list[str] = []  # the file with fenced blocks blanked, lines kept in place
    for first, block in _blocks(path.read_text(encoding="utf-8").splitlines()):
        if first == 0:
            prose.extend(block)
            continue
        prose.extend([""] * len(block))
        if any("`" in line for line in block):  # a module map: inline code in descriptions
            yield from _spans(name, first, "\n".join(block))
            continue
        pending, start = "", 0  # a line continued with a backslash, and where it began
        for number, line in enumerate(block, start=first):
            start = start or number
            if line.rstrip().endswith("\\"):
                pending += line.rstrip()[:-1] + " "
                continue
            yield from _found(name, start, pending + line, example=True)
            pending, start = "", 0
    yield from _spans(name, 1, "\n".join(prose))


def _blocks(lines: list[str]) -> Iterator[tuple[int, list[str]]]:
    """(0, prose lines) and (first line number, fenced lines), in order, fences as blank prose."""
    prose: list[str] = []
    fenced: list[str] | None = None
    for number, line in enumerate(lines, start=1):
        if FENCE.match(line):
            if fenced is None:
                fenced = []
                start = number + 1
            else:
                yield 0, prose
                yield start, fenced
                prose, fenced = [], None
            prose.append("")
        elif fenced is None:
            prose.append(line)
        else:
            fenced.append(line)
    yield 0, prose + ([""] * len(fenced) if fenced is not None else [])


def _spans(file: str, first: int, text: str) -> Iterator[DocCommand]:
    for span in SPAN.finditer(text):
        number = first + text.count("\n", 0, span.start())
        yield from _found(file, number, " ".join(span.group(2).split()), example=False)


def _found(file: str, line: int, code: str, *, example: bool) -> Iterator[DocCommand]:
    for match in COMMAND.finditer(code):
        rest = code[match.end() :]
        if example:
            rest = re.sub(r"(^|\s)#.*", "", rest)  # a shell comment
        if not rest.strip():
            continue  # `lanterne` alone opens the app; `apt-get remove lanterne`
        yield DocCommand(file, line, " ".join(["lanterne", *rest.split()]), example)


def variants(text: str) -> list[list[str]]:
    """The argument lists a command line or synopsis stands for (without `lanterne`)."""
    text = re.sub(r"\.\.\.|…", "", text)  # NAME... : once is enough
    text = re.sub(r"<([\w-]+)>", r"\1", text)  # <folder>
    forms = [text]
    while any("[" in form for form in forms):  # innermost optional part: with and without
        forms = [
            re.sub(r"\[([^\[\]]*)\]", repl, form, count=1) for form in forms for repl in (r"\1", "")
        ]
    out = []
    for form in forms:
        tokens = _shell_words(form)[1:]  # after `lanterne`
        choices = [t.split("|") if "|" in t.strip("|") else [t] for t in tokens]
        for chosen in itertools.product(*choices):
            out.append([NUMBERS.get(token, token) for token in chosen])
    return out


def _shell_words(text: str) -> list[str]:
    """The words a shell would pass, up to a redirection, pipe or command separator."""
    lexer = shlex.shlex(text, posix=True, punctuation_chars="<>&;()")  # `a|b`: alternatives
    lexer.whitespace_split = True
    lexer.commenters = ""
    words: list[str] = []
    for word in lexer:
        if word in SHELL_STOPS:
            break
        words.append(word)
    return words


def parse_error(parser: argparse.ArgumentParser, argv: list[str], *, example: bool) -> str | None:
    """argparse's message for `argv`, or None if it parses. A mention may leave out what a
    complete command needs: the missing arguments are filled in with a plausible value."""
    if argv == [BACKGROUND_FLAG]:  # taken by main() before the parser: the autostart entry
        return None
    for _attempt in range(4):
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                parser.parse_args(argv)
        except ParserExitError as failure:
            if failure.status == 0:
                return None
            filled = None if example else _fill(failure)
            if filled is None:
                return failure.message
            argv = argv + filled
        else:
            return None
    return "still incomplete after filling in the required arguments"


def _fill(failure: ParserExitError) -> list[str] | None:
    if not failure.message.startswith(REQUIRED):
        return None
    values = []
    for name in failure.message.removeprefix(REQUIRED).split(", "):
        action = next((a for a in failure.parser._actions if name in _names(a)), None)
        if action is None or action.option_strings:
            return None
        if action.choices:
            values.append(str(next(iter(action.choices))))
        else:
            values.append("1" if action.type is int else name)
    return values


def _names(action: argparse.Action) -> set[Any]:
    return {action.dest, action.metavar, *action.option_strings}


def failures(parser: argparse.ArgumentParser, commands: list[DocCommand]) -> list[str]:
    out = []
    for command in commands:
        if (command.file, command.text) in NOT_COMMANDS:
            continue
        for argv in variants(command.text):  # the first variant refused is enough
            message = parse_error(parser, argv, example=command.example)
            if message is not None:
                out.append(f"{command.where()}\n    {' '.join(argv)}: {message}")
                break
    return out


def all_commands() -> list[DocCommand]:
    return [command for path in DOCS for command in commands_in(path)]


def test_every_documented_command_line_parses(parser: argparse.ArgumentParser) -> None:
    commands = all_commands()
    assert len({c.file for c in commands}) >= 5, "the extractor no longer finds the commands"
    wrong = failures(parser, commands)
    assert not wrong, "commands in the docs that `lanterne` refuses:\n" + "\n".join(wrong)


def test_every_exception_still_occurs() -> None:
    """An allow-listed line that was fixed or removed must leave the list too."""
    found = {(c.file, c.text) for c in all_commands()}
    assert set(NOT_COMMANDS) <= found, set(NOT_COMMANDS) - found


def test_a_wrong_line_is_reported_with_its_place(
    parser: argparse.ArgumentParser, tmp_path: Path
) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "Run `lanterne ask --json` or `lanterne models import PATH [--copy]`.\n\n"
        "```sh\n"
        "lanterne search QUERY -k N --json   # fine\n"
        "lanterne ask --json                  # no question\n"
        "lanterne index add DIR \\\n"
        "    --no-such-option\n"
        "TOKEN=$(lanterne serve --show-token)\n"
        "```\n\n"
        "And `lanterne index forget PATH`, `lanterne export [--since]`, `lanterne --version`.\n",
        encoding="utf-8",
    )
    commands = list(commands_in(page, tmp_path))
    wrong = failures(parser, commands)
    assert len(commands) == 9, commands
    assert [w.splitlines()[0] for w in wrong] == [
        "page.md:5: lanterne ask --json",
        "page.md:6: lanterne index add DIR --no-such-option",
        "page.md:11: lanterne index forget PATH",
        "page.md:11: lanterne export [--since]",
    ]
    assert "the following arguments are required: QUESTION" in wrong[0]
    assert "unrecognized arguments: --no-such-option" in wrong[1]
    assert "invalid choice: 'forget'" in wrong[2]
    assert "expected one argument" in wrong[3]
