"""`lanterne models`: recommend, list, import (and then ask), use, remove, scan other apps."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.cli import lanterne


def json_of(*args: str, env: dict[str, str] | None = None) -> dict:  # type: ignore[type-arg]
    result = lanterne(*args, "--json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_recommend_explains_its_choice_for_this_machine() -> None:
    result = lanterne("models", "recommend")
    assert result.returncode in (0, 1), result.stderr  # 1: nothing runs well on this machine
    assert "runs well here" in result.stdout or "No catalog model" in result.stdout
    data = json_of("models", "recommend", "--language", "fr")
    assert data["explanation"] and data["considered"]
    if data["model"] is not None:
        assert "fr" in data["model"]["languages"]
        assert data["fit"]["tokens_per_second"] > 0
    if data["starter"] is not None:  # a recommendation much larger than the starter
        assert data["starter"]["model"] == "granite-4.0-h-1b"
        assert data["starter"]["recommended"] == data["model"]["id"]


def test_list_shows_the_catalog_with_a_fit_for_every_file() -> None:
    data = json_of("models", "list")
    assert data["installed"] == [] and data["catalog_version"]
    for model in data["catalog"]:
        assert set(model["fit"]) == {q["name"] for q in model["quants"]}
        for fit in model["fit"].values():
            assert fit["verdict"] in ("gpu", "experts_on_cpu", "layers_split", "cpu", "too_large")
    text = lanterne("models", "list").stdout
    assert "Installed:" in text and "qwen3-30b-a3b-instruct-2507" in text


def test_import_makes_ask_use_the_model(gemma_model: Path) -> None:
    imported = json_of("models", "import", str(gemma_model))
    assert imported["active"] and imported["architecture"] == "gemma3"
    assert imported["path"] == str(gemma_model) and not imported["copied"]
    answer = json_of("ask", "--no-docs", "Qui a écrit Les Misérables ?")
    assert answer["model"]["path"] == str(gemma_model) and answer["answer"].strip()
    # Removing an imported model never deletes the user's file.
    removed = json_of("models", "remove", imported["name"])
    assert not removed["files_deleted"] and gemma_model.exists()
    assert "No model is configured" in lanterne("ask", "--no-docs", "x").stderr


@pytest.mark.slow
def test_import_copy_use_and_remove(tiny_moe_model: Path, tmp_path: Path) -> None:
    share = tmp_path / "share"
    share.mkdir()
    original = shutil.copy(tiny_moe_model, share / "team-model.gguf")
    first = json_of("models", "import", str(original), "--copy", "--name", "team")
    copy = Path(first["path"])
    assert copy != Path(original) and copy.exists() and first["copied"] and first["active"]
    second = json_of("models", "import", str(tiny_moe_model))
    assert not second["active"]  # the first import stays in use unless --use
    assert json_of("models", "use", second["name"])["active"]
    listing = json_of("models", "list")
    assert [m["active"] for m in listing["installed"]] == [False, True]
    json_of("models", "remove", "team")
    assert not copy.exists() and Path(original).exists()  # the copy was Lanterne's


@pytest.mark.slow
def test_import_of_a_bad_file_says_why(tmp_path: Path) -> None:
    bad = tmp_path / "notes.gguf"
    bad.write_text("not a model")
    result = lanterne("models", "import", str(bad))
    assert result.returncode == 1 and "not a GGUF" in result.stderr
    missing = lanterne("models", "import", str(tmp_path / "absent.gguf"))
    assert missing.returncode == 1 and "not found" in missing.stderr
    unknown = lanterne("models", "use", "nothing")
    assert unknown.returncode == 1 and "No installed model named 'nothing'" in unknown.stderr


@pytest.fixture
def other_apps_home(tmp_path: Path, tiny_moe_model: Path) -> Path:
    """A home folder where LM Studio, GPT4All and Ollama each keep a model."""
    home = tmp_path / "user"
    lmstudio = home / ".lmstudio" / "models" / "lmstudio-community" / "Tiny-GGUF"
    lmstudio.mkdir(parents=True)
    shutil.copy(tiny_moe_model, lmstudio / "tiny-Q4_K_M.gguf")
    shutil.copy(tiny_moe_model, lmstudio / "mmproj-tiny-f16.gguf")  # a projector: not a model
    (lmstudio / "README.md").write_text("# not a model")
    gpt4all = home / ".local" / "share" / "nomic.ai" / "GPT4All"
    gpt4all.mkdir(parents=True)
    shutil.copy(tiny_moe_model, gpt4all / "tiny-gpt4all.gguf")
    (gpt4all / "broken.gguf").write_text("not a gguf")
    ollama = home / ".ollama" / "models"
    blob = ollama / "blobs" / ("sha256-" + "ab" * 32)
    blob.parent.mkdir(parents=True)
    shutil.copy(tiny_moe_model, blob)
    manifest = ollama / "manifests" / "registry.ollama.ai" / "library" / "tiny" / "latest"
    manifest.parent.mkdir(parents=True)
    layers = [
        {"mediaType": "application/vnd.ollama.image.template", "digest": "sha256:" + "cd" * 32},
        {"mediaType": "application/vnd.ollama.image.model", "digest": "sha256:" + "ab" * 32},
    ]
    manifest.write_text(json.dumps({"schemaVersion": 2, "layers": layers}))
    return home


@pytest.mark.slow
def test_scan_finds_and_imports_models_of_other_apps(other_apps_home: Path) -> None:
    hidden = ("XDG_DATA_HOME", "HF_HOME", "HF_HUB_CACHE", "OLLAMA_MODELS")
    env = {k: v for k, v in os.environ.items() if k not in hidden}
    env["HOME"] = str(other_apps_home)

    def scan(*extra: str) -> dict:  # type: ignore[type-arg]
        result = subprocess.run(
            [sys.executable, "-m", "lanterne", "models", "scan", "--json", *extra],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)  # type: ignore[no-any-return]

    first = scan()
    found = {(f["app"], f["name"]) for f in first["found"]}
    assert found == {
        ("LM Studio", "tiny-Q4_K_M"),
        ("GPT4All", "tiny-gpt4all"),
        ("Ollama", "tiny:latest"),
    }
    assert first["skipped"] == []  # apps not installed (Jan, the cache) are no error
    jan = other_apps_home / "jan"
    jan.mkdir()
    (jan / "models").write_text("a file where Jan's models folder should be")
    assert scan()["skipped"] == [
        {
            "app": "Jan",
            "path": str(jan / "models"),
            "reason": "A file stands where this folder should be.",
        }
    ]
    text = subprocess.run(
        [sys.executable, "-m", "lanterne", "models", "scan"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    ).stdout
    assert "Not read:" in text and f"{jan / 'models'}: A file stands where" in text
    assert sorted(scan("--import")["imported"]) == ["tiny-Q4_K_M", "tiny-gpt4all", "tiny:latest"]
    listing = json_of("models", "list")
    assert len(listing["installed"]) == 3 and sum(m["active"] for m in listing["installed"]) == 1
    assert scan("--import")["imported"] == []  # scanning again adds no second entry
    assert len(json_of("models", "list")["installed"]) == 3
