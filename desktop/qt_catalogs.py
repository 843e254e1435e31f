"""Qt's own strings (file dialogs, standard buttons, context menus) in the interface language.

Qt's catalogs lag its widgets: Qt 6 gave two file dialog labels a mnemonic ("&Look in:",
"Files of &type:") that qtbase_*.qm still translates only without one, so the exact lookup
missed and those labels stayed English in every language. They are given here from the plain
string's translation in the same catalog, by a second catalog compiled in memory and loaded by a
plain QTranslator: one whose `translate` is overridden in Python takes the GIL inside Qt's
translator lock, and a language switch then hangs while another thread translates.

The `qt_<lang>` meta catalog is not used: it depends on qtmultimedia_<lang>, which PySide6's
wheels do not ship, so it never loads.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterable

from PySide6.QtCore import QLibraryInfo, QTranslator

# Qt's catalogs for the Qt modules Lanterne uses: qtbase covers QtCore, QtGui, QtWidgets and
# QtNetwork; QtSvg has no strings of its own.
CATALOGS = ("qtbase",)

# (context, the source Qt asks for, the source its catalogs translate)
MNEMONIC_LAG = (
    ("QFileDialog", "&Look in:", "Look in:"),
    ("QFileDialog", "Files of &type:", "Files of type:"),
)

_MAGIC = bytes.fromhex("3cb86418caef9c95cd211cbf60a1bddd")
_HASHES, _MESSAGES = 0x42, 0x69  # sections of a .qm file
_END, _TRANSLATION, _SOURCE, _CONTEXT = 1, 3, 6, 7  # fields of one message


class _InMemory(QTranslator):
    """QTranslator.load(bytes) reads the data where it lies: kept here as long as it is used.
    `translate` is not overridden (see the module's docstring)."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self.data = data


def translations_folder() -> str:
    """Where Qt's catalogs are: PySide6's own folder, in a frozen app too (PyInstaller collects
    them into PySide6/Qt/translations, PySide6/translations on Windows, where qt.conf points)."""
    return QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)


def qt_translators(language: str) -> list[QTranslator]:
    """Qt's catalogs for `language` that exist, then the mnemonic strings they lack."""
    folder = translations_folder()
    loaded = []
    for name in CATALOGS:
        translator = QTranslator()
        if translator.load(f"{name}_{language}", folder):
            loaded.append(translator)
    missing = list(_lagging(loaded))
    if missing:
        extra = _InMemory(compiled_catalog(missing))
        if extra.load(extra.data):
            loaded.append(extra)
    return loaded


def _lagging(catalogs: list[QTranslator]) -> Iterable[tuple[str, str, str]]:
    for context, asked, known in MNEMONIC_LAG:
        if any(c.translate(context, asked) for c in catalogs):
            continue  # Qt's catalog caught up
        plain = next((t for c in catalogs if (t := c.translate(context, known))), "")
        if plain:
            yield context, asked, with_mnemonic(plain, asked)


def with_mnemonic(translation: str, source: str) -> str:
    """`translation` with an accelerator where `source` has one: on the same letter at the
    start of a word if there is one ("Files of &type:" -> "Fichiers de &type :"), else on the
    first letter ("&Look in:" -> "&Voir dans :")."""
    at = source.find("&")
    if "&" in translation or at < 0 or at + 1 >= len(source):
        return translation
    letter = source[at + 1].casefold()
    starts = [m.start() for m in re.finditer(r"\b\w", translation)]
    if not starts:
        return translation
    chosen = next((i for i in starts if translation[i].casefold() == letter), starts[0])
    return f"{translation[:chosen]}&{translation[chosen:]}"


def _elf_hash(data: bytes) -> int:
    """The hash QTranslator looks messages up by (of the source text's UTF-8 bytes)."""
    h = 0
    for byte in data:
        h = ((h << 4) + byte) & 0xFFFFFFFF
        high = h & 0xF0000000
        if high:
            h ^= high >> 24
        h &= ~high & 0xFFFFFFFF
    return h or 1


def _block(tag: int, data: bytes) -> bytes:
    return struct.pack(">BI", tag, len(data)) + data


def compiled_catalog(messages: Iterable[tuple[str, str, str]]) -> bytes:
    """A .qm catalog of (context, source, translation), laid out as lrelease writes one."""
    body = bytearray()
    table = []
    for context, source, translation in messages:
        table.append((_elf_hash(source.encode()), len(body)))
        body += _block(_TRANSLATION, translation.encode("utf-16-be"))
        body += _block(_SOURCE, source.encode())
        body += _block(_CONTEXT, context.encode())
        body.append(_END)
    hashes = b"".join(struct.pack(">II", h, offset) for h, offset in sorted(table))
    return _MAGIC + _block(_HASHES, hashes) + _block(_MESSAGES, bytes(body))
