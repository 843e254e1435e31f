"""French and English everywhere: every string translated, none bypassing the catalogs, French
typography, locale formats, a language added without code, the CLI and argparse in French."""

from __future__ import annotations

import ast
import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from lanterne.foundation import translation
from lanterne.foundation.translation import (
    _,
    choose_language,
    first_apple_language,
    format_number,
    format_size,
    set_language,
    system_language,
)

ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIRS = ("core", "engine", "indexer", "desktop")


def _catalogs(i18n: Path = ROOT / "i18n") -> ModuleType:
    """i18n/catalogs.py (a script, not part of the package) as loaded from `i18n`."""
    spec = importlib.util.spec_from_file_location(f"catalogs_{id(i18n)}", i18n / "catalogs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


catalogs = _catalogs()
PLACEHOLDER = re.compile(r"\{[^{}]*\}|%\([a-z_]+\)[sdr]|%[sdr]")


def _french() -> Catalog:
    return catalogs.read("fr")  # type: ignore[no-any-return]


def _pairs(catalog: Catalog) -> list[tuple[str, str]]:
    pairs = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple | list) else (message.id,)
        texts = message.string if isinstance(message.string, tuple | list) else (message.string,)
        pairs += [(ids[min(i, len(ids) - 1)], str(text)) for i, text in enumerate(texts)]
    return pairs


def test_every_string_of_the_sources_is_translated_in_french() -> None:
    template = catalogs.template()
    french = _french()
    missing = [m.id for m in template if m.id and m.id not in french]
    assert missing == [], f"not in i18n/fr.po (run: python i18n/catalogs.py update): {missing}"
    unfinished = [m.id for m in catalogs.untranslated(french)]
    assert unfinished == [], f"untranslated or fuzzy in i18n/fr.po: {unfinished}"
    assert len(template) > 400  # the count is in the closing note of the languages issue


def test_french_keeps_every_placeholder() -> None:
    for source, text in _pairs(_french()):
        assert sorted(PLACEHOLDER.findall(source)) == sorted(PLACEHOLDER.findall(text)), source


def test_french_typography() -> None:
    """A no-break space before : ; ! ? and inside « », never a plain one; « » for quotes."""
    for source, text in _pairs(_french()):
        assert not re.search(r" [;:!?](\s|$)", text), f"plain space before punctuation: {text!r}"
        assert not re.search(r"«(?![\u00a0\u202f])|(?<![\u00a0\u202f])»", text), text
        assert "“" not in text and "”" not in text, text
        if source.endswith("…"):
            assert text.endswith("…"), text


