"""Light or dark: following the system by default, or forced in Settings.

Where the platform says which it prefers (Windows, macOS, GNOME and KDE through Qt's platform
themes), "system" leaves Qt to follow it, live. "light" and "dark" ask the platform too and, as
not every platform obeys (X11 without a desktop, for one), also set Fusion's palette directly.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

THEMES = ("system", "light", "dark")
_system_palette: QPalette | None = None
_system_style: str | None = None


def dark_palette() -> QPalette:
    roles = QPalette.ColorRole
    palette = QPalette()
    colours = {
        roles.Window: "#2b2b2b",
        roles.WindowText: "#e6e6e6",
        roles.Base: "#1f1f1f",
        roles.AlternateBase: "#333333",
        roles.ToolTipBase: "#3a3a3a",
        roles.ToolTipText: "#f0f0f0",
        roles.PlaceholderText: "#9a9a9a",
        roles.Text: "#e6e6e6",
        roles.Button: "#353535",
        roles.ButtonText: "#e6e6e6",
        roles.BrightText: "#ff6b6b",
        roles.Link: "#8ab4f8",
        roles.LinkVisited: "#c58af9",
        roles.Highlight: "#3d7bd9",
        roles.HighlightedText: "#ffffff",
        roles.Mid: "#5a5a5a",
    }
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    disabled = QPalette.ColorGroup.Disabled
    for role in (roles.Text, roles.ButtonText, roles.WindowText):
        palette.setColor(disabled, role, QColor("#7a7a7a"))
    return palette


def apply_theme(app: QApplication, theme: str) -> None:
    global _system_palette, _system_style
    if _system_palette is None:
        _system_palette = QPalette(app.palette())
        _system_style = app.style().name()
    hints = app.styleHints()
    if theme == "system":
        hints.setColorScheme(Qt.ColorScheme.Unknown)
        if _system_style:
            app.setStyle(_system_style)
        app.setPalette(_system_palette)
        return
    hints.setColorScheme(Qt.ColorScheme.Dark if theme == "dark" else Qt.ColorScheme.Light)
    fusion = QStyleFactory.create("Fusion")
    app.setStyle(fusion)
    app.setPalette(dark_palette() if theme == "dark" else fusion.standardPalette())
