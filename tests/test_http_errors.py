"""The one ladder from httpx2's failures to sentences (engine/http_errors.py), shared by the
remote chat backend and the model hub's downloads: each kind of failure made for real, against
sockets on this machine, and read back as the sentence and exception class each caller gives."""

from __future__ import annotations

import datetime
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx2
import pytest

from lanterne.engine.http_errors import Failure, HttpFailure, explain, root_cause
from lanterne.engine.hub_download import DownloadError, download_files
from lanterne.engine.remote_errors import (
    MalformedResponseError,
    RemoteError,
    ServerTimeoutError,
    ServerUnreachableError,
    transport_error,
)
from support.remote_server import free_port

Handler = Callable[[socket.socket], object]
CLASSES = {
    Failure.CONNECT_TIMEOUT: ServerTimeoutError,
    Failure.SILENT: ServerTimeoutError,
    Failure.BAD_STREAM: MalformedResponseError,
    Failure.BROKE_OFF: MalformedResponseError,
    Failure.REFUSED: ServerUnreachableError,
    Failure.UNKNOWN_HOST: ServerUnreachableError,
    Failure.UNTRUSTED: ServerUnreachableError,
    Failure.UNREACHABLE: ServerUnreachableError,
    Failure.OTHER: RemoteError,
}


@contextmanager
def tcp_server(handler: Handler) -> Iterator[str]:
    """A server on 127.0.0.1 that hands each connection to `handler`; yields its address."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)  # a closed listener does not wake a blocked accept()
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _address = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn, suppress(OSError):
                handler(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        listener.close()
        thread.join(5)


def reply(raw: bytes) -> Handler:
    def handler(conn: socket.socket) -> None:
        conn.recv(65536)
        conn.sendall(raw)

    return handler


def failure_of(request: Callable[[httpx2.Client], object], url: str) -> HttpFailure:
    """What the ladder says of the real error `request` meets; the remote backend says the same
    with the class of its kind."""
    client = httpx2.Client(timeout=httpx2.Timeout(5.0, connect=2.0), trust_env=False)
    with client, pytest.raises(httpx2.HTTPError) as caught:
        request(client)
    failure = explain(caught.value, url, 60.0)
    remote = transport_error(caught.value, url, 60.0)
    assert type(remote) is CLASSES[failure.kind]
    assert str(remote) == failure.message
    return failure


def test_a_refused_connection() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    failure = failure_of(lambda c: c.get(url + "/v1/models"), url)
    assert failure == HttpFailure(
        Failure.REFUSED,
        f"Cannot connect to {url}: the connection was refused. Is the server running and "
        "listening on that port?",
    )


def test_an_unknown_host_name() -> None:
    url = "http://server.lanterne-test.invalid:8080"
    failure = failure_of(lambda c: c.get(url + "/v1/models"), url)
    assert failure == HttpFailure(
        Failure.UNKNOWN_HOST,
        f"Cannot connect to {url}: the host name is unknown. Check the address.",
    )


def test_a_certificate_this_machine_does_not_trust(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def handshake(conn: socket.socket) -> None:
        with context.wrap_socket(conn, server_side=True):
            pass

    with tcp_server(handshake) as address:
        url = address.replace("http://", "https://")
        failure = failure_of(lambda c: c.get(url + "/v1/models"), url)
    assert failure.kind is Failure.UNTRUSTED
    assert failure.message.startswith(
        f"Cannot connect to {url}: its TLS certificate is not trusted by this machine ("
    )
    assert "CERTIFICATE_VERIFY_FAILED" in failure.message


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="no Unix sockets here")
def test_any_other_failure_to_connect(tmp_path: Path) -> None:
    """Here the socket file is missing: the OS's own words are given."""
    url = "http://localhost:8080"
    transport = httpx2.HTTPTransport(uds=str(tmp_path / "missing.sock"))
    client = httpx2.Client(transport=transport, trust_env=False)
    with client, pytest.raises(httpx2.ConnectError) as caught:
        client.get(url + "/v1/models")
    _close_left_open(caught.value)
    failure = explain(caught.value, url, 60.0)
    assert failure.kind is Failure.UNREACHABLE
    assert failure.message == (
        f"Cannot reach {url}: [Errno 2] No such file or directory. Check the address and the "
        "network."
    )
    assert type(transport_error(caught.value, url, 60.0)) is ServerUnreachableError


