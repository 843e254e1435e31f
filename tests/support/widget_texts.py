"""What a user sees or hears in a window, and which of it is in the wrong language."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from lanterne.foundation.translation import available_languages, language_name, source_strings


def widget_texts(root: QWidget) -> list[str]:
    """Texts, titles, tips and accessible names of `root`, its children and their actions."""
    found = []
    for widget in [root, *root.findChildren(QWidget)]:
        for getter in ("text", "title", "subTitle", "windowTitle", "toolTip", "accessibleName"):
            value = getattr(widget, getter, None)
            if callable(value):
                try:
                    text = value()
                except TypeError:
                    continue
                if isinstance(text, str) and text:
                    found.append(text)
        for action in widget.actions():
            found += [t for t in (action.text(), action.toolTip()) if t]
    return found


def foreign_texts(texts: list[str], language: str) -> list[str]:
    """Texts that exist only in the other language's catalog; language names excepted, each
    shown in its own language so that anyone finds theirs."""
    other = "en" if language == "fr" else "fr"
    mine, theirs = source_strings(language), source_strings(other)
    names = {language_name(code) for code in available_languages()}
    return sorted({t for t in texts if t in theirs and t not in mine and t not in names})
