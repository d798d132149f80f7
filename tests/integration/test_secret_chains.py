"""Security rule 7: no error path of the transport carries a secret anywhere.

Each case sends a request whose URL carries a pre-signed storage URL's secret query
values (the way a blob redirect does) into a failure, and scans the raised exception: its
message, repr, attributes, every chained __cause__/__context__, and the traceback a
user's log would show. The servers here are small fakes on 127.0.0.1, for what a real
registry cannot show (refused connections, resets, stalls, broken bodies, bad TLS).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import trustme
import urllib3

from registry_sdk.authn import Basic
from registry_sdk.client import Client
from registry_sdk.errors import RegistryError
from registry_sdk.transport import Transport
from tests.support.fake import FakeServer, Seen
from tests.support.registry import free_port
from tests.support.secrets import exception_leaks, formatted_traceback

SIGNATURE = "sig-" + "SECRET" + "-0123456789abcdef"
QUERY = f"?X-Amz-Credential=AKIA-{'SECRET'}&X-Amz-Signature={SIGNATURE}&sig={SIGNATURE}"
FAST = urllib3.Timeout(connect=1.0, read=0.5)
NO_RETRY = urllib3.Retry(total=0, redirect=False, raise_on_status=False)


@contextmanager
def raw_server(handle: Callable[[socket.socket], None]) -> Iterator[int]:
    """A TCP server on 127.0.0.1 whose every connection *handle* serves (in a thread)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    stop = threading.Event()

    def loop() -> None:
        sock.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            with conn:
                try:
                    conn.recv(65536)
                    handle(conn)
                except OSError:
                    pass

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        sock.close()


def reset(conn: socket.socket) -> None:
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")


def partial_body(conn: socket.socket) -> None:
    conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{"tags": [')


def stall(conn: socket.socket) -> None:
    time.sleep(1.5)


def assert_clean(exc: BaseException) -> None:
    leaks = exception_leaks(exc)
    assert not leaks, leaks
    assert "SECRET" not in formatted_traceback(exc)
    assert "REDACTED" in str(exc) or "X-Amz" not in str(exc)


def transport(port: int) -> Transport:
    return Transport(
        f"127.0.0.1:{port}", Basic("alice", "pw-" + "SECRET"), timeout=FAST, retries=NO_RETRY
    )


@pytest.mark.parametrize(
    ("name", "handler", "preload"),
    [
        ("reset before headers", reset, True),
        ("broken body, preloaded", partial_body, True),
        ("stalled past the read timeout", stall, True),
    ],
)
def test_transport_failures_carry_no_secret(
    name: str, handler: Callable[[socket.socket], None], preload: bool
) -> None:
    """Resets, broken bodies and timeouts: typed errors with nothing secret in them."""
    with raw_server(handler) as port:
        t = transport(port)
        with pytest.raises(RegistryError) as info:
            t.request(
                "GET",
                f"http://127.0.0.1:{port}/v2/a/blobs/sha256:x{QUERY}",
                preload_content=preload,
            )
    assert_clean(info.value)


def test_refused_connection_carries_no_secret() -> None:
    """Connection refused."""
    port = free_port()
    with pytest.raises(RegistryError) as info:
        transport(port).request("GET", f"http://127.0.0.1:{port}/v2/a/tags/list{QUERY}")
    assert_clean(info.value)


def test_untrusted_tls_carries_no_secret(tmp_path: Path) -> None:
    """A certificate that fails to verify."""
    import ssl

    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    with FakeServer(fallback=lambda s: (200, {}, b"{}"), ssl_context=context) as fake:
        t = Transport(
            fake.address, Basic("alice", "pw-" + "SECRET"), timeout=FAST, retries=NO_RETRY
        )
        with pytest.raises(RegistryError) as info:
            t.request("GET", f"https://{fake.address}/v2/a/tags/list{QUERY}")
    assert_clean(info.value)


def test_redirect_to_dead_storage_carries_no_secret() -> None:
    """A blob redirect to a pre-signed URL on a host that refuses: the error names the
    storage URL with its signature redacted, and chains nothing that shows it."""
    dead = free_port()

    def blob(_: Seen) -> tuple[int, dict[str, str], bytes]:
        return 307, {"Location": f"http://127.0.0.1:{dead}/bucket/blob{QUERY}"}, b""

    with FakeServer(fallback=blob) as fake:
        client = Client(keychain=None, timeout=FAST, retries=NO_RETRY)
        digest = "sha256:" + "a" * 64
        with (
            pytest.raises(RegistryError) as info,
            client.get_blob(f"{fake.address}/a@{digest}") as reader,
        ):
            b"".join(reader)
    assert_clean(info.value)


def test_broken_blob_body_from_storage_carries_no_secret() -> None:
    """The storage host breaks the body half-way: BlobReader's error is clean."""
    with raw_server(partial_body) as storage:

        def blob(_: Seen) -> tuple[int, dict[str, str], bytes]:
            return 307, {"Location": f"http://127.0.0.1:{storage}/b{QUERY}"}, b""

        with FakeServer(fallback=blob) as fake:
            client = Client(timeout=FAST, retries=NO_RETRY)
            digest = "sha256:" + "b" * 64
            with (
                pytest.raises(RegistryError) as info,
                client.get_blob(f"{fake.address}/a@{digest}") as reader,
            ):
                b"".join(reader)
    assert_clean(info.value)


def test_token_server_failure_carries_no_secret() -> None:
    """A realm whose query carries a secret, answering garbage: the TokenExchangeError
    keeps the realm redacted and chains no decode error holding the body."""

    def token(_: Seen) -> tuple[int, dict[str, str], bytes]:
        return 200, {}, b"not json token-" + b"SECRET"

    with FakeServer(routes={("GET", "/token"): token}) as auth:
        realm = f"http://{auth.address}/token{QUERY}"

        def challenge(_: Seen) -> tuple[int, dict[str, str], bytes]:
            return 401, {"WWW-Authenticate": f'Bearer realm="{realm}",service="s"'}, b""

        with FakeServer(fallback=challenge) as reg:
            t = Transport(reg.address, Basic("alice", "pw-" + "SECRET"), timeout=FAST)
            with pytest.raises(RegistryError) as info:
                t.request("GET", f"http://{reg.address}/v2/a/tags/list")
    assert_clean(info.value)
