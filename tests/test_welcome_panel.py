"""The first minute of the main window: an empty conversation shows how many documents are
ready, three questions made from their headings (asked with a click) and the quick-ask shortcut.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFileDialog
from pytestqt.qtbot import QtBot

from lanterne.desktop.main_window import MainWindow
from lanterne.desktop.welcome_panel import ready_text
from lanterne.example_questions import TEMPLATES, clean_heading, example_questions
from lanterne.foundation.translation import _, set_language
from lanterne.indexer.chunker import Chunk
from lanterne.indexer.headings import sample_headings
from lanterne.indexer.indexing import Indexer
from lanterne.indexer.store import FolderStatus, IndexStatus, IndexStore

# Real notes of a French/English household: Markdown and HTML with headings of every kind
# (numbered, generic, a question), and a text file with none.
NOTES = {
    "en/laptop-backups.md": """# Backing up the laptop

The laptop is backed up every evening to the external disk. The backup keeps thirty days of
history, so a file that was deleted by mistake can be found again for a month.

## 1.2. Restoring a folder

To restore a folder, open the backup tool, choose the date and copy the folder back to its
place. It takes a few minutes for a folder of photos.
""",
    "en/about.md": """# Introduction

This folder holds the notes of the household: they are written in English and in French, and
they are kept up to date by whoever changes something.
""",
    "en/printer.html": """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Printer</title></head><body>
<h1>Chapter 3. Setting up the printer</h1>
<p>The printer is connected to the network by cable. Its address is fixed in the router, so
that every computer of the house finds it at the same place.</p>
<h2>Changing the toner</h2>
<p>The toner is changed when the printer says it is empty. A spare one is in the cupboard.</p>
</body></html>
""",
    "fr/sauvegardes.md": """# Sauvegardes du serveur

Le serveur de la maison est sauvegardé chaque nuit sur le disque externe chiffré. Les
sauvegardes sont gardées pendant trois mois, puis elles sont effacées une par une.

## Comment restaurer un dossier ?

Pour restaurer un dossier, il faut brancher le disque externe et copier le dossier depuis la
sauvegarde de la nuit choisie. Cela prend quelques minutes.
""",
    "fr/sommaire.md": """# Table des matières

Ce dossier contient les notes de la maison, en français et en anglais, tenues à jour par
celui qui change quelque chose dans la maison ou sur le réseau.
""",
    "fr/reseau.md": """# 2. Configuration du réseau

La box est dans le salon et le répartiteur est dans le bureau. Les adresses des machines sont
fixées dans la box pour que chacune garde la même adresse.
""",
    "fr/courses.txt": """Acheter du pain, des pommes et du fromage pour le repas de dimanche.
