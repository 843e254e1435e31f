"""Qt's own dialogs in the interface language: the file dialogs Lanterne opens (import a GGUF
file, choose a folder) say "Voir dans :" and "Fichiers de type :" in French, whether French is
the language at start or chosen later, and English again after switching back.

Qt 6's file dialog asks for "&Look in:" and "Files of &type:", which Qt's own French catalog
only has without the mnemonic: before qt_catalogs.py those two labels stayed English."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTranslator
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QComboBox, QFileDialog, QTreeView
from pytestqt.qtbot import QtBot

from lanterne.desktop.interface_language import switch_language
from lanterne.desktop.qt_catalogs import (
    MNEMONIC_LAG,
    compiled_catalog,
    qt_translators,
    with_mnemonic,
)
from support.widget_texts import widget_texts

pytestmark = pytest.mark.gui

# Qt's English source strings of a file dialog, as its labels, buttons, tips and menus show them
# (without mnemonics); the English checks below prove each one is really shown.
OPEN_FILE = {
    "Look in:",
    "File name:",
    "Files of type:",
    "Open",
    "Cancel",
    "Back",
    "Forward",
    "Parent Directory",
    "Create New Folder",
    "List View",
    "Detail View",
    "Sidebar",
    "Name",
    "Size",
    "Date Modified",
    "Rename",
    "Delete",
    "Show hidden files",
    "New Folder",
}
CHOOSE_FOLDER = (OPEN_FILE - {"File name:", "Open"}) | {"Directory:", "Choose", "Directories"}
FRENCH = {"Voir dans :", "Fichiers de type :", "Annuler", "Dossier parent"}


def plain(text: str) -> str:
    """What is read on screen: no mnemonic marker, ordinary spaces."""
    return text.replace("&", "").replace("\xa0", " ").strip()


def dialog_texts(dialog: QFileDialog) -> set[str]:
    """Labels, buttons, tips, combo items, column headers and menu entries of `dialog`."""
    texts = list(widget_texts(dialog))
    texts += [action.text() for action in dialog.findChildren(QAction)]
    for combo in dialog.findChildren(QComboBox):
        texts += [combo.itemText(i) for i in range(combo.count())]
    for view in dialog.findChildren(QTreeView):
        model = view.model()
        texts += [
            str(model.headerData(i, Qt.Orientation.Horizontal)) for i in range(model.columnCount())
        ]
    return {plain(t) for t in texts if t}


def open_dialog(qtbot: QtBot, folder_only: bool) -> QFileDialog:
    """The widget-based dialog, as QFileDialog.getOpenFileName and getExistingDirectory build it
    where the desktop offers none (a native one is in the system's language anyway)."""
    dialog = QFileDialog(None, "Lanterne", str(Path.cwd()), "GGUF (*.gguf)")
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog)
    if folder_only:
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


@pytest.fixture
def back_to_english() -> Iterator[None]:
    yield
    switch_language("en")


@pytest.mark.parametrize(("folder_only", "english"), [(False, OPEN_FILE), (True, CHOOSE_FOLDER)])
def test_file_dialogs_follow_a_switch_to_french_and_back(
    qtbot: QtBot, back_to_english: None, folder_only: bool, english: set[str]
) -> None:
    switch_language("en")
    shown = dialog_texts(open_dialog(qtbot, folder_only))
    assert english <= shown  # the list is Qt's real English

    switch_language("fr")
    shown = dialog_texts(open_dialog(qtbot, folder_only))
    assert sorted(english & shown) == []
    assert shown >= FRENCH
    if not folder_only:
        assert "Nom de fichier :" in shown

    switch_language("en")
    shown = dialog_texts(open_dialog(qtbot, folder_only))
    assert english <= shown


def test_a_dialog_open_during_the_switch_follows_it(qtbot: QtBot, back_to_english: None) -> None:
    dialog = open_dialog(qtbot, folder_only=False)
    switch_language("fr")
    qtbot.waitUntil(lambda: "Voir dans :" in dialog_texts(dialog))
    assert sorted(OPEN_FILE & dialog_texts(dialog)) == []


