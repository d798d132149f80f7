"""Requests through a real proxy (Debian's tinyproxy) chosen from HTTP(S)_PROXY.

A registry on this machine is never reached through a proxy (as docker and Go do), so the
proxied registry is addressed as `registry.test`: tinyproxy forwards `.test` names to an
upstream CONNECT proxy of the tests' own that connects them to 127.0.0.1 (no DNS, no
traffic off this machine), and the registry's certificate is for that name.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from registry_sdk.authn import Basic
from registry_sdk.errors import check_error
from registry_sdk.transport import Transport
from tests.support.registry import TLS, RunningRegistry, free_port, start_registry

from .conftest import USERS


class Mapper:
    """An upstream CONNECT proxy: `registry.test:PORT` goes to 127.0.0.1:PORT."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port: int = self.sock.getsockname()[1]
        self.connects: list[str] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._tunnel, args=(conn,), daemon=True).start()

    def _tunnel(self, conn: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = conn.recv(4096)
            if not chunk:
                conn.close()
                return
            head += chunk
        target = head.split(b" ", 2)[1].decode()
        self.connects.append(target)
        host, _, port = target.rpartition(":")
        if host != "registry.test":
            conn.sendall(b"HTTP/1.1 403 Forbidden\r\n\r\n")
            conn.close()
            return
        upstream = socket.create_connection(("127.0.0.1", int(port)))
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        for a, b in ((conn, upstream), (upstream, conn)):
            threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            src.close()  # each socket is the source of exactly one pipe

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def mapper() -> Iterator[Mapper]:
    """The upstream CONNECT proxy for `.test` names."""
    m = Mapper()
    yield m
    m.close()


@pytest.fixture
def tinyproxy(tmp_path: Path, mapper: Mapper) -> Iterator[tuple[str, Path]]:
    """tinyproxy on a free loopback port, logging every request, forwarding `.test`
    names to the upstream mapper; stopped by pid."""
    binary = shutil.which("tinyproxy") or "/usr/bin/tinyproxy"
    if not Path(binary).exists():
        if os.environ.get("CI"):
            pytest.fail("tinyproxy missing (scripts/bootstrap installs it)")
        pytest.skip("tinyproxy not installed")
    port, log = free_port(), tmp_path / "tinyproxy.log"
    conf = tmp_path / "tinyproxy.conf"
    conf.write_text(
        f'Port {port}\nListen 127.0.0.1\nTimeout 30\nLogFile "{log}"\n'
        "LogLevel Connect\nAllow 127.0.0.1\nMaxClients 20\n"
        f'Upstream http 127.0.0.1:{mapper.port} ".test"\n'
    )
    proc = subprocess.Popen(
        [binary, "-d", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                proc.wait()
                pytest.fail(f"tinyproxy did not start: {log.read_text() if log.exists() else ''}")
            time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", log
    proc.terminate()
    proc.wait(timeout=10)


def test_https_through_connect_proxy(
    tinyproxy: tuple[str, Path],
    mapper: Mapper,
    ca: tuple[trustme.CA, Path],
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """HTTPS_PROXY sends a TLS registry's traffic through tinyproxy with CONNECT, with
    the certificate verified end to end through the tunnel."""
    proxy, log = tinyproxy
    authority, ca_path = ca
    folder = tmp_path_factory.mktemp("proxied-tls")
    cert = authority.issue_cert("registry.test", "127.0.0.1")  # the second for readiness
    cert.cert_chain_pems[0].write_to_path(str(folder / "cert.pem"))
    cert.private_key_pem.write_to_path(str(folder / "key.pem"))
    reg = start_registry(
        folder / "registry", users=USERS, tls=TLS(folder / "cert.pem", folder / "key.pem", ca_path)
    )
    try:
        monkeypatch.setenv("HTTPS_PROXY", proxy)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        t = Transport(
            f"registry.test:{reg.port}", Basic("alice", USERS["alice"]), ca_certs=str(ca_path)
        )
        resp = t.request("GET", t.url("/v2/_catalog"))
        check_error(resp)
        assert "repositories" in json.loads(resp.data)
        assert f"registry.test:{reg.port}" in mapper.connects
        assert f"registry.test:{reg.port}" in log.read_text(), log.read_text()
    finally:
        reg.stop()


def test_loopback_registries_bypass_the_proxy(
    basic_tls_registry: RunningRegistry,
    tinyproxy: tuple[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With HTTPS_PROXY set, a registry on this machine is still reached directly: a
    proxy never sees a loopback registry's credentials (rule 2)."""
    proxy, log = tinyproxy
    reg = basic_tls_registry
    assert reg.tls is not None
    monkeypatch.setenv("HTTPS_PROXY", proxy)
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    t = Transport(reg.address, Basic("alice", USERS["alice"]), ca_certs=str(reg.tls.ca))
    check_error(t.request("GET", t.url("/v2/_catalog")))
    assert str(reg.port) not in (log.read_text() if log.exists() else "")
