"""The translation seam every user-visible string goes through.

gettext (not Qt's tr) so that `engine/`, `indexer/` and the CLI translate without importing Qt;
catalogs are compiled from `i18n/` into `lanterne/locale/<lang>/LC_MESSAGES/lanterne.mo`. A missing
catalog falls back to the English source strings.
"""

from __future__ import annotations

import gettext
import locale
import os
from pathlib import Path

DOMAIN = "lanterne"
LOCALE_DIR = Path(__file__).with_name("locale")

_translation: gettext.NullTranslations = gettext.NullTranslations()
_language = "en"


def system_language() -> str:
    """The two-letter language of the user's environment, as the OS reports it."""
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value and value not in ("C", "POSIX"):
            return value.split(":")[0].split("_")[0].split(".")[0].lower()
    code = locale.getlocale()[0]
    return code.split("_")[0].lower() if code else "en"


def set_language(language: str) -> None:
    """Switch every later `_()` call to `language`; takes effect without a restart."""
    global _translation, _language
    _translation = gettext.translation(
        DOMAIN, localedir=LOCALE_DIR, languages=[language], fallback=True
    )
    _language = language


def current_language() -> str:
    return _language


def _(message: str) -> str:
    """Translate `message` into the current language."""
    return _translation.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translation.ngettext(singular, plural, n)