FIRST_RUN = """
import json, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QAbstractButton, QApplication, QComboBox, QFileDialog, QLabel
import lanterne.desktop.first_run as first_run
from lanterne.cli.main import main
from lanterne.launch import open_gui

texts = []

def read_and_close():
    dialog = QApplication.activeModalWidget()
    assert isinstance(dialog, QFileDialog), dialog
    buttons = dialog.findChildren(QAbstractButton)
    texts.extend(w.text() for w in dialog.findChildren(QLabel) + buttons)
    texts.extend(w.toolTip() for w in buttons)
    for combo in dialog.findChildren(QComboBox):
        texts.extend(combo.itemText(i) for i in range(combo.count()))
    dialog.reject()

def import_from_the_wizard():
    app = QApplication.instance()
    wizard = next(w for w in app.topLevelWidgets() if isinstance(w, first_run.FirstRunWizard))
    wizard.next()  # the model page, with its "Import a GGUF file..." button
    QTimer.singleShot(300, read_and_close)
    wizard.model_page.models.choose_import()  # modal: returns once read_and_close closed it
    app.quit()

opened = first_run.FirstRunWizard.open
def open_and_import(wizard):
    opened(wizard)
    QTimer.singleShot(0, import_from_the_wizard)
first_run.FirstRunWizard.open = open_and_import
sys.argv = ["lanterne"]
code = main([], open_gui=open_gui)
print(json.dumps({"code": code, "texts": [t for t in texts if t]}))
"""


@pytest.mark.slow
def test_a_french_first_run_imports_through_a_french_file_dialog() -> None:
    """As reported: a new user whose system is French (empty data folder), the first-run
    wizard's import button. The real start, in its own process: the language is known before
    Qt's catalogs are first loaded."""
    env = dict(os.environ, LANGUAGE="fr", LANG="fr_FR.UTF-8", QT_QPA_PLATFORM="offscreen")
    run = subprocess.run(
        [sys.executable, "-c", FIRST_RUN],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    shown = {plain(t) for t in result["texts"]}
    assert sorted(OPEN_FILE & shown) == []
    assert {"Voir dans :", "Nom de fichier :", "Fichiers de type :", "Annuler"} <= shown
    assert "Modèles GGUF (*.gguf)" in shown  # Lanterne's own filter, in the same language


def test_the_catalog_compiled_in_memory_reads_back_in_qt(qtbot: QtBot) -> None:
    messages = [
        ("QFileDialog", "&Look in:", "&Voir dans\xa0:"),
        ("QFileDialog", "Files of &type:", "Fichiers de &type\xa0:"),
        ("Ctx", "Ünïcode source ✓", "日本語 ✓"),
        ("Other", "&Look in:", "ailleurs"),
    ]
    translator = QTranslator()
    data = compiled_catalog(messages)
    assert translator.load(data)
    for context, source, translation in messages:
        assert translator.translate(context, source) == translation
    assert not translator.translate("QFileDialog", "Look in:")
    assert not translator.translate("Nowhere", "&Look in:")


@pytest.mark.parametrize(
    ("translation", "source", "expected"),
    [
        ("Voir dans\xa0:", "&Look in:", "&Voir dans\xa0:"),
        ("Fichiers de type\xa0:", "Files of &type:", "Fichiers de &type\xa0:"),
        ("Dateityp:", "Files of &type:", "&Dateityp:"),
        ("Tipo de &archivo:", "Files of &type:", "Tipo de &archivo:"),  # has its own
        ("ファイルの種類:", "Files of &type:", "&ファイルの種類:"),
    ],
)
def test_the_mnemonic_goes_on_the_same_letter_where_it_can(
    translation: str, source: str, expected: str
) -> None:
    assert with_mnemonic(translation, source) == expected


@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_lagging_string_is_given_in_each_shipped_language(
    qtbot: QtBot, language: str
) -> None:
    """Where Qt's catalog translates the plain string, the mnemonic one is translated too; in
    English (nothing to translate) the source shows as is."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    translators = qt_translators(language)
    assert translators  # qtbase_<language>.qm is found, in a frozen app too (test_packaging)
    for translator in translators:
        app.installTranslator(translator)
    try:
        for context, asked, known in MNEMONIC_LAG:
            shown = QApplication.translate(context, asked)
            if language == "en":
                assert shown == asked
            else:
                assert plain(shown) == plain(QApplication.translate(context, known)) != known
    finally:
        for translator in translators:
            app.removeTranslator(translator)
