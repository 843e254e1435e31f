"""Removing a model whose file Windows will not delete yet: the loaded model is let go of first,
a file held for a moment is retried, and one still in use is reported in words, nothing lost.

Windows refuses to delete a file that a process has open or mapped (PermissionError, WinError 32
or 5); Linux deletes it at once. Simulated here: `sys.platform` patched, and `Path.unlink`
refusing a file some number of times, or for as long as this process maps it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from lanterne.cli.main import main as lanterne_main
from lanterne.context import AppContext
from lanterne.engine import model_store
from lanterne.engine.host import LoadRequest
from lanterne.engine.model_store import InstalledModel, ModelStoreError
from lanterne.foundation.settings import Settings
from lanterne.model_library import ModelLibrary

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

    from lanterne.desktop.main_window import MainWindow

IN_USE = "Lanterne or another program is using this model file"
real_unlink = Path.unlink


def sharing_violation(path: Path) -> PermissionError:
    """What os.remove raises on Windows for a file another process holds."""
    error = PermissionError(13, "The process cannot access the file", str(path))
    error.winerror = 32  # type: ignore[attr-defined]
    return error


def refuse(monkeypatch: pytest.MonkeyPatch, target: Path, held: Callable[[], bool]) -> list[Path]:
    """Make deleting `target` fail while `held()` says so; the attempts on it, as a list."""
    attempts: list[Path] = []

    def unlink(self: Path, missing_ok: bool = False) -> None:
        if self == target:
            attempts.append(self)
            if held():
                raise sharing_violation(self)
        real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", unlink)
    return attempts


@pytest.fixture
def as_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Model files are deleted as on Windows: `sys.platform` is "win32" while one is, and only
    then (the rest of the app, its settings and policy among them, runs as on this machine)."""
    delete_file = model_store.delete_file

    def on_windows(path: Path) -> None:
        platform = sys.platform
        sys.platform = "win32"
        try:
            delete_file(path)
        finally:
            sys.platform = platform

    monkeypatch.setattr(model_store, "delete_file", on_windows)
    monkeypatch.setattr(model_store, "RETRY_PAUSES_S", (0.0, 0.0, 0.0, 0.0))


def downloaded(library: ModelLibrary, folder: Path) -> Path:
    """A model as a download leaves it (Lanterne's to delete), in use."""
    file = folder / "qwen3-test-Q4_K_M.gguf"
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_bytes(b"GGUF" + bytes(64))
    library.store.add(
        InstalledModel(
            name="qwen3-test", path=str(file), files=(str(file),), size=68, source="catalog"
        )
    )
    library.settings.set("model.path", str(file))
    library.settings.save()
    return file


@pytest.mark.usefixtures("as_windows")
def test_a_file_held_for_a_moment_is_deleted_on_a_retry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    library = ModelLibrary(Settings())
    file = downloaded(library, tmp_path / "models")
    attempts = refuse(monkeypatch, file, lambda: len(attempts) <= 2)  # an antivirus scanning it
    library.remove("qwen3-test")
    assert len(attempts) == 3 and not file.exists()
    assert library.store.list() == [] and library.active_path() == ""


@pytest.mark.usefixtures("as_windows")
def test_a_file_still_in_use_is_reported_in_words_and_nothing_is_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    library = ModelLibrary(Settings())
    file = downloaded(library, tmp_path / "models")
    attempts = refuse(monkeypatch, file, lambda: True)
    with pytest.raises(ModelStoreError, match=IN_USE) as raised:
        library.remove("qwen3-test")
    assert str(file) in str(raised.value) and "WinError" not in str(raised.value)
    assert len(attempts) == len(model_store.RETRY_PAUSES_S) + 1
    assert file.exists() and [m.name for m in library.store.list()] == ["qwen3-test"]
    assert Settings().get_str("model.path") == str(file)


