"""The embedding model every install ships: built reproducibly, checked before use, on by default
(search by meaning and across languages with nothing set), off with "none", and a damaged copy
never loaded."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from lanterne.embedding_model import close_embedders, configured_embedder
from lanterne.engine import builtin_embedder, embedder_build
from lanterne.foundation.settings import Settings
from support.cli import lanterne

FRENCH_DOCS = {
    "reseau.md": "# Réseau\n\nLe serveur DHCP attribue automatiquement les adresses IP aux "
    "postes du réseau local. Sa configuration se trouve dans /etc/dhcp/dhcpd.conf.\n",
    "cuisine.md": "# Cuisine\n\nLa tarte aux pommes cuit quarante minutes dans un four "
    "préchauffé à 180 degrés.\n",
    "sauvegarde.md": "# Sauvegardes\n\nUne copie de sécurité quotidienne des dossiers "
    "personnels protège contre la perte de fichiers.\n",
}


def test_the_install_ships_the_pinned_model() -> None:
    """dev.py (and the release build) put the model in the package: present and verified."""
    path = builtin_embedder.shipped_path()
    assert builtin_embedder.problem(path) is None
    assert builtin_embedder.sha256_of(path) == builtin_embedder.SHA256


def test_the_build_is_reproducible(tmp_path: Path) -> None:
    built = embedder_build.build(tmp_path)
    assert builtin_embedder.sha256_of(built) == builtin_embedder.SHA256
    before = built.stat().st_mtime_ns
    assert embedder_build.build(tmp_path) == built  # a verified copy is kept as it is
    assert built.stat().st_mtime_ns == before
    assert [p.name for p in tmp_path.iterdir()] == [builtin_embedder.FILE_NAME]


def test_a_missing_or_damaged_copy_is_refused(tmp_path: Path) -> None:
    missing = builtin_embedder.problem(tmp_path / "absent.gguf")
    assert missing is not None and "missing" in missing and "reinstall" in missing
    damaged = tmp_path / builtin_embedder.FILE_NAME
    shutil.copy(builtin_embedder.shipped_path(), damaged)
    with damaged.open("r+b") as f:
        f.seek(40_000_000)
        byte = f.read(1)
        f.seek(40_000_000)
        f.write(bytes([byte[0] ^ 0xFF]))
    reason = builtin_embedder.problem(damaged)
    assert reason is not None and "damaged" in reason


@pytest.mark.model
def test_nothing_set_means_the_builtin_model_and_none_turns_it_off() -> None:
    settings = Settings()
    try:
        embedder, problem = configured_embedder(settings)
        assert problem is None and embedder is not None
        assert embedder.name == builtin_embedder.NAME and embedder.dimensions == 384
        settings.set("retrieval.embedding_model", "none")
        assert configured_embedder(settings) == (None, None)
    finally:
        close_embedders()


def test_a_damaged_builtin_model_leaves_search_by_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    damaged = tmp_path / builtin_embedder.FILE_NAME
    damaged.write_bytes(builtin_embedder.shipped_path().read_bytes()[:1_000_000])
    monkeypatch.setattr(builtin_embedder, "shipped_path", lambda: damaged)
    embedder, problem = configured_embedder(Settings())
    assert embedder is None and problem is not None and "damaged" in problem


@pytest.mark.model
def test_a_fresh_install_searches_across_languages_with_nothing_set(tmp_path: Path) -> None:
    """French documents, English questions: found by meaning, with no setting touched."""
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in FRENCH_DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")
    added = lanterne("index", "add", str(folder), "--json")
    assert added.returncode == 0, added.stderr
    data = json.loads(added.stdout)
    assert data["embedded"] == data["chunks"] >= 3
    assert data["vectors"]["model"] == builtin_embedder.NAME
    assert data["vectors"]["embedded"] == data["vectors"]["total"]

    for question, expected in [
        ("which server hands out IP addresses automatically?", "reseau.md"),
        ("how long does the apple pie bake", "cuisine.md"),
        ("daily backup of home folders", "sauvegarde.md"),
    ]:
        found = lanterne("search", question, "-k", "1", "--json")
        assert found.returncode == 0 and found.stderr == "", found.stderr
        assert json.loads(found.stdout)["results"][0]["path"].endswith(expected), question
    # Words only: the English words are in none of the French files.
    lexical = lanterne("search", "which server hands out addresses", "--mode", "lexical", "--json")
    assert json.loads(lexical.stdout)["results"] == []
    status = lanterne("index", "status")
    assert f"with {builtin_embedder.NAME}" in status.stdout


@pytest.mark.model
def test_loading_a_model_never_silences_other_threads(tmp_path: Path) -> None:
    """llama-cpp-python points the process's stdout and stderr at /dev/null while a model loads;
    a line another thread printed then (`index watch --json`'s "updated") was lost. Every line
    printed during loads must arrive."""
    import subprocess
    import sys

    script = tmp_path / "load_while_printing.py"
    script.write_text(
        "import sys, threading, time\n"
        "from lanterne.engine import builtin_embedder\n"
        "from lanterne.engine.embedder import Embedder\n"
        "done = threading.Event()\n"
        "def talk():\n"
        "    n = 0\n"
        "    while not done.is_set() or n < 50:\n"
        "        print(f'line {n}', flush=True); print(f'err {n}', file=sys.stderr, flush=True)\n"
        "        n += 1; time.sleep(0.001)\n"
        "    print(f'total {n}', flush=True)\n"
        "talker = threading.Thread(target=talk); talker.start()\n"
        "for _ in range(3):\n"
        "    Embedder(builtin_embedder.shipped_path(), n_threads=1).close()\n"
        "done.set(); talker.join()\n",
        encoding="utf-8",
    )
    run = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=True
    )
    lines = run.stdout.splitlines()
    total = int(lines[-1].split()[1])
    assert lines[:-1] == [f"line {n}" for n in range(total)]
    errors = [line for line in run.stderr.splitlines() if line.startswith("err ")]
    assert errors == [f"err {n}" for n in range(total)]
