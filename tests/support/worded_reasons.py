"""Whether a reason a file could not be read is one of Lanterne's sentences, not raw library text.

A reason passes when it is, word for word, one of the reasons declared in
`lanterne.indexer.reasons` (in the current language), its placeholders filled with what they
may hold (numbers, a suffix, a format's name), and carries none of the signs of an exception's
text.
"""

from __future__ import annotations

import re
import string
from functools import cache

from lanterne.foundation.translation import _, current_language
from lanterne.indexer import reasons

_NUMBER = r"\d[\d\s,.]*"
PLACEHOLDERS = {
    "size": _NUMBER,
    "limit": _NUMBER,
    "seconds": _NUMBER,
    "signal": r"\d+",
    "code": r"-?\d+|None",
    "suffix": r"\.?[^\s/\\'\"]{1,40}",
    "kind": "(?:" + "|".join(map(re.escape, reasons.KINDS)) + ")",
}
# What exception texts, reprs and system messages look like; none belongs in a sentence for users.
RAW_SIGNS = (
    "object has no attribute",
    "Error",
    "errno",
    "Errno",
    "Traceback",
    "Exception",
    "lxml",
    "zipfile",
    "etree",
    "Pdfium",
    "<",
    ">",
    "0x",
    '"',
    "\\",
    " line ",
    "column",
    "(char ",
    "No such file",
    "Permission denied",
    "Is a directory",
    "Input/output",
)


# A quote that is not an apostrophe between two letters (French "n'est"): a quoted name, a repr.
_QUOTE = re.compile(r"(?<![^\W\d_])'|'(?![^\W\d_])")


@cache
def _patterns(language: str) -> tuple[re.Pattern[str], ...]:
    del language  # the cache's key: the same reasons read in another language are other texts
    found = []
    for msgid in reasons.REASONS:
        parts = []
        for literal, field, _spec, _conversion in string.Formatter().parse(_(msgid)):
            parts.append(re.escape(literal))
            if field is not None:
                parts.append(f"(?:{PLACEHOLDERS[field]})")
        found.append(re.compile("".join(parts)))
    return tuple(found)


def is_worded(reason: str) -> bool:
    if not reason.strip() or any(sign in reason for sign in RAW_SIGNS) or _QUOTE.search(reason):
        return False
    return any(p.fullmatch(reason) for p in _patterns(current_language()))


def assert_worded(reason: str, what: object = "") -> None:
    assert is_worded(reason), f"not a declared reason in words ({what}): {reason!r}"