def test_a_connection_nobody_accepts_in_time() -> None:
    """A listener whose queue is full drops new connections, as a firewall that drops does."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=0)
    port = listener.getsockname()[1]
    held = []
    try:
        for _ in range(64):  # fill the accept queue until a connection waits
            probe = socket.socket()
            probe.settimeout(0.3)
            try:
                probe.connect(("127.0.0.1", port))
            except TimeoutError:
                probe.close()
                break
            held.append(probe)
        else:
            pytest.skip("this system never lets a connection to a full listener wait")
        url = f"http://127.0.0.1:{port}"
        client = httpx2.Client(timeout=httpx2.Timeout(5.0, connect=0.3), trust_env=False)
        with client, pytest.raises(httpx2.ConnectTimeout) as caught:
            client.get(url + "/v1/models")
    finally:
        for probe in held:
            probe.close()
        listener.close()
    failure = explain(caught.value, url, 60.0)  # the request's 0.3 s, not the caller's 60
    assert failure == HttpFailure(
        Failure.CONNECT_TIMEOUT,
        f"{url} did not accept a connection within 0.3 s. Check the address and that this "
        "machine can reach the server.",
    )
    assert type(transport_error(caught.value, url, 60.0)) is ServerTimeoutError


def test_a_server_that_sends_nothing() -> None:
    release = threading.Event()
    with tcp_server(lambda conn: release.wait(5)) as url:
        try:
            failure = failure_of(
                lambda c: c.get(url + "/v1/models", timeout=httpx2.Timeout(0.2)), url
            )
        finally:
            release.set()
    assert failure == HttpFailure(
        Failure.SILENT,
        f"The server at {url} sent nothing for 0.2 s. It may be overloaded: try again, or allow "
        "it more time.",
    )


def test_a_reply_that_is_not_an_event_stream() -> None:
    plain = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi"

    def events(client: httpx2.Client) -> None:
        with client.stream("POST", url + "/v1/chat/completions") as response:
            list(httpx2.EventSource(response))

    with tcp_server(reply(plain)) as url:
        failure = failure_of(events, url)
    assert failure == HttpFailure(
        Failure.BAD_STREAM,
        f"The server at {url} did not send a valid event stream: Expected response with "
        "content type 'text/event-stream', got 'text/plain'.",
    )


def test_a_connection_that_breaks_off_mid_reply() -> None:
    cut = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 100\r\n\r\nda"
    with tcp_server(reply(cut)) as url:
        failure = failure_of(lambda c: c.get(url + "/v1/chat/completions"), url)
    assert failure.kind is Failure.BROKE_OFF
    assert failure.message.startswith(
        f"The connection to {url} broke off before the reply was complete (peer closed"
    )


def test_a_failure_that_is_not_the_connection() -> None:
    error = b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n"
    with tcp_server(reply(error)) as url:
        failure = failure_of(lambda c: c.get(url + "/v1/models").raise_for_status(), url)
    assert failure.kind is Failure.OTHER
    assert failure.message.startswith(
        f"The request to {url} failed: Server error '500 Internal Server Error'"
    )


def test_the_hub_says_the_same_and_where_its_address_is_set(tmp_path: Path) -> None:
    endpoint = "http://hub.lanterne-test.invalid:8080"
    with pytest.raises(DownloadError) as caught:
        download_files("org/model", ("model.gguf",), tmp_path, endpoint=endpoint)
    assert str(caught.value) == (
        f"Cannot connect to {endpoint}: the host name is unknown. Check the address. An "
        "organisation's mirror is set with HF_ENDPOINT or the models.hub_url setting, a proxy "
        "with HTTPS_PROXY."
    )


def _close_left_open(exc: BaseException) -> None:
    """httpcore2 leaves the socket of a failed Unix-socket connection open: close it."""
    inner = root_cause(exc)
    frame = inner.__traceback__
    while frame is not None:
        for value in frame.tb_frame.f_locals.values():
            if isinstance(value, socket.socket):
                value.close()
        frame = frame.tb_next


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by nobody this machine trusts."""
    crypto = pytest.importorskip("cryptography")
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    assert crypto is not None
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path
