"""The translation seam every user-visible string goes through, and the locale's formats.

gettext (not Qt's tr) so that `engine/`, `indexer/` and the CLI translate without importing Qt;
catalogs are compiled from `i18n/` into `lanterne/locale/<lang>/LC_MESSAGES/lanterne.mo` at build
time. A missing catalog falls back to the English source strings. Numbers, sizes and dates go
through Babel's CLDR data so that French reads "18,6 Go" and "12 345", whatever locales
the operating system happens to have installed.
"""

from __future__ import annotations

import argparse
import gettext
import locale
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_skeleton, format_time
from babel.numbers import format_decimal

DOMAIN = "lanterne"
LOCALE_DIR = Path(__file__).parent.parent / "locale"  # lanterne/locale
SOURCE_LANGUAGE = "en"

_translation: gettext.NullTranslations = gettext.NullTranslations()
_language = SOURCE_LANGUAGE
_listeners: list[Callable[[str], None]] = []


def available_languages() -> list[str]:
    """English (the source) and every language whose catalog was compiled into the app: a
    language is added by adding its catalog, never by changing this list."""
    compiled = sorted(mo.parent.parent.name for mo in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.mo"))
    return [SOURCE_LANGUAGE, *(c for c in compiled if c != SOURCE_LANGUAGE)]


def _compiled(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.mo"


def language_name(code: str) -> str:
    """A language's name in that language ("Français", "English"), as a menu should show it."""
    try:
        name = Locale.parse(code).get_display_name(code) or code
    except (ValueError, UnknownLocaleError):
        return code
    return name[:1].upper() + name[1:]


def system_language() -> str:
    """The two-letter language of the user's environment, as the OS reports it."""
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value and value not in ("C", "POSIX"):
            return _language_part(value.split(":")[0])
    code = _desktop_language() or locale.getlocale()[0]
    return _language_part(code) if code else SOURCE_LANGUAGE


def _language_part(code: str) -> str:
    """ "fr" from "fr_FR.UTF-8", "fr-CA" or "fr"."""
    return code.replace("-", "_").split("_")[0].split(".")[0].lower()


def _desktop_language() -> str | None:
    """The display language chosen in Windows' or macOS's settings: apps started from the Start
    menu or the Finder get no LANG, and Windows' C locale names are "French_France"."""
    if sys.platform == "win32":
        import ctypes

        lcid = ctypes.windll.kernel32.GetUserDefaultUILanguage()
        return locale.windows_locale.get(lcid)
    if sys.platform == "darwin":
        try:
            out = subprocess.run(
                ["defaults", "read", "-g", "AppleLanguages"],
                capture_output=True,
                text=True,
                timeout=5,
                check=True,
            ).stdout
        except (OSError, subprocess.SubprocessError):
            return None
        return first_apple_language(out)
    return None


def first_apple_language(defaults_output: str) -> str | None:
    """The first entry of `defaults read -g AppleLanguages`, printed as `( "fr-FR", "en-FR" )`."""
    for line in defaults_output.splitlines():
        entry = line.strip().strip(",").strip('"')
        if entry and entry not in ("(", ")"):
            return entry
    return None


def choose_language(setting: str) -> str:
    """The language to show: the setting when it names one we have, else the system's when we
    have it, else English."""
    available = available_languages()
    if setting in available:
        return setting
    system = system_language()  # may ask the OS (a subprocess on macOS): only when needed
    return system if system in available else SOURCE_LANGUAGE


def set_language(language: str) -> None:
    """Switch every later `_()` call to `language`; takes effect without a restart (the GUI
    listens with `on_language_change` and translates its windows again)."""
    global _translation, _language
    _translation = gettext.translation(
        DOMAIN, localedir=LOCALE_DIR, languages=[language], fallback=True
    )
    changed = language != _language
    _language = language
    # argparse looks its strings up through its module's `_` at call time ("usage:", errors).
    argparse._ = _  # type: ignore[attr-defined]
    argparse.ngettext = ngettext  # type: ignore[attr-defined]
    if changed:
        for listener in list(_listeners):
            listener(language)


def on_language_change(listener: Callable[[str], None]) -> Callable[[], None]:
    """Call `listener(language)` after each switch; returns the function that unsubscribes."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener) if listener in _listeners else None


def current_language() -> str:
    return _language


def _(message: str) -> str:
    """Translate `message` into the current language."""
    return _translation.gettext(message)


def N_(message: str) -> str:  # noqa: N802 (gettext's conventional name)
    """Mark `message` for the catalogs without translating it yet: a module-level constant is
    built once at import, so it is translated where it is shown, in the language of that moment."""
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translation.ngettext(singular, plural, n)


def format_number(value: float, decimals: int = 0) -> str:
    """`value` with the current language's separators: "12 345,6" in French, "12,345.6" in
    English."""
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    return str(format_decimal(round(value, decimals), format=pattern, locale=_language))


def format_size(n: int) -> str:
    """Bytes as a person reads them: "18.6 GB" / "18,6 Go", "420 MB" / "420 Mo"."""
    if n >= 1024**3:
        return _("{n} GB").format(n=format_number(n / 1024**3, 1))
    return _("{n} MB").format(n=format_number(max(1, round(n / 1024**2))))


def format_when(moment: str | datetime) -> str:
    """A moment in the user's time zone and language: "23 nov. 2026, 14:05" /
    "Nov 23, 2026, 2:05 PM" (stored moments are UTC, ISO 8601)."""
    when = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    when = when.astimezone()
    where = Locale.parse(_language)
    pattern = str(where.datetime_formats["medium"]).replace("'", "")
    return pattern.format(
        format_time(when, "short", locale=where), format_skeleton("yMMMd", when, locale=where)
    )


def source_strings(language: str) -> dict[str, str]:
    """Every string as `language` shows it, mapped back to its English source (each plural form
    included): how a window shown in one language finds what to show in another."""
    from babel.messages.mofile import read_mo

    strings: dict[str, str] = {}
    catalogs = [language] if language != SOURCE_LANGUAGE else available_languages()[1:]
    for code in catalogs:
        if not _compiled(code).exists():
            continue
        with _compiled(code).open("rb") as handle:
            catalog = read_mo(handle)
        for message in catalog:
            if not message.id:
                continue
            ids = message.id if isinstance(message.id, tuple | list) else (message.id,)
            texts = (
                message.string if isinstance(message.string, tuple | list) else (message.string,)
            )
            for source, text in zip(ids, texts, strict=False):
                shown = source if language == SOURCE_LANGUAGE else text
                if shown:
                    strings.setdefault(shown, source)
    return strings
