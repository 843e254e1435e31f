"""French / English / other, for chunks and for questions.

py3langid (BSD, a few MB) restricted to the languages a French/English user is likely to meet,
so a short French question is not mistaken for, say, Catalan; anything but fr/en reads "other".
"""

from __future__ import annotations

import threading
from typing import Any, Literal

Language = Literal["fr", "en", "other"]

_CANDIDATES = ["fr", "en", "de", "es", "it", "nl", "pt"]
_lock = threading.Lock()
_identifier: Any = None


def _get_identifier() -> Any:
    global _identifier
    with _lock:
        if _identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
            identifier.set_languages(_CANDIDATES)
            _identifier = identifier
        return _identifier


def detect_language(text: str) -> Language:
    sample = text.strip()[:2000]
    if not any(ch.isalpha() for ch in sample):
        return "other"
    code, _prob = _get_identifier().classify(sample)
    if code == "fr":
        return "fr"
    return "en" if code == "en" else "other"
