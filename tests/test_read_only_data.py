"""The data folder made read-only (a drive or share mounted read-only, a restore without write
permission): every command says "Lanterne cannot write to its data folder X" with what to do,
never a traceback; search and `index status` still read the index as it is, and nothing in the
folder changes.

As root (CI), chmod stops nothing: the folder is a tmpfs of the test's own, remounted read-only.
Otherwise, the folder and its files lose their write permission.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from lanterne.foundation.settings import Settings
from support.cli import lanterne

pytestmark = pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions and mounts")
READ_ONLY = "Lanterne cannot write to its data folder {home}"


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True, timeout=30)


@pytest.fixture
def data_folder(lanterne_home: Path) -> Iterator[Path]:
    """The data folder, on a filesystem of its own when running as root."""
    lanterne_home.mkdir(parents=True, exist_ok=True)
    mounted = False
    if os.geteuid() == 0:
        try:
            _mount("-t", "tmpfs", "-o", "size=64m", "tmpfs", str(lanterne_home))
            mounted = True
        except (OSError, subprocess.CalledProcessError) as exc:
            pytest.skip(f"no tmpfs can be mounted here ({exc}): root ignores permissions")
    try:
        yield lanterne_home
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(lanterne_home)], check=False, timeout=30)
        else:
            for path in (lanterne_home, *lanterne_home.iterdir()):
                path.chmod(0o755 if path.is_dir() else 0o644)


def _make_read_only(home: Path) -> None:
    if os.geteuid() == 0:
        _mount("-o", "remount,ro", str(home))
    else:
        for path in (*home.iterdir(), home):
            path.chmod(0o555 if path.is_dir() else 0o444)


def _fingerprint(home: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(home.iterdir())}


@pytest.mark.slow
def test_a_read_only_data_folder_is_said_and_still_searched(
    data_folder: Path, docs_folder: Path, tmp_path: Path
) -> None:
    settings = Settings()
    settings.set("retrieval.embedding_model", "none")  # words only: the readers are under test
    settings.save()
    added = lanterne("index", "add", str(docs_folder), "--json")
    assert added.returncode == 0, added.stderr
    _make_read_only(data_folder)
    before = _fingerprint(data_folder)
    said = READ_ONLY.format(home=data_folder)

    status = lanterne("index", "status", "--json")
    assert status.returncode == 0, status.stderr
    assert said in status.stderr and "Traceback" not in status.stderr
    assert json.loads(status.stdout)["documents"] == 3
    found = lanterne("search", "partitioning", "--json")
    assert found.returncode == 0, found.stderr
    assert said in found.stderr
    assert json.loads(found.stdout)["results"][0]["path"].endswith("install.md")

    for command in (
        ("index", "add", str(docs_folder)),
        ("index", "remove", str(docs_folder)),
        ("index", "watch"),
        ("export", str(tmp_path / "answers.jsonl")),
        ("remote", "off"),
    ):
        done = lanterne(*command)
        assert done.returncode == 1, (command, done.stdout, done.stderr)
        assert said in done.stderr and "LANTERNE_HOME" in done.stderr, (command, done.stderr)
        assert "Traceback" not in done.stderr, command
    assert _fingerprint(data_folder) == before


@pytest.mark.model
def test_questions_are_answered_from_a_read_only_data_folder(
    data_folder: Path, docs_folder: Path, tiny_moe_model: Path
) -> None:
    settings = Settings()
    settings.set("retrieval.embedding_model", "none")
    settings.set("model.path", str(tiny_moe_model))
    settings.set("model.max_answer_tokens", 4)
    settings.save()
    assert lanterne("index", "add", str(docs_folder)).returncode == 0
    _make_read_only(data_folder)
    before = _fingerprint(data_folder)
    asked = lanterne("ask", "Combien de temps cuit la tarte aux pommes ?", "--json")
    assert asked.returncode == 0, asked.stderr
    assert "Traceback" not in asked.stderr
    cited = [c["path"] for c in json.loads(asked.stdout)["citations"]]
    assert any(path.endswith("tarte.txt") for path in cited), cited
    assert _fingerprint(data_folder) == before


@pytest.mark.gui
def test_the_app_says_so_at_start(data_folder: Path) -> None:
    _make_read_only(data_folder)
    started = lanterne(env={"QT_QPA_PLATFORM": "offscreen"}, timeout=60)
    assert started.returncode == 1
    assert READ_ONLY.format(home=data_folder) in started.stderr
    assert "Traceback" not in started.stderr
