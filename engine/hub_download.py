"""Model downloads from the Hugging Face hub (or an IT mirror), resumable and verified.

huggingface-hub does the talking: the metadata request (size, commit, SHA-256), the transfer
with its HTTP client (proxies, `HF_HUB_OFFLINE`, retries and a Range request after a dropped
connection), the token header, and byte counts through a tqdm-like class, which is where
progress and cancel hook in. Lanterne adds what a desktop user needs around it: a partial file
that survives an app restart (huggingface-hub deletes its own), the free-disk check before
starting, every part of a split GGUF, the file's SHA-256 checked against the hub's before the
model is offered, and errors that say what to do.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import httpx2
from huggingface_hub import constants as hf_constants
from huggingface_hub import errors as hf_errors
from huggingface_hub import get_hf_file_metadata, hf_hub_url
from huggingface_hub.file_download import http_get
from huggingface_hub.utils import build_hf_headers  # type: ignore[attr-defined]

from lanterne.engine import http_errors
from lanterne.engine.errors import EngineError
from lanterne.foundation.db_faults import DiskFullError, is_disk_full
from lanterne.foundation.translation import _, format_size

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_DISK_MARGIN = 256 * 1024**2  # leave room for the OS and Lanterne's own files
_HASH_CHUNK = 4 * 1024**2
TRANSFER_CHUNK = 1024**2  # bytes between progress reports and Stop checks while fetching


class DownloadError(EngineError):
    """A download that cannot go on; the message says why and what to do."""


class DownloadCancelledError(DownloadError):
    """The user stopped it; what was fetched stays on disk for a later resume."""


@dataclass(frozen=True)
class Progress:
    file: str
    part: int  # 1-based, of `parts` (split GGUFs)
    parts: int
    stage: str  # "downloading" or "verifying"
    done: int  # bytes of all parts together
    total: int
    speed: float  # bytes per second over the last few seconds
    eta: float | None  # seconds

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0

    def describe(self) -> str:
        """ "1.2 GB of 4.0 GB, 35 MB/s, 2:03 left", for a progress line or a dialog."""
        text = _("{done} of {total}, {speed}/s, {eta} left").format(
            done=format_size(self.done),
            total=format_size(self.total),
            speed=format_size(int(self.speed)),
            eta=format_duration(self.eta),
        )
        if self.stage == "verifying":
            text = _("checking: {progress}").format(progress=text)
        if self.parts > 1:
            text = _("part {part} of {parts}, {progress}").format(
                part=self.part, parts=self.parts, progress=text
            )
        return text


def format_duration(seconds: float | None) -> str:
    """ "2:03", "1:02:03", or "--:--" while unknown."""
    if seconds is None:
        return "--:--"
    whole = int(seconds)
    h, rest = divmod(whole, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


ProgressCallback = Callable[[Progress], None]


@dataclass(frozen=True)
class RemoteFile:
    name: str
    size: int
    sha256: str
    commit: str | None


class _Meter:
    """Turns byte counts from huggingface-hub (or the hashing loop) into `Progress` events."""

    def __init__(
        self, callback: ProgressCallback | None, cancel: threading.Event | None, total: int
    ) -> None:
        self.callback = callback
        self.cancel = cancel
        self.total = total
        self.before = 0  # bytes of the parts already finished
        self.current = 0  # bytes of the current part
        self.file, self.part, self.parts, self.stage = "", 0, 0, "downloading"
        self._samples: list[tuple[float, int]] = []
        self._last_emit = 0.0

    def start(self, file: str, part: int, parts: int, stage: str, initial: int = 0) -> None:
        self.file, self.part, self.parts, self.stage = file, part, parts, stage
        self.current = initial
        self._samples = []
        self._emit(force=True)

    def advance(self, n: int) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise DownloadCancelledError(_("Download cancelled."))
        self.current += n
        self._emit()

    def reached(self, size: int) -> None:
        """The current stage of this part is done: always reported, however recent the last."""
        self.current = size
        self._emit(force=True)

    def finish_part(self, size: int) -> None:
        self.before += size
        self.current = 0

    def _emit(self, force: bool = False) -> None:
        now = time.monotonic()
        done = self.before + self.current
        self._samples.append((now, done))
        self._samples = [s for s in self._samples if now - s[0] <= 5.0]
        if self.callback is None or (not force and now - self._last_emit < 0.1):
            return
        self._last_emit = now
        first_t, first_done = self._samples[0]
        speed = (done - first_done) / (now - first_t) if now > first_t else 0.0
        eta = (self.total - done) / speed if speed > 0 else None
        self.callback(
            Progress(self.file, self.part, self.parts, self.stage, done, self.total, speed, eta)
        )

    def tqdm_class(self) -> type:
        """A class huggingface-hub instantiates as its progress bar (not a tqdm: no output)."""
        meter = self

        class _Bar:
            def __init__(self, *, initial: int = 0, **_kwargs: Any) -> None:
                meter.current = initial
                meter._emit(force=True)

            def update(self, n: int | float | None = 1) -> None:
                meter.advance(int(n or 0))

            def close(self) -> None:
                pass

            def __enter__(self) -> _Bar:
                return self

            def __exit__(self, *exc: object) -> None:
                pass

        return _Bar


def _explain(exc: Exception, repo: str, file: str, endpoint: str) -> DownloadError:
    if isinstance(exc, DownloadError):
        return exc
    if isinstance(exc, hf_errors.GatedRepoError):
        return DownloadError(
            _(
                "{repo} is gated: accept its conditions on the model's page at {endpoint}, then "
                "store a Hugging Face token with `lanterne models token set` (or in Settings)."
            ).format(repo=repo, endpoint=endpoint)
        )
    if isinstance(exc, hf_errors.RepositoryNotFoundError):
        return DownloadError(
            _(
                "The repository {repo} does not exist on {endpoint}, or it is private and needs "
                "a token. The catalog may be out of date: update Lanterne, or import the file."
            ).format(repo=repo, endpoint=endpoint)
        )
    if isinstance(exc, hf_errors.RevisionNotFoundError):
        return DownloadError(
            _("The repository {repo} has no such revision on {endpoint}.").format(
                repo=repo, endpoint=endpoint
            )
        )
    if isinstance(exc, hf_errors.RemoteEntryNotFoundError):
        return DownloadError(
            _(
                "{file} no longer exists in {repo}: the model's authors renamed or removed it. "
                "Update Lanterne for a newer catalog, or download the file yourself and import it."
            ).format(file=file, repo=repo)
        )
    if isinstance(exc, hf_errors.OfflineModeIsEnabled):
        return DownloadError(
            _(
                "Downloads are off: offline mode is set (HF_HUB_OFFLINE). Unset it, or import a "
                "model file you already have."
            )
        )
    if isinstance(exc, hf_errors.HfHubHTTPError):
        status = exc.response.status_code if exc.response is not None else "?"
        return DownloadError(
            _("{endpoint} refused {file} (HTTP {status}).").format(
                endpoint=endpoint, file=file, status=status
            )
        )
    if isinstance(exc, httpx2.HTTPError):  # the same ladder as a chat server's
        failure = http_errors.explain(exc, endpoint, hf_constants.HF_HUB_DOWNLOAD_TIMEOUT)
        if failure.kind is http_errors.Failure.OTHER:
            return DownloadError(failure.message)
        where = _(
            "An organisation's mirror is set with HF_ENDPOINT or the models.hub_url setting, "
            "a proxy with HTTPS_PROXY."
        )
        return DownloadError(f"{failure.message} {where}")
    if isinstance(exc, OSError):
        if exc.errno == 28:  # ENOSPC
            return DownloadError(
                _(
                    "The disk filled up while downloading {file}. Free some space and try again: "
                    "the download resumes where it stopped."
                ).format(file=file)
            )
        where = exc.filename or ""
        return DownloadError(
            _("Cannot write the model file {path}: {reason}.").format(
                path=where, reason=exc.strerror or exc
            )
        )
    return DownloadError(str(exc))


def remote_files(
    repo: str, files: tuple[str, ...], revision: str, *, endpoint: str, token: str | None
) -> list[RemoteFile]:
    """Size and SHA-256 of each file, from the hub's metadata (a HEAD request each)."""
    found = []
    for name in files:
        try:
            url = hf_hub_url(repo, name, revision=revision, endpoint=endpoint)
            meta = get_hf_file_metadata(url, token=token, endpoint=endpoint)
        except Exception as exc:
            raise _explain(exc, repo, name, endpoint) from exc
        sha = (meta.etag or "").lower()
        if not _SHA256.match(sha) or meta.size is None:
            raise DownloadError(
                _(
                    "{endpoint} gives no SHA-256 for {file}, so it cannot be verified; Lanterne "
                    "does not offer unverified models. Ask your mirror's administrator to pass "
                    "the hub's X-Linked-Etag header through."
                ).format(endpoint=endpoint, file=name)
            )
        found.append(RemoteFile(name, meta.size, sha, meta.commit_hash))
    return found