Il faut aussi penser aux piles pour la télécommande, qui ne marche plus depuis mardi.
""",
}


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    root = tmp_path / "notes"
    for rel, text in NOTES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def notes_index(tmp_path: Path, notes: Path) -> Iterator[IndexStore]:
    store = IndexStore(tmp_path / "index.sqlite3")
    Indexer(store).add_folder(notes)
    yield store
    store.close()


@pytest.fixture
def french() -> Iterator[None]:
    set_language("fr")
    yield
    set_language("en")


def asked(template: int, topic: str) -> str:
    return _(TEMPLATES[template]).format(topic=topic)


# Questions from headings --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("heading", "topic"),
    [
        ("Chapter 6. Building the package", "Building the package"),
        ("6.3. debuild command", "debuild command"),
        ("A.1. Shared libraries", "Shared libraries"),
        ("1.2.3 Réglages du réseau", "Réglages du réseau"),
        ("Chapitre 2 : Premiers pas", "Premiers pas"),
        ("Re: Fwd: Budget 2024", "Budget 2024"),
        ("2024 budget", "2024 budget"),
        ("`rsync` options", "rsync options"),
        ("INSTALLATION GUIDE", "Installation guide"),
        ("Comment restaurer une sauvegarde ?", "Comment restaurer une sauvegarde ?"),
        ("Introduction", None),
        ("Table des matières", None),
        ("Table of Contents", None),
        ("Index", None),
        ("Chapter 3", None),
        ("Annexe B", None),
        ("Slide 3", None),
        ("Diapositive 12", None),
        ("Feuil1", None),
        ("Voir aussi", None),
        ("report-final.docx", None),
        ("https://example.com/notes", None),
        ("2.1", None),
        ("A heading far too long to be the subject of a short question shown in a window", None),
    ],
)
def test_a_heading_as_a_topic(heading: str, topic: str | None) -> None:
    assert clean_heading(heading) == topic


def test_english_questions_from_english_documents_first(notes_index: IndexStore) -> None:
    questions = example_questions(notes_index, "en")
    # The English documents whose heading names a subject ("Introduction" names none), numbering
    # left out, each asked with its own template; then the first of the others.
    assert questions == [
        asked(0, "Backing up the laptop"),
        asked(1, "Setting up the printer"),
        asked(2, "Configuration du réseau"),
    ]
    assert example_questions(notes_index, "en") == questions  # the same index, the same ones


def test_french_questions_from_french_documents(notes_index: IndexStore, french: None) -> None:
    # "Table des matières" names no subject; a heading that is a French question is asked as it
    # is written, the space before its mark included; an English document completes the three.
    assert example_questions(notes_index, "fr") == [
        asked(0, "Configuration du réseau"),
        "Comment restaurer un dossier ?",
        asked(2, "Backing up the laptop"),
    ]


def test_no_index_yet_no_questions(tmp_path: Path) -> None:
    missing = tmp_path / "nothing" / "index.sqlite3"
    assert example_questions(missing, "en") == []
    assert not missing.exists()  # not created by looking


def test_a_large_index_is_sampled_across_its_whole_length(tmp_path: Path) -> None:
    """Documents from the first and the last slices of the index, and a bounded number of
    passages whatever its size."""
    store = IndexStore(tmp_path / "index.sqlite3")
    folders = [store.add_folder(tmp_path / name) for name in ("archives", "current")]
    for n in range(600):
        folder = folders[0] if n < 300 else folders[1]
        chunks = [
            Chunk(i, f"Passage {i} of report {n} about the budget.", (f"Report {n}", f"Part {i}"),
                  None, None, "en")
            for i in range(60)
        ]  # fmt: skip
        store.write_document(
            folder, tmp_path / f"report-{n:03d}.md", size=1, mtime_ns=n, sha256=str(n),
            title=None, lang="en", chunks=chunks,
        )  # fmt: skip
    headings = sample_headings(store, "en", probes=24, per_document=40)
    assert len(headings) <= 24 * 40
    assert {h.folder_id for h in headings} == set(folders)
    questions = example_questions(store, "en")
    assert questions == [asked(0, "Report 0"), asked(1, "Report 300"), asked(2, "Report 575")]
    store.close()


def test_counts_while_indexing() -> None:
    folder = FolderStatus(path="/home/camille/Documents", documents=312, chunks=9000, pending=40,
                          errors=0)  # fmt: skip
    status = IndexStatus(folders=[folder], documents=312, chunks=9000, pending=40, errors=[])
    assert ready_text(status) == "312 documents ready, 40 still being read"
    done = IndexStatus(folders=[folder], documents=1, chunks=3, pending=0, errors=[])
    assert ready_text(done) == "1 document ready"
    empty = IndexStatus(folders=[], documents=0, chunks=0, pending=0, errors=[])
    assert "add one" in ready_text(empty)


# The panel in the main window ---------------------------------------------------------------


def choose_in_dialog(folder: Path, tries: int = 200) -> None:
    """Pick `folder` in the folder dialog once it is open (Qt's own, offscreen)."""
    dialog = QApplication.activeModalWidget()
    if not isinstance(dialog, QFileDialog):
        if tries:
            QTimer.singleShot(50, lambda: choose_in_dialog(folder, tries - 1))
        return
    dialog.selectFile(str(folder))
    dialog.accept()


@pytest.mark.model
@pytest.mark.gui
def test_the_first_minute(window: MainWindow, qtbot: QtBot, notes: Path) -> None:
    welcome = window.welcome
    assert welcome.stack.currentWidget() is welcome  # an empty conversation
    shortcut = "Press Ctrl+Shift+Space in any application to ask Lanterne."
    assert welcome.shortcut.text() == shortcut
    qtbot.waitUntil(lambda: welcome.add_folder.isVisible(), timeout=10000)  # no folder yet
    assert "add one" in welcome.counts.text()

    QTimer.singleShot(0, lambda: choose_in_dialog(notes))
    QTest.mouseClick(welcome.add_folder, Qt.MouseButton.LeftButton)  # the real dialog
    qtbot.waitUntil(lambda: welcome.counts.text() == "7 documents ready", timeout=30000)
    assert not welcome.add_folder.isVisible()
    # Made again at most every few seconds while files are indexed: the whole index's three.
    expected = [
        asked(0, "Backing up the laptop"),
        asked(1, "Setting up the printer"),
        asked(2, "Configuration du réseau"),
    ]
    qtbot.waitUntil(lambda: welcome.examples == expected, timeout=15000)
    shown = [b for b in welcome.buttons if b.isVisible()]
    assert [b.question for b in shown] == expected
    assert shown[0].accessibleName() == f"Ask: {welcome.examples[0]}"

    QTest.mouseClick(shown[0], Qt.MouseButton.LeftButton)  # asked, as if typed
    assert [t.question for t in window.chat.turns] == [welcome.examples[0]]
    assert welcome.stack.currentWidget() is window.chat
    assert window.question.toPlainText() == ""
    # No model chosen: the turn says so in place, and the window is ready for the next one.
    qtbot.waitUntil(lambda: window.chat.turns[0].finished, timeout=10000)
    assert "No model is chosen yet" in window.chat.turns[0].status

    qtbot.waitUntil(lambda: not window.busy(), timeout=10000)  # the ask thread has ended
    window.new_conversation()
    assert welcome.stack.currentWidget() is welcome


@pytest.mark.model
@pytest.mark.gui
def test_examples_follow_the_interface_language(
    window: MainWindow, qtbot: QtBot, notes: Path
) -> None:
    welcome = window.welcome
    window.add_folder(notes)
    first = [asked(0, "Backing up the laptop")]
    qtbot.waitUntil(lambda: welcome.examples[:1] == first, timeout=30000)
    try:
        set_language("fr")  # as Settings does: windows follow without a restart
        qtbot.waitUntil(lambda: "Configuration du réseau" in welcome.examples[0], timeout=10000)
        assert welcome.examples[0] == asked(0, "Configuration du réseau")
    finally:
        set_language("en")
    qtbot.waitUntil(lambda: "Backing up the laptop" in welcome.examples[0], timeout=10000)


@pytest.mark.gui
def test_a_new_shortcut_is_shown(window: MainWindow) -> None:
    window.ctx.settings.set("quick_ask.hotkey", "ctrl+alt+k")
    window.hotkey_changed.emit("ctrl+alt+k")  # as Settings does once saved
    text = window.welcome.shortcut.text()
    assert text == "Press Ctrl+Alt+K in any application to ask Lanterne."
    window.ctx.settings.set("quick_ask.hotkey", "")
    window.hotkey_changed.emit("")
    assert not window.welcome.shortcut.isVisibleTo(window.welcome)