def test_elsewhere_a_refused_deletion_is_a_matter_of_permissions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    library = ModelLibrary(Settings())
    file = downloaded(library, tmp_path / "models")
    attempts = refuse(monkeypatch, file, lambda: True)
    with pytest.raises(ModelStoreError, match="not allowed to delete"):
        library.remove("qwen3-test")
    assert len(attempts) == 1  # an open file never blocks a deletion there: no point waiting


@pytest.mark.usefixtures("as_windows")
def test_lanterne_models_remove_says_the_file_is_in_use_instead_of_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    file = downloaded(ModelLibrary(Settings()), tmp_path / "models")
    held = [True]
    refuse(monkeypatch, file, lambda: held[0])
    assert lanterne_main(["models", "remove", "qwen3-test"]) == 1
    err = capsys.readouterr().err
    assert IN_USE in err and "close it and try again" in err and "Traceback" not in err
    assert file.exists()
    held[0] = False  # the other program closed it
    assert lanterne_main(["models", "remove", "qwen3-test"]) == 0
    assert "deleted its files" in capsys.readouterr().out and not file.exists()


@pytest.mark.gui
@pytest.mark.usefixtures("as_windows")
def test_the_models_dialog_says_the_file_is_in_use_and_keeps_the_model(
    window: MainWindow, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialog = window.open_models()
    assert dialog.library.release == window.ctx.release_model_files  # the app's model goes first
    file = downloaded(dialog.library, tmp_path / "models")
    refuse(monkeypatch, file, lambda: True)
    dialog.refresh_installed()
    dialog.installed.selectRow(0)
    dialog.remove_button.click()
    qtbot.waitUntil(lambda: IN_USE in dialog.status.text(), timeout=30000)
    assert dialog.installed.rowCount() == 1 and file.exists()
    assert window.ctx.settings.get_str("model.path") == str(file)
    qtbot.waitUntil(lambda: not dialog.is_busy(), timeout=30000)


def mapped_here(path: Path) -> bool:
    """Whether this process maps `path`, as llama.cpp maps the model it loaded."""
    return str(path) in Path("/proc/self/maps").read_text()


@pytest.mark.model
@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/self/maps")
@pytest.mark.usefixtures("as_windows")
def test_the_loaded_model_is_let_go_of_before_its_file_is_deleted(
    tiny_moe_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = AppContext(Settings())
    try:
        model = ModelLibrary(ctx.settings).import_file(tiny_moe_model, copy=True, use=True)
        copy = Path(model.path)
        ctx.host.load(LoadRequest(copy, n_ctx=512, n_threads=2)).result()
        assert mapped_here(copy)
        refuse(monkeypatch, copy, lambda: mapped_here(copy))  # Windows' rule for mapped files
        with pytest.raises(ModelStoreError, match=IN_USE):  # a library that cannot let go
            ModelLibrary(ctx.settings).remove(model.name)
        assert ctx.host.model is not None and copy.exists()
        library = ModelLibrary(ctx.settings, release=ctx.release_model_files)
        library.remove(model.name)
        assert ctx.host.model is None and not copy.exists()
        assert library.store.list() == [] and library.active_path() == ""
    finally:
        ctx.close()


@pytest.mark.model
def test_releasing_other_files_keeps_the_loaded_model(tiny_moe_model: Path) -> None:
    ctx = AppContext(Settings())
    try:
        ctx.host.load(LoadRequest(tiny_moe_model, n_ctx=512, n_threads=2)).result()
        assert not ctx.host.release([tiny_moe_model.with_name("other.gguf")])
        assert ctx.host.model is not None
        assert ctx.host.release([tiny_moe_model.parent / "." / tiny_moe_model.name])
        assert ctx.host.model is None
    finally:
        ctx.close()


def test_a_process_that_loaded_no_model_has_nothing_to_let_go_of(tmp_path: Path) -> None:
    ctx = AppContext(Settings())
    ctx.release_model_files([tmp_path / "model.gguf"])
    assert "host" not in ctx.__dict__  # the engine was not started for nothing