def _call_name(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


# Calls whose string arguments reach the user: Qt texts, messages, CLI output and help, errors.
VISIBLE_CALLS = frozenset(
    [
        "setText",
        "setWindowTitle",
        "setToolTip",
        "setPlaceholderText",
        "setAccessibleName",
        "setAccessibleDescription",
        "setStatusTip",
        "addTab",
        "addAction",
        "addMenu",
        "showMessage",
        "setTitle",
        "setSubTitle",
        "QLabel",
        "QPushButton",
        "QCheckBox",
        "QGroupBox",
        "QAction",
        "QRadioButton",
        "QToolButton",
        "information",
        "warning",
        "critical",
        "question",
        "getOpenFileName",
        "getExistingDirectory",
        "addItem",
        "setHorizontalHeaderLabels",
        "setTabText",
        "setItemText",
        "showText",
        "print",
        "add_argument",
        "add_parser",
        "ArgumentParser",
        "error",
    ]
)
WORDS = re.compile(r"[A-Za-z]{2,}[^A-Za-z{}]+[A-Za-z]{2,}|^[A-Z][a-z]+$")
# Strings a user may meet that are not words to translate, with why.
ALLOWED = {
    "Lanterne",  # the product's name
    "GGUF (*.gguf)",  # a file-dialog filter
}


def _literal(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(str(v.value) for v in node.values if isinstance(v, ast.Constant))
    return None


def test_no_user_visible_string_bypasses_translation() -> None:
    """A scan of the sources: a literal with words handed to Qt, printed, or raised in an error
    must go through `_()` (the developers' tools, screenshots and the icon export run by the
    release build, are exempt)."""
    found = []
    for folder in SOURCE_DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            # The install's step that builds the shipped embedding model (run by dev.py and
            # the release build, never by the app) is a developers' tool too.
            if path.name in (
                "screenshots.py",
                "screen_capture.py",
                "icon_export.py",
                "e5_gguf.py",
                "embedder_build.py",
            ):
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                name = _call_name(node)
                if name not in VISIBLE_CALLS and not name.endswith(("Error", "Exception")):
                    continue
                named = [k.value for k in node.keywords if k.arg in ("help", "description")]
                # argparse's positional arguments are command and option names, not prose.
                positional = [] if name in ("add_argument", "add_parser") else node.args
                arguments = [*positional, *named]
                for argument in arguments:
                    text = _literal(argument)
                    if (
                        text
                        and WORDS.search(text)
                        and text not in ALLOWED
                        and not text.startswith("-")
                    ):
                        found.append(f"{path.relative_to(ROOT)}:{argument.lineno}: {text!r}")
    assert found == []


def test_nothing_is_translated_at_import() -> None:
    """`_()` at module level would freeze a string in the language of the import: use N_()."""
    found = []

    def visit(node: ast.AST, path: Path, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(
                child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
            )
            if (
                not in_function
                and isinstance(child, ast.Call)
                and _call_name(child) in ("_", "ngettext")
            ):
                found.append(f"{path.relative_to(ROOT)}:{child.lineno}")
            visit(child, path, inside)

    for folder in SOURCE_DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            visit(ast.parse(path.read_text(encoding="utf-8")), path, False)
    assert found == []


def test_numbers_and_sizes_follow_the_language() -> None:
    set_language("fr")
    assert format_number(12345.6, 1) == "12\u202f345,6"
    assert format_size(int(18.6 * 1024**3)) == "18,6\u00a0Go"
    assert format_size(420 * 1024**2) == "420\u00a0Mo"
    set_language("en")
    assert format_number(12345.6, 1) == "12,345.6"
    assert format_size(int(18.6 * 1024**3)) == "18.6 GB"


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({"LANG": "fr_FR.UTF-8"}, "fr"),
        ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "fr_CA.UTF-8"}, "fr"),
        ({"LANG": "fr_FR.UTF-8", "LANGUAGE": "en_GB:fr"}, "en"),
        ({"LANG": "C", "LC_ALL": "fr_BE"}, "fr"),
    ],
)
def test_the_system_language_is_read_as_the_os_sets_it(
    variables: dict[str, str], expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    for var, value in variables.items():
        monkeypatch.setenv(var, value)
    assert system_language() == expected
    assert choose_language("") == expected
    assert choose_language("en") == "en"  # a choice made in Settings wins


def test_macos_preferred_language_is_read_from_its_defaults() -> None:
    printed = '(\n    "fr-FR",\n    "en-FR"\n)\n'
    assert first_apple_language(printed) == "fr-FR"
    assert first_apple_language("(\n)\n") is None


def test_languages_are_the_compiled_catalogs() -> None:
    assert translation.available_languages() == ["en", "fr"]
    assert translation.language_name("fr") == "Français"
    assert translation.language_name("en") == "English"
    assert translation.choose_language("fr") == "fr"
    assert translation.choose_language("xx") == "en"  # LANGUAGE=en in the tests


def test_a_language_is_added_by_its_catalog_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What i18n/README.md tells a translator to do, without touching any code."""
    i18n = tmp_path / "i18n"
    shutil.copytree(ROOT / "i18n", i18n, ignore=shutil.ignore_patterns("*.po", "__pycache__"))
    spanish = Catalog(locale="es", domain="lanterne")
    spanish.add("Ask", "Preguntar")
    with (i18n / "es.po").open("wb") as out:
        write_po(out, spanish)
    locale_dir = tmp_path / "locale"
    _catalogs(i18n).compile_all(locale_dir)
    monkeypatch.setattr(translation, "LOCALE_DIR", locale_dir)
    assert translation.available_languages() == ["en", "es"]
    assert translation.language_name("es") == "Español"
    set_language("es")
    assert _("Ask") == "Preguntar" and _("Stop") == "Stop"  # untranslated: the English source


def _lanterne(*args: str, language: str) -> subprocess.CompletedProcess[str]:
    import os

    env = {**os.environ, "LANGUAGE": language, "LC_ALL": "C.UTF-8"}
    return subprocess.run(
        [sys.executable, "-m", "lanterne", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.mark.slow
def test_the_cli_speaks_the_system_language() -> None:
    french = _lanterne("--help", language="fr_FR")
    assert french.returncode == 0
    assert "utilisation" in french.stdout and "usage:" not in french.stdout
    assert "afficher ce message d'aide et quitter" in french.stdout
    status = _lanterne("index", "status", language="fr_FR")
    assert status.returncode == 0, status.stderr
    assert "Aucun dossier" in status.stdout or "dossier" in status.stdout.lower()
    wrong = _lanterne("index", "nonsense", language="fr_FR")
    assert (
        wrong.returncode == 2 and "erreur" in wrong.stderr and "invalid choice" not in wrong.stderr
    )
    english = _lanterne("--help", language="en_US")
    assert "usage:" in english.stdout and "utilisation" not in english.stdout
