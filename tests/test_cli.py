"""The `lanterne` command as scripts use it: a real process, JSON on stdout."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from lanterne.engine.hardware import probe
from support.cli import LANTERNE, lanterne


def test_version() -> None:
    result = lanterne("--version")
    assert result.returncode == 0 and result.stdout.startswith("lanterne 0.")


@pytest.mark.slow
def test_index_add_status_search_remove(docs_folder: Path) -> None:
    added = lanterne("index", "add", str(docs_folder), "--json")
    assert added.returncode == 0, added.stderr
    data = json.loads(added.stdout)
    assert data["indexed"] == 3 and data["documents"] == 3
    assert "[3/3]" in added.stderr  # progress goes to stderr

    status = json.loads(lanterne("index", "status", "--json").stdout)
    assert status["folders"][0]["path"] == str(docs_folder.resolve())
    assert (status["documents"], status["pending"], status["errors"]) == (3, 0, [])
    assert status["chunks"] >= 5

    found = json.loads(lanterne("search", "swap partition", "-k", "2", "--json").stdout)
    assert len(found["results"]) <= 2
    top = found["results"][0]
    passage = {"path", "page", "line", "heading", "snippet", "highlights", "score", "lang"}
    assert set(top) == passage | {"offline", "more_count", "more"}
    assert top["offline"] is False  # its folder is connected
    assert top["path"].endswith("install.md") and top["lang"] == "en"

    human = lanterne("search", "tarte")
    assert "tarte.txt" in human.stdout

    removed = lanterne("index", "remove", str(docs_folder))
    assert removed.returncode == 0
    assert json.loads(lanterne("index", "status", "--json").stdout)["folders"] == []


@pytest.mark.slow
def test_errors_are_reported_per_file(docs_folder: Path) -> None:
    (docs_folder / "casse.html").write_bytes(b"\x00\x00binary\x00" * 100)
    lanterne("index", "add", str(docs_folder))
    text = lanterne("index", "status")
    assert "1 errors" in text.stdout and "casse.html" in text.stdout
    errors = json.loads(lanterne("index", "status", "--json").stdout)["errors"]
    assert errors[0]["path"].endswith("casse.html") and errors[0]["reason"]


def test_bad_folder_is_a_clean_error(tmp_path: Path) -> None:
    result = lanterne("index", "add", str(tmp_path / "absent"))
    assert result.returncode == 1
    assert result.stderr.strip() == f"lanterne: Folder not found: {tmp_path / 'absent'}"


@pytest.mark.model
def test_ask_json_with_a_moe_model(docs_folder: Path, tiny_moe_model: Path) -> None:
    lanterne("index", "add", str(docs_folder))
    result = lanterne(
        "ask", "Quand s'exécute la sauvegarde ?", "--model", str(tiny_moe_model), "--json"
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    data = json.loads(result.stdout)
    assert data["language"] == "fr"
    assert data["citations"][0]["path"].endswith("sauvegardes.html")
    assert data["citations"][0]["n"] == 1
    assert set(data["citations"][0]) >= {"n", "path", "page", "heading", "snippet"}
    assert set(data["timings"]) == {
        "prompt_tokens",
        "prompt_ms",
        "predicted_tokens",
        "predicted_ms",
        "ttft_ms",
        "first_answer_ms",
        "reused_tokens",
    }
    assert data["model"]["backend"] == "local"
    assert data["model"]["architecture"] == "qwen3moe" and data["model"]["n_expert"] == 4
    # A ChatML model without reasoning markers: the whole text is the answer.
    assert data["reasoning"] == "" and data["model"]["reasoning_format"] == "none"
    gpus = probe().gpus  # a GPU build answers on its GPU
    assert (gpus[0].backend if gpus else "CPU") in data["model"]["offload"]["description"]


@pytest.mark.model
def test_ask_streams_a_french_answer_with_gemma(docs_folder: Path, gemma_model: Path) -> None:
    lanterne("index", "add", str(docs_folder))
    result = lanterne(
        "ask",
        "Combien de temps cuit la tarte aux pommes ?",
        env={"LANTERNE_MODEL": str(gemma_model)},
    )
    assert result.returncode == 0, result.stderr
    answer, _sep, sources = result.stdout.partition("\n\nSources:\n")
    assert answer.strip()
    assert sources.splitlines()[0].startswith(f"[1] {docs_folder.resolve()}/cuisine/tarte.txt")


@pytest.mark.slow
def test_ask_without_model_explains() -> None:
    result = lanterne("ask", "question")
    assert result.returncode == 1
    assert "No model is configured" in result.stderr and "LANTERNE_MODEL" in result.stderr


def test_quick_ask_shows_its_shortcut() -> None:
    result = lanterne("quick-ask", "--show-hotkey")
    assert result.returncode == 0 and result.stdout.strip() == "ctrl+shift+space"
    assert json.loads(lanterne("quick-ask", "--show-hotkey", "--json").stdout) == {
        "hotkey": "ctrl+shift+space"
    }


def test_watch_without_folders_explains() -> None:
    result = lanterne("index", "watch")
    assert result.returncode == 1 and "No folder is watched yet" in result.stderr


@pytest.mark.slow
def test_index_watch_follows_changes_until_ctrl_c(docs_folder: Path) -> None:
    import signal

    lanterne("index", "add", str(docs_folder))
    proc = subprocess.Popen(
        [str(LANTERNE), "index", "watch", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        decoder = json.JSONDecoder()
        buffer = ""

        def next_event() -> dict[str, object]:
            nonlocal buffer
            while True:
                try:
                    event, end = decoder.raw_decode(buffer.lstrip())
                    buffer = buffer.lstrip()[end:]
                    return dict(event)
                except ValueError:
                    line = proc.stdout.readline() if proc.stdout else ""
                    assert line, "watch exited early"
                    buffer += line

        assert next_event()["event"] == "ready"
        (docs_folder / "nouveau.txt").write_text("Le wiki interne a déménagé sur intranet.")
        assert next_event()["event"] == "updated"
        found = json.loads(lanterne("search", "intranet", "--json").stdout)["results"]
        assert found and found[0]["path"].endswith("nouveau.txt")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    except BaseException:
        if proc.poll() is None:
            proc.kill()
        _out, err = proc.communicate()
        print("lanterne index watch wrote on stderr:\n" + err)  # shown with the failure
        raise
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


@pytest.mark.slow
def test_search_filters_and_bad_dates(docs_folder: Path) -> None:
    lanterne("index", "add", str(docs_folder))
    found = json.loads(
        lanterne(
            "search", "pommes sauvegarde partition", "--lang", "fr", "--type", "txt", "--json"
        ).stdout
    )
    assert [Path(r["path"]).name for r in found["results"]] == ["tarte.txt"]
    under = json.loads(
        lanterne(
            "search",
            "pommes sauvegarde partition",
            "--folder",
            str(docs_folder / "debian"),
            "--json",
        ).stdout
    )
    assert [Path(r["path"]).name for r in under["results"]] == ["install.md"]
    later = json.loads(lanterne("search", "pommes", "--since", "2999-01-01", "--json").stdout)
    assert later["results"] == []
    bad = lanterne("search", "pommes", "--since", "yesterday")
    assert bad.returncode == 1 and "YYYY-MM-DD" in bad.stderr
