"""Downloads against a local server speaking the hub's protocol, serving real GGUF bytes."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import pytest

from lanterne.engine.gguf_header import read_summary
from lanterne.engine.hub_download import (
    DownloadCancelledError,
    DownloadError,
    Progress,
    download_files,
)
from lanterne.foundation.settings import Settings
from lanterne.model_library import ModelLibrary
from support.cli import lanterne
from support.hub_server import COMMIT, Hub, forward_proxy
from support.remote_server import MemoryKeyring, free_port
from support.split_gguf import write_split

# A real catalog entry; the local hub serves the test models' bytes under its names.
MODEL_ID = "lfm2-8b-a1b"
REPO = "LiquidAI/LFM2-8B-A1B-GGUF"
FILE = "LFM2-8B-A1B-Q4_K_M.gguf"


def library() -> ModelLibrary:
    """A fresh library, as a newly started app would build it."""
    return ModelLibrary(Settings())


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_download_verifies_registers_and_the_model_answers(hub: Hub, gemma_model: Path) -> None:
    served = hub.add(REPO, FILE, gemma_model)
    result = lanterne("models", "download", MODEL_ID)
    assert result.returncode == 0, result.stderr
    assert "100%" in result.stderr and "checking:" in result.stderr  # the progress bar
    assert "installed and verified" in result.stdout

    listing = json.loads(lanterne("models", "list", "--json").stdout)
    (installed,) = listing["installed"]
    assert installed["active"] and installed["source"] == "catalog"
    assert installed["sha256"] == [served.sha256] and installed["revision"] == COMMIT
    assert installed["architecture"] == "gemma3"  # from the file's header, not the catalog
    path = Path(installed["path"])
    assert path.name == FILE and sha256(path) == served.sha256

    answer = json.loads(lanterne("ask", "--no-docs", "--json", "Bonjour, qui es-tu ?").stdout)
    assert answer["model"]["path"] == str(path) and answer["answer"].strip()

    # Already there and verified: a second download fetches nothing.
    before = len(hub.gets())
    assert lanterne("models", "download", MODEL_ID).returncode == 0
    assert len(hub.gets()) == before


def test_a_dropped_connection_resumes_where_it_stopped(hub: Hub, gemma_model: Path) -> None:
    served = hub.add(REPO, FILE, gemma_model)
    hub.drop_after = 64 * 1024**2
    model = library().download(MODEL_ID)
    first, second = hub.gets()
    assert first.range is None
    assert second.range is not None
    resumed_at = int(second.range.removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_at <= 64 * 1024**2
    assert hub.served_bytes < served.size + 64 * 1024**2  # not fetched twice
    assert sha256(Path(model.path)) == served.sha256


def test_a_cancelled_download_resumes_after_a_restart(hub: Hub, gemma_model: Path) -> None:
    served = hub.add(REPO, FILE, gemma_model)
    cancel = threading.Event()
    events: list[Progress] = []

    def progress(p: Progress) -> None:
        events.append(p)
        if p.done > served.size // 3:
            cancel.set()

    with pytest.raises(DownloadCancelledError):
        library().download(MODEL_ID, progress=progress, cancel=cancel)
    assert not library().installed()
    partial = events[-1].done
    assert 0 < partial < served.size

    # A new process picks up the partial file.
    result = lanterne("models", "download", MODEL_ID, "--json")
    assert result.returncode == 0, result.stderr
    resumed = hub.gets()[-1]
    assert resumed.range is not None
    assert int(resumed.range.removeprefix("bytes=").rstrip("-")) >= served.size // 3
    installed = json.loads(result.stdout)
    assert sha256(Path(installed["path"])) == served.sha256


def test_progress_reports_bytes_speed_and_time_left(hub: Hub, gemma_model: Path) -> None:
    served = hub.add(REPO, FILE, gemma_model)
    events: list[Progress] = []
    library().download(MODEL_ID, progress=events.append)
    downloading = [e for e in events if e.stage == "downloading"]
    assert [e.done for e in downloading] == sorted(e.done for e in downloading)
    assert downloading[-1].done == served.size == downloading[-1].total
    assert any(e.speed > 0 and e.eta is not None for e in downloading)
    assert events[-1].stage == "verifying" and events[-1].done == served.size


def test_corrupted_bytes_are_refused(hub: Hub, tiny_moe_model: Path) -> None:
    hub.add(REPO, FILE, tiny_moe_model)
    hub.corrupt = True
    with pytest.raises(DownloadError, match=r"arrived damaged .* was deleted"):
        library().download(MODEL_ID)
    assert not library().installed() and not Settings().get_str("model.path")
    assert not list(library().models_dir.rglob(FILE))
    hub.corrupt = False
    model = library().download(MODEL_ID)  # the next try starts clean
    assert sha256(Path(model.path)) == sha256(tiny_moe_model)


def test_not_enough_disk_space_stops_before_downloading(hub: Hub, tiny_moe_model: Path) -> None:
    hub.add(REPO, FILE, tiny_moe_model)
    hub.advertised_size = 2**50  # a petabyte
    with pytest.raises(DownloadError, match=r"Not enough disk space .* needs [0-9.,]+ GB more"):
        library().download(MODEL_ID)
    assert not hub.gets()


def test_an_unwritable_models_folder_is_reported(
    hub: Hub, tiny_moe_model: Path, tmp_path: Path
) -> None:
    hub.add(REPO, FILE, tiny_moe_model)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the models folder should be")
    settings = Settings()
    settings.set("models.directory", str(blocker / "models"))
    settings.save()
    with pytest.raises(DownloadError, match=r"Cannot create the models folder .*not-a-folder"):
        library().download(MODEL_ID)


def test_a_gated_repo_uses_the_token_from_the_keychain(
    hub: Hub, tiny_moe_model: Path, memory_keyring: MemoryKeyring, lanterne_home: Path
) -> None:
    hub.add(REPO, FILE, tiny_moe_model)
    hub.gated[REPO] = "hf_test_token_123"
    with pytest.raises(DownloadError, match=r"is gated: .*lanterne models token set"):
        library().download(MODEL_ID)
    library().set_token("hf_test_token_123")
    library().download(MODEL_ID)
    assert hub.gets()[-1].authorization == "Bearer hf_test_token_123"
    assert ("Lanterne", hub.url) in memory_keyring.passwords
    for f in lanterne_home.rglob("*"):  # the token is in the keychain only
        if f.is_file() and f.stat().st_size < 10_000_000:
            assert b"hf_test_token_123" not in f.read_bytes(), f


def test_a_file_gone_from_the_repo_is_explained(hub: Hub, tiny_moe_model: Path) -> None:
    hub.add(REPO, "LFM2-8B-A1B-Q4_K_M-renamed.gguf", tiny_moe_model)
    with pytest.raises(DownloadError, match="no longer exists in LiquidAI/LFM2-8B-A1B-GGUF"):
        library().download(MODEL_ID)


def test_an_unknown_repo_is_explained(hub: Hub) -> None:
    with pytest.raises(DownloadError, match=r"does not exist on .*or it is private"):
        library().download(MODEL_ID)


def test_a_mirror_without_sha256_is_refused(hub: Hub, tiny_moe_model: Path) -> None:
    hub.add(REPO, FILE, tiny_moe_model)
    hub.plain_etag = True
    with pytest.raises(DownloadError, match=r"gives no SHA-256 .* cannot be verified"):
        library().download(MODEL_ID)
    assert not hub.gets()


def test_an_unreachable_hub_is_explained() -> None:
    settings = Settings()
    settings.set("models.hub_url", f"http://127.0.0.1:{free_port()}")
    settings.save()
    refused = r"Cannot connect to http://127\.0\.0\.1:\d+: the connection was refused\. "
    with pytest.raises(DownloadError, match=refused + r".*the models\.hub_url setting"):
        library().download(MODEL_ID)


def test_offline_mode_is_respected(hub: Hub, tiny_moe_model: Path) -> None:
    hub.add(REPO, FILE, tiny_moe_model)
    result = lanterne("models", "download", MODEL_ID, env={"HF_HUB_OFFLINE": "1"})
    assert result.returncode == 1
    assert "offline mode is set (HF_HUB_OFFLINE)" in result.stderr
    assert not hub.log


def test_a_split_model_downloads_every_part(hub: Hub, tiny_moe_model: Path, tmp_path: Path) -> None:
    parts = write_split(tiny_moe_model, tmp_path, stem="Tiny-MoE-Q8_0")
    for part in parts:
        hub.add("test/split-model", part.name, part)
    events: list[Progress] = []
    results = download_files(
        "test/split-model",
        tuple(p.name for p in parts),
        tmp_path / "dest",
        endpoint=hub.url,
        progress=events.append,
    )
    paths = [path for path, _remote in results]
    assert [p.name for p in paths] == [p.name for p in parts]
    assert read_summary(paths[0]).files == tuple(paths)
    assert {(e.part, e.parts) for e in events} == {(1, 2), (2, 2)}
    assert events[-1].done == sum(p.stat().st_size for p in parts) == events[-1].total


def test_downloads_go_through_the_proxy_of_the_environment(hub: Hub, tiny_moe_model: Path) -> None:
    """The hub's host name below resolves nowhere: only the proxy can reach it."""
    served = hub.add(REPO, FILE, tiny_moe_model)
    port = hub.url.rsplit(":", 1)[1]
    settings = Settings()
    settings.set("models.hub_url", f"http://hub.lanterne-test.invalid:{port}")
    settings.save()
    with forward_proxy(hub.url) as (proxy, seen):
        env = {"HTTP_PROXY": proxy, "http_proxy": proxy, "NO_PROXY": "", "no_proxy": ""}
        result = lanterne("models", "download", MODEL_ID, "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert sha256(Path(json.loads(result.stdout)["path"])) == served.sha256
    assert any(s.startswith("GET http://hub.lanterne-test.invalid") for s in seen)


def test_a_token_saved_by_huggingface_cli_in_hf_home_is_used(
    hub: Hub, tiny_moe_model: Path, tmp_path: Path
) -> None:
    """No token in Lanterne's keychain: huggingface-hub's own (HF_HOME/token) still works."""
    hub.add(REPO, FILE, tiny_moe_model)
    hub.gated[REPO] = "hf_from_hf_home"
    hf_home = tmp_path / "hf-home"
    hf_home.mkdir(exist_ok=True)
    (hf_home / "token").write_text("hf_from_hf_home")
    result = lanterne("models", "download", MODEL_ID, env={"HF_HOME": str(hf_home)})
    assert result.returncode == 0, result.stderr
    assert hub.gets()[-1].authorization == "Bearer hf_from_hf_home"