def partial_path(dest: Path, remote: RemoteFile) -> Path:
    """Where the bytes of an unfinished download wait, named by content so that a newer
    upload of the same file name never continues an older one's bytes."""
    return dest / ".partial" / f"{remote.sha256}.part"


def _arrived(path: Path, remote: RemoteFile) -> bool:
    """Whether `path` is complete by size (its content is checked separately)."""
    return path.exists() and path.stat().st_size == remote.size


def check_disk_space(dest: Path, files: list[RemoteFile]) -> None:
    needed = 0
    for f in files:
        if _arrived(dest / f.name, f):
            continue
        partial = partial_path(dest, f)
        needed += f.size - (partial.stat().st_size if partial.exists() else 0)
    if needed <= 0:
        return
    free = shutil.disk_usage(dest).free
    if free < needed + _DISK_MARGIN:
        raise DownloadError(
            _(
                "Not enough disk space in {folder}: the download needs {need} more and {free} is "
                "free. Free some space or choose another models folder in Settings."
            ).format(folder=dest, need=format_size(needed + _DISK_MARGIN), free=format_size(free))
        )


def _disk_filled(dest: Path, files: list[RemoteFile], name: str) -> DownloadError:
    """The disk filled up during the transfer: the folder, the room the next try wants (what
    is still to fetch, and the margin check_disk_space keeps), and that nothing is lost."""
    needed = _DISK_MARGIN
    for f in files:
        partial = partial_path(dest, f)
        try:
            if not _arrived(dest / f.name, f):
                needed += f.size - (partial.stat().st_size if partial.exists() else 0)
        except OSError:  # the estimate is a help, never a second failure
            needed = 0
            break
    what_now = _(
        "The download of {file} stopped; what arrived is kept. Download it again once there is "
        "room: it resumes where it stopped."
    ).format(file=name)
    return DownloadError(str(DiskFullError(dest, needed or None, what_now)))


