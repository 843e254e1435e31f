"""Models other apps already have: found with what could not be read, judged from their real
header, listed without a wait, and used in place (or copied) in one click."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from PySide6.QtWidgets import QTableWidget, QTableWidgetItem, QWidget
from pytestqt.qtbot import QtBot

from lanterne.engine.hardware import probe
from lanterne.engine.model_fit import assess_file
from lanterne.engine.other_apps import _gguf_files, find_models, scan
from lanterne.foundation.policy import Policy
from lanterne.foundation.settings import Settings
from lanterne.model_library import ModelLibrary

BLOB = "sha256-" + "ab" * 32


def cell(table: QTableWidget, row: int, column: int) -> QTableWidgetItem:
    item = table.item(row, column)
    assert item is not None
    return item


def ollama_manifest(root: Path, name: str, digest: str) -> Path:
    manifest = root / "manifests" / "registry.ollama.ai" / "library" / name / "latest"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    layers = [
        {"mediaType": "application/vnd.ollama.image.template", "digest": "sha256:" + "cd" * 32},
        {"mediaType": "application/vnd.ollama.image.model", "digest": digest},
    ]
    manifest.write_text(json.dumps({"schemaVersion": 2, "layers": layers}))
    return manifest


@pytest.fixture
def apps_home(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    gemma_model: Path,
    tiny_moe_model: Path,
    e5_model: Path,
) -> Path:
    """A home where LM Studio, Ollama and the Hugging Face cache hold real GGUF files, and where
    other apps' folders cannot be read: a file where Jan's folder should be, a link loop, a link
    to a drive that is gone, a damaged manifest, a manifest whose blob is missing."""
    home = tmp_path / "user"
    monkeypatch.setenv("HOME", str(home))
    for name in ("XDG_DATA_HOME", "XDG_CACHE_HOME", "HF_HOME", "HF_HUB_CACHE", "OLLAMA_MODELS"):
        monkeypatch.delenv(name, raising=False)
    lmstudio = home / ".lmstudio" / "models" / "lmstudio-community" / "gemma-3-270m-it-GGUF"
    lmstudio.mkdir(parents=True)
    (lmstudio / "gemma-3-270m-it-Q4_K_M.gguf").symlink_to(gemma_model)
    ollama = home / ".ollama" / "models"
    (ollama / "blobs").mkdir(parents=True)
    shutil.copy(tiny_moe_model, ollama / "blobs" / BLOB)
    ollama_manifest(ollama, "tiny", "sha256:" + "ab" * 32)
    ollama_manifest(ollama, "gone", "sha256:" + "ef" * 32)  # its blob is not there
    damaged = ollama / "manifests" / "registry.ollama.ai" / "library" / "damaged" / "latest"
    damaged.parent.mkdir(parents=True)
    damaged.write_text("{not json")
    snapshot = home / ".cache" / "huggingface" / "hub" / "models--x--e5" / "snapshots" / "abc"
    snapshot.mkdir(parents=True)
    (snapshot / "multilingual-e5-small-q4_0.gguf").symlink_to(e5_model)
    gpt4all = home / ".local" / "share" / "nomic.ai" / "GPT4All"
    gpt4all.mkdir(parents=True)
    (gpt4all / "old.gguf").symlink_to(tmp_path / "unplugged-drive" / "old.gguf")
    (home / "jan").mkdir()
    (home / "jan" / "models").write_text("a file where Jan keeps its models folder")
    loop = home / ".cache" / "lm-studio" / "models"
    loop.parent.mkdir(parents=True)
    loop.symlink_to(loop)
    return home


def test_the_scan_finds_real_models_and_says_what_it_could_not_read(apps_home: Path) -> None:
    result = scan()
    found = {(m.app, m.name) for m in result.found}
    assert found == {
        ("LM Studio", "gemma-3-270m-it-Q4_K_M"),
        ("Ollama", "tiny:latest"),
        ("Hugging Face cache", "multilingual-e5-small-q4_0"),
    }
    assert result.apps == ["LM Studio", "Ollama", "Hugging Face cache"]
    skipped = {(s.app, s.path.relative_to(apps_home).as_posix()): s.reason for s in result.skipped}
    library = ".ollama/models/manifests/registry.ollama.ai/library"
    assert set(skipped) == {
        ("Jan", "jan/models"),
        ("LM Studio", ".cache/lm-studio/models"),
        ("GPT4All", ".local/share/nomic.ai/GPT4All/old.gguf"),
        ("Ollama", f"{library}/damaged/latest"),
        ("Ollama", f"{library}/gone/latest"),
    }
    assert skipped[("Jan", "jan/models")] == "A file stands where this folder should be."
    assert "leads back to itself" in skipped[("LM Studio", ".cache/lm-studio/models")]
    assert "unplugged-drive" in skipped[("GPT4All", ".local/share/nomic.ai/GPT4All/old.gguf")]
    assert "damaged" in skipped[("Ollama", f"{library}/damaged/latest")]
    assert "missing" in skipped[("Ollama", f"{library}/gone/latest")]
    assert find_models() == result.found  # for callers that want the models only


def test_a_missing_app_folder_is_no_error_and_a_whole_folder_on_a_gone_drive_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "user"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("OLLAMA_MODELS", str(home / "no-ollama"))
    monkeypatch.setenv("HF_HUB_CACHE", str(home / "no-hf"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "no-data"))
    assert scan().skipped == []  # no app installed: nothing to say
    (home / ".lmstudio").symlink_to(tmp_path / "external-disk" / "lmstudio")
    [skipped] = scan().skipped
    assert skipped.app == "LM Studio" and skipped.path == home / ".lmstudio" / "models"
    assert str(tmp_path / "external-disk") in skipped.reason


def test_a_file_that_vanishes_during_the_scan_is_passed_over(
    tmp_path: Path, tiny_moe_model: Path
) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    for name in ("a.gguf", "b.gguf"):
        shutil.copy(tiny_moe_model, folder / name)
    reported: list[object] = []
    files = _gguf_files(folder, "LM Studio", reported.append)
    assert next(files).name == "a.gguf"
    (folder / "b.gguf").unlink()  # another app deletes it meanwhile
    assert list(files) == [] and reported == []


def test_a_file_on_disk_is_judged_by_its_real_header(
    gemma_model: Path, tiny_moe_model: Path, e5_model: Path, tmp_path: Path
) -> None:
    hardware = probe()
    gemma = assess_file(gemma_model, hardware, 4096, name="gemma-3-270m-it-Q4_K_M")
    assert gemma.model_id == "gemma-3-270m-it-Q4_K_M" and gemma.quant == "Q4_K_M"
    assert gemma.fits and gemma.plan is not None and gemma.reason == gemma.plan.description
    assert gemma.label.startswith("runs") and (gemma.tokens_per_second or 0) > 0
    assert gemma.plan.n_ctx <= 4096
    tiny = assess_file(tiny_moe_model, hardware, 4096)
    assert tiny.model_id == "tiny-moe" and tiny.quant == "F16" and tiny.fits
    e5 = assess_file(e5_model, hardware, 4096, name="e5")
    assert e5.verdict == "not_chat" and not e5.fits and e5.quant == "Q4_0"
    assert "embedding model" in e5.reason and e5.label == "for document search, not chat"
    bad = tmp_path / "notes.gguf"
    bad.write_text("not a model")
    unreadable = assess_file(bad, hardware, 4096)
    assert unreadable.verdict == "unreadable" and not unreadable.fits
    assert "not a GGUF" in unreadable.reason and unreadable.label == "cannot be read"
    gone = assess_file(tmp_path / "gone.gguf", hardware, 4096)
    assert gone.verdict == "unreadable" and "not found" in gone.reason


@pytest.mark.gui
def test_the_list_fills_without_a_wait_and_use_takes_the_file_where_it_is(
    apps_home: Path, qtbot: QtBot, gemma_model: Path
) -> None:
    from lanterne.desktop.found_models import FoundModels

    settings = Settings()
    library = ModelLibrary(settings)
    panel = FoundModels(library)
    qtbot.addWidget(panel)
    panel.show()
    # The constructor returned before the scan did: the page is usable meanwhile.
    assert panel.is_busy() and panel.status.text() == "Looking for models other apps have…"
    assert panel.table.rowCount() == 0 and not panel.table.isVisible()
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=60000)
    assert panel.findings is not None
    rows = panel.findings.rows
    assert [r.model.app for r in rows][-1] == "Hugging Face cache"  # cannot answer: last
    assert all(r.fit.fits for r in rows[:2]) and not rows[2].fit.fits
    assert panel.table.rowCount() == 3 and panel.table.isVisible()
    texts = [cell(panel.table, r, 3).text() for r in range(3)]
    assert texts[2] == "for document search, not chat" and texts[0].startswith("runs")
    assert cell(panel.table, 0, 3).toolTip() == rows[0].fit.reason
    status = panel.status.text()
    assert status.startswith("3 models found in LM Studio, Ollama and Hugging Face cache.")
    assert "5 folders or files could not be read" in status
    assert "A file stands where this folder should be." in panel.status.toolTip()
    assert panel.selected() == rows[0]  # the best: one click uses it

    panel.select("multilingual-e5-small-q4_0")
    assert not panel.use_button.isEnabled() and not panel.copy_button.isEnabled()
    panel.select("gemma-3-270m-it-Q4_K_M")
    assert panel.use_button.isEnabled()
    assert panel.use_button.accessibleName() == "Use the selected found model where it is"
    with qtbot.waitSignal(panel.used, timeout=60000):
        panel.use_button.click()
    in_place = apps_home / ".lmstudio/models/lmstudio-community/gemma-3-270m-it-GGUF"
    in_place /= "gemma-3-270m-it-Q4_K_M.gguf"
    assert Settings().get_str("model.path") == str(in_place)  # the other app's file, not a copy
    assert not (library.models_dir / "imported").exists()
    assert "is the model in use, read where LM Studio keeps it" in panel.status.text()
    row = [r.model.name for r in panel.findings.rows].index("gemma-3-270m-it-Q4_K_M")
    assert cell(panel.table, row, 0).text().endswith("✓ in use")
    assert not panel.use_button.isEnabled()  # already in use
    assert gemma_model.exists() and in_place.is_symlink()


@pytest.mark.gui
def test_copy_puts_a_copy_in_lanternes_folder(
    apps_home: Path, qtbot: QtBot, tiny_moe_model: Path
) -> None:
    from lanterne.desktop.found_models import FoundModels

    library = ModelLibrary(Settings())
    panel = FoundModels(library)
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=60000)
    panel.select("tiny:latest")
    with qtbot.waitSignal(panel.used, timeout=60000):
        panel.copy_button.click()
    copy = library.models_dir / "imported" / BLOB
    assert copy.read_bytes() == tiny_moe_model.read_bytes()
    blob = apps_home / ".ollama" / "models" / "blobs" / BLOB
    assert blob.exists() and not copy.samefile(blob)  # Ollama keeps its own
    assert Settings().get_str("model.path") == str(copy)
    [installed] = library.store.list()
    assert installed.name == "tiny:latest" and installed.copied
    assert "copied into Lanterne's folder" in panel.status.text()
    assert panel.findings is not None
    row = [r.model.name for r in panel.findings.rows].index("tiny:latest")
    assert cell(panel.table, row, 0).text() == "tiny:latest"  # the copy is in use, not the blob


@pytest.mark.gui
def test_looking_again_keeps_the_choice_and_forgets_what_is_gone(
    apps_home: Path, qtbot: QtBot
) -> None:
    from lanterne.desktop.found_models import FoundModels

    panel = FoundModels(ModelLibrary(Settings()))
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=60000)
    panel.select("tiny:latest")
    panel.scan()
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=60000)
    chosen = panel.selected()
    assert chosen is not None and chosen.model.name == "tiny:latest"
    shutil.rmtree(apps_home / ".ollama")  # Ollama uninstalled meanwhile
    panel.scan()
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=60000)
    assert panel.table.rowCount() == 2 and panel.findings is not None
    assert panel.selected() == panel.findings.rows[0]
    assert panel.status.text().startswith("2 models found in LM Studio and Hugging Face cache.")


@pytest.mark.gui
def test_a_model_the_organisation_does_not_allow_is_refused_in_words(
    apps_home: Path, qtbot: QtBot
) -> None:
    from lanterne.desktop.found_models import FoundModels

    settings = Settings(policy=Policy(allowed_models=("house-model.gguf",)))
    panel = FoundModels(ModelLibrary(settings))
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=60000)
    panel.select("gemma-3-270m-it-Q4_K_M")
    panel.use_button.click()
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=60000)
    assert panel.status.text() == "Your organisation allows only these models: house-model.gguf."
    assert settings.get_str("model.path") == "" and panel.use_button.isEnabled()


@pytest.mark.gui
def test_the_models_dialog_lists_them_and_follows_a_use(apps_home: Path, qtbot: QtBot) -> None:
    from lanterne.desktop.models_dialog import ModelsDialog

    dialog = ModelsDialog(ModelLibrary(Settings()))
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: not dialog.found.is_busy(), timeout=60000)
    assert dialog.found.table.rowCount() == 3 and dialog.installed.rowCount() == 0
    chain: list[QWidget] = []
    widget: QWidget | None = dialog.found.table
    while widget is not None and widget is not dialog.catalog and len(chain) < 50:
        chain.append(widget)  # Tab: the list, its buttons, then the catalog shown below
        widget = widget.nextInFocusChain()
    found = dialog.found
    mine = [w for w in chain if w in (found.table, found.use_button, found.copy_button)]
    assert mine == [found.table, found.use_button, found.copy_button]
    assert widget is dialog.catalog
    dialog.found.select("tiny:latest")
    with qtbot.waitSignal(dialog.model_changed, timeout=60000):
        dialog.found.use_button.click()
    assert dialog.installed.rowCount() == 1
    assert cell(dialog.installed, 0, 0).text() == "tiny:latest  ✓ in use"
    qtbot.waitUntil(lambda: not dialog.is_busy(), timeout=60000)


@pytest.mark.gui
def test_the_list_follows_a_change_of_language(apps_home: Path, qtbot: QtBot) -> None:
    """The wizard is built before its first page picks the language: the list, made in the
    previous one, is looked at again in the new one (the planner's reasons included)."""
    from lanterne.desktop.found_models import FoundModels
    from lanterne.desktop.interface_language import switch_language

    panel = FoundModels(ModelLibrary(Settings()))
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=60000)
    assert cell(panel.table, 0, 3).text().startswith("runs")
    try:
        switch_language("fr")
        assert panel.is_busy()  # looking again
        qtbot.waitUntil(lambda: not panel.is_busy(), timeout=60000)
        assert panel.findings is not None
        label = cell(panel.table, 0, 3).text()
        assert label == panel.findings.rows[0].fit.label and not label.startswith("runs")
        assert panel.findings.rows[0].fit.reason == cell(panel.table, 0, 3).toolTip()
        header = panel.table.horizontalHeaderItem(3)
        assert header is not None and header.text() == "Sur cet ordinateur"
    finally:
        switch_language("en")
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=60000)


def test_scan_tolerates_an_app_folder_it_may_not_list(apps_home: Path) -> None:
    """Permissions, as a user meets them: root reads everything, so the scan runs in a process
    without the right to override them (setpriv), as any user's would."""
    import subprocess
    import sys

    if sys.platform == "win32":
        pytest.skip("POSIX permissions")
    locked = apps_home / ".local" / "share" / "nomic.ai" / "GPT4All"
    locked.chmod(0)
    command = [sys.executable, "-m", "lanterne", "models", "scan", "--json"]
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("root without setpriv cannot be refused a folder")
        drop = "-dac_override,-dac_read_search"
        command = ["setpriv", f"--inh-caps={drop}", f"--bounding-set={drop}", *command]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    finally:
        locked.chmod(0o755)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    reasons = {s["path"]: s["reason"] for s in data["skipped"]}
    assert reasons[str(locked)] == (
        "Lanterne is not allowed to open this folder: check its permissions."
    )
    assert {f["name"] for f in data["found"]} == {
        "gemma-3-270m-it-Q4_K_M",
        "tiny:latest",
        "multilingual-e5-small-q4_0",
    }
