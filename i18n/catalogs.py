"""Translation catalogs: extract the template from the sources, merge it into each language's
`.po`, compile them into the package. Run by hand after changing strings, and by the build.

    python i18n/catalogs.py update     sources -> i18n/lanterne.pot -> i18n/<lang>.po (merged)
    python i18n/catalogs.py compile    i18n/<lang>.po -> core/locale/<lang>/LC_MESSAGES/lanterne.mo
    python i18n/catalogs.py stats      translated / untranslated / fuzzy per language

Babel rather than GNU gettext's tools: it is a Python package (installed by pip on Windows too),
and its extraction, merge and compilation are what the build and the tests call in-process.
A language is added by dropping its `.po` here (see README.md): nothing else changes.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

I18N = Path(__file__).resolve().parent
ROOT = I18N.parent
TEMPLATE = I18N / "lanterne.pot"
LOCALE_DIR = ROOT / "core" / "locale"  # installed as lanterne/locale
DOMAIN = "lanterne"
SOURCE_DIRS = ("core", "engine", "indexer", "desktop")
# `_` and `ngettext` translate at once; `N_` marks a string translated later (module-level
# constants); a setting's description is its fourth argument, shown translated in Settings.
KEYWORDS: dict[str, tuple[int, ...] | None] = {
    "_": None,
    "N_": None,
    "ngettext": (1, 2),
    "Setting": (4,),
}
# Python's argparse speaks to the user too (usage, errors, "show this help message and exit");
# its strings are in our catalogs so that the CLI is French from its first line.
ARGPARSE_KEYWORDS: dict[str, tuple[int, ...] | None] = {"_": None, "ngettext": (1, 2)}


def extract_python_ast(
    fileobj: Any, keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, tuple[str | None, ...], list[str]]]:
    """Babel's extraction method, on Python's own syntax tree: Babel's tokenizer does not look
    inside f-strings before Python 3.12, and `f"<b>{_('You')}</b>"` would go unextracted.
    Yields every call to a keyword with its positional arguments (None where not a literal);
    Babel keeps the ones the keyword's spec names."""
    tree = ast.parse(fileobj.read())
    for node in ast.walk(tree):
        called = (
            node.func.id if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) else ""
        )
        if called in keywords:
            assert isinstance(node, ast.Call)
            arguments = tuple(
                a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None
                for a in node.args
            )
            yield node.lineno, called, arguments, []


def languages() -> list[str]:
    """Every language with a catalog here; English, the source language, needs none."""
    return sorted(p.stem for p in I18N.glob("*.po"))


def _extracted() -> Iterator[tuple[tuple[str, int], str | tuple[str, ...], list[str]]]:
    for folder in SOURCE_DIRS:
        for filename, lineno, message, comments, _context in extract_from_dir(
            ROOT / folder,
            method_map=[("**.py", extract_python_ast)],  # type: ignore[list-item]
            keywords=KEYWORDS,
            comment_tags=("Translators:",),
        ):
            yield (f"{folder}/{filename}", lineno), message, comments
    with Path(argparse.__file__).open("rb") as source:
        for _lineno, message, comments, _context in extract(
            extract_python_ast, source, keywords=ARGPARSE_KEYWORDS
        ):
            yield ("<argparse>", 0), message, comments  # its line numbers change with Python


def template() -> Catalog:
    """Every translatable string of the sources (and argparse's), as a fresh template."""
    catalog = Catalog(project="Lanterne", domain=DOMAIN, fuzzy=False)
    for location, message, comments in _extracted():
        catalog.add(message, locations=[location], auto_comments=comments)
    return catalog


def read(language: str) -> Catalog:
    with (I18N / f"{language}.po").open("rb") as po:
        return read_po(po, locale=language, domain=DOMAIN)


def update() -> None:
    pot = template()
    with TEMPLATE.open("wb") as out:
        write_po(out, pot, width=100, omit_header=False, sort_output=False)
    for language in languages():
        catalog = read(language)
        catalog.update(pot, no_fuzzy_matching=False)
        with (I18N / f"{language}.po").open("wb") as out:
            write_po(out, catalog, width=100, ignore_obsolete=True)


def compile_all(target: Path = LOCALE_DIR) -> list[Path]:
    """Compile every `.po` (fuzzy entries left out, as msgfmt does) into `target`."""
    written = []
    for language in languages():
        catalog = read(language)
        mo = target / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
        mo.parent.mkdir(parents=True, exist_ok=True)
        with mo.open("wb") as out:
            write_mo(out, catalog, use_fuzzy=False)
        written.append(mo)
    return written


def untranslated(catalog: Catalog) -> list[Message]:
    """Entries a user would meet in English: empty, partly empty (plurals) or fuzzy."""
    missing = []
    for message in catalog:
        if not message.id:
            continue  # the header
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            missing.append(message)
    return missing


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "stats"
    if command == "update":
        update()
    elif command == "compile":
        for path in compile_all():
            print(path.relative_to(ROOT))
    elif command == "stats":
        total = len(template())
        for language in languages():
            missing = untranslated(read(language))
            print(f"{language}: {total - len(missing)}/{total} translated, {len(missing)} left")
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