def file_sha256(path: Path, meter: _Meter | None = None) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_HASH_CHUNK):
            digest.update(chunk)
            if meter is not None:
                meter.advance(len(chunk))
    return digest.hexdigest()


def _make_dest(dest: Path) -> None:
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(
            _("Cannot create the models folder {path}: {reason}.").format(
                path=dest, reason=exc.strerror or exc
            )
        ) from exc


def _fetch(
    repo: str, f: RemoteFile, dest: Path, *, endpoint: str, token: str | None, meter: _Meter
) -> Path:
    """Download one file into `dest`, continuing from the bytes an earlier attempt left.

    huggingface-hub's own download retries a dropped connection but deletes its temporary file
    when the process stops; keeping the partial file here makes a restart resume too. The
    transfer itself is huggingface-hub's `http_get` (its HTTP client, proxies, retries, Range).
    """
    target = dest / f.name
    partial = partial_path(dest, f)
    partial.parent.mkdir(parents=True, exist_ok=True)
    done = partial.stat().st_size if partial.exists() else 0
    if done > f.size:  # not a prefix of this file: start again
        partial.unlink()
        done = 0
    if done < f.size:
        # huggingface-hub reads 10 MB at a time, and progress and Stop are seen only between
        # reads: on a 1 MB/s office line that is a frozen bar and a Stop that waits 10 s.
        hf_constants.DOWNLOAD_CHUNK_SIZE = TRANSFER_CHUNK
        url = hf_hub_url(repo, f.name, revision=f.commit or "main", endpoint=endpoint)
        with partial.open("ab") as out:
            http_get(
                url,
                out,
                resume_size=done,
                headers=build_hf_headers(token=token),
                expected_size=f.size,
                tqdm_class=cast(Any, meter.tqdm_class()),
            )
    target.parent.mkdir(parents=True, exist_ok=True)
    partial.replace(target)
    return target


def download_files(
    repo: str,
    files: tuple[str, ...],
    dest: Path,
    *,
    revision: str = "main",
    endpoint: str,
    token: str | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    verified: Callable[[Path, RemoteFile], bool] | None = None,
) -> list[tuple[Path, RemoteFile]]:
    """Fetch `files` of `repo` into `dest`, verify each, return (path, what the hub said).

    A file already in `dest` is kept if its SHA-256 matches (`verified(path, remote)`, asked
    only of a file of the right size, lets the caller vouch for one it checked before, to skip
    re-hashing gigabytes). A file whose
    SHA-256 differs from the hub's is deleted and the download fails.
    """
    _make_dest(dest)
    remote = remote_files(repo, files, revision, endpoint=endpoint, token=token)
    check_disk_space(dest, remote)
    meter = _Meter(progress, cancel, total=sum(f.size for f in remote))
    results = []
    for part, f in enumerate(remote, start=1):
        local = dest / f.name
        arrived = _arrived(local, f)
        if arrived and verified is not None and verified(local, f):
            meter.finish_part(f.size)
            results.append((local, f))
            continue
        if not arrived:
            meter.start(f.name, part, len(remote), "downloading")
            try:
                local = _fetch(repo, f, dest, endpoint=endpoint, token=token, meter=meter)
            except Exception as exc:
                if is_disk_full(exc):
                    raise _disk_filled(dest, remote, f.name) from exc
                raise _explain(exc, repo, f.name, endpoint) from exc
            meter.reached(f.size)
        meter.start(f.name, part, len(remote), "verifying")
        try:
            actual = file_sha256(local, meter)
        except OSError as exc:
            raise _explain(exc, repo, f.name, endpoint) from exc
        if actual != f.sha256:
            local.unlink(missing_ok=True)
            raise DownloadError(
                _(
                    "{file} arrived damaged (its SHA-256 is {actual}, the hub says "
                    "{expected}) and was deleted. Try the download again; if it fails "
                    "again, the mirror or a proxy is altering the file."
                ).format(file=f.name, actual=actual[:16] + "…", expected=f.sha256[:16] + "…")
            )
        meter.reached(f.size)
        meter.finish_part(f.size)
        results.append((local, f))
    return results
