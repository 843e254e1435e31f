"""A local HTTP server speaking the part of the Hugging Face hub protocol downloads use.

huggingface-hub's `hf_hub_download` and `get_hf_file_metadata` go to
`{endpoint}/{repo}/resolve/{revision}/{file}`: a HEAD for the metadata (`X-Repo-Commit`,
`X-Linked-Etag` = the file's SHA-256, `X-Linked-Size`), then a GET, with a `Range` header when
resuming. Errors carry `X-Error-Code` (GatedRepo, RepoNotFound, EntryNotFound). This server
does that over real files, and can misbehave on purpose: drop the connection part-way, send
altered bytes, require a token, advertise a huge size.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

COMMIT = "4f1c0de5a7b9c2e3d4f5a6b7c8d9e0f1a2b3c4d5"
_RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<file>.+)$")
_CHUNK = 1024 * 1024


@dataclass
class HubFile:
    path: Path
    sha256: str
    size: int


@dataclass
class Request:
    method: str
    path: str
    range: str | None
    authorization: str | None


@dataclass
class Hub:
    """What the server serves and how it misbehaves; tests change it between requests."""

    repos: dict[str, dict[str, HubFile]] = field(default_factory=dict)
    gated: dict[str, str] = field(default_factory=dict)  # repo -> the token it wants
    drop_after: int | None = None  # the next GET stops after this many bytes
    corrupt: bool = False  # flip a byte in every GET's body
    advertised_size: int | None = None  # claim this size in the metadata
    plain_etag: bool = False  # a mirror that drops X-Linked-Etag: no SHA-256 to check against
    rate: int | None = None  # bytes per second a GET's body is sent at (a real line's speed)
    gate: threading.Event | None = None  # a GET's body waits until it is set
    log: list[Request] = field(default_factory=list)
    served_bytes: int = 0
    url: str = ""

    def add(self, repo: str, name: str, path: Path) -> HubFile:
        digest = hashlib.sha256()
        with path.open("rb") as f:
            while chunk := f.read(_CHUNK):
                digest.update(chunk)
        entry = HubFile(path, digest.hexdigest(), path.stat().st_size)
        self.repos.setdefault(repo, {})[name] = entry
        return entry

    def gets(self) -> list[Request]:
        return [r for r in self.log if r.method == "GET"]


class _Quiet(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass  # the tests read `Hub.log`, not stderr


class _Handler(_Quiet):
    hub: Hub

    def _error(self, status: int, code: str, message: str) -> None:
        body = f'{{"error": "{message}"}}'.encode()
        self.send_response(status)
        self.send_header("X-Error-Code", code)
        self.send_header("X-Error-Message", message)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command == "GET":
            self.wfile.write(body)

    def _resolve(self) -> HubFile | None:
        hub = self.hub
        hub.log.append(
            Request(
                self.command,
                self.path,
                self.headers.get("Range"),
                self.headers.get("Authorization"),
            )
        )
        match = _RESOLVE.match(self.path.split("?")[0])
        if match is None:
            self._error(404, "RepoNotFound", "Not found")
            return None
        repo, name = match["repo"], match["file"]
        if repo not in hub.repos:
            self._error(401, "RepoNotFound", "Repository not found")
            return None
        wanted = hub.gated.get(repo)
        if wanted is not None and self.headers.get("Authorization") != f"Bearer {wanted}":
            self._error(401, "GatedRepo", "Access to this model is restricted")
            return None
        entry = hub.repos[repo].get(name)
        if entry is None:
            self._error(404, "EntryNotFound", "Entry not found")
            return None
        return entry

    def _headers(self, entry: HubFile, status: int, length: int, extra: dict[str, str]) -> None:
        size = self.hub.advertised_size or entry.size
        self.send_response(status)
        self.send_header("X-Repo-Commit", COMMIT)
        if self.hub.plain_etag:
            self.send_header("ETag", f'"{entry.sha256[:20]}"')
        else:
            self.send_header("ETag", f'"{entry.sha256}"')
            self.send_header("X-Linked-Etag", f'"{entry.sha256}"')
        self.send_header("X-Linked-Size", str(size))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(length))
        for key, value in extra.items():
            self.send_header(key, value)
        self.end_headers()

    def do_HEAD(self) -> None:
        entry = self._resolve()
        if entry is not None:
            self._headers(entry, 200, self.hub.advertised_size or entry.size, {})

    def do_GET(self) -> None:
        entry = self._resolve()
        if entry is None:
            return
        start = 0
        requested = self.headers.get("Range")
        if requested and (m := re.match(r"bytes=(\d+)-", requested)):
            start = int(m.group(1))
        length = entry.size - start
        if start:
            extra = {"Content-Range": f"bytes {start}-{entry.size - 1}/{entry.size}"}
            self._headers(entry, 206, length, extra)
        else:
            self._headers(entry, 200, length, {})
        limit, self.hub.drop_after = self.hub.drop_after, None
        if self.hub.gate is not None:
            self.hub.gate.wait()
        rate = self.hub.rate
        piece = _CHUNK if rate is None else max(1024, min(_CHUNK, rate // 20))
        began, sent = time.monotonic(), 0
        with entry.path.open("rb") as f:
            f.seek(start)
            while chunk := f.read(piece):
                if rate is not None:  # sleep until the bytes sent so far are on schedule
                    time.sleep(max(0.0, began + sent / rate - time.monotonic()))
                if self.hub.corrupt and sent == 0:
                    chunk = bytes([chunk[0] ^ 0xFF]) + chunk[1:]
                if limit is not None and sent + len(chunk) > limit:
                    chunk = chunk[: limit - sent]
                try:
                    self.wfile.write(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    return  # the client went away (cancelled): fine
                sent += len(chunk)
                self.hub.served_bytes += len(chunk)
                if limit is not None and sent >= limit:
                    self.close_connection = True
                    self.wfile.flush()
                    self.connection.shutdown(2)  # drop the connection mid-file
                    return


@contextmanager
def hub_server() -> Iterator[Hub]:
    """A running hub on 127.0.0.1 (its address in `hub.url`), stopped on exit."""
    hub = Hub()
    handler = type("Handler", (_Handler,), {"hub": hub})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class _ProxyHandler(_Quiet):
    """A forward HTTP proxy: absolute-URI requests for any host go to one target server."""

    target: tuple[str, int]
    seen: list[str]

    def _forward(self) -> None:
        import http.client
        from urllib.parse import urlsplit

        self.seen.append(f"{self.command} {self.path}")
        url = urlsplit(self.path)
        upstream = http.client.HTTPConnection(*self.target, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "proxy-connection"}
        upstream.request(
            self.command, url.path + (f"?{url.query}" if url.query else ""), headers=headers
        )
        response = upstream.getresponse()
        self.send_response(response.status)
        for key, value in response.getheaders():
            if key.lower() not in ("connection", "transfer-encoding"):
                self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            while chunk := response.read(_CHUNK):
                self.wfile.write(chunk)
        upstream.close()

    do_GET = _forward  # noqa: N815 - http.server's naming
    do_HEAD = _forward  # noqa: N815 - http.server's naming


@contextmanager
def forward_proxy(target_url: str) -> Iterator[tuple[str, list[str]]]:
    """A proxy on 127.0.0.1 sending every request to `target_url`; (its URL, requests seen)."""
    from urllib.parse import urlsplit

    target = urlsplit(target_url)
    seen: list[str] = []
    handler = type(
        "Proxy", (_ProxyHandler,), {"target": (target.hostname, target.port), "seen": seen}
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
