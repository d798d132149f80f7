"""Requests through a real proxy (Debian's tinyproxy) chosen from HTTP(S)_PROXY."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from registry_sdk.authn import Basic
from registry_sdk.errors import check_error
from registry_sdk.name import Repository
from registry_sdk.transport import Transport
from tests.support.registry import RunningRegistry, free_port

from .conftest import USERS


@pytest.fixture
def tinyproxy(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """tinyproxy on a free loopback port, logging every request; stopped by pid."""
    binary = shutil.which("tinyproxy") or "/usr/bin/tinyproxy"
    if not Path(binary).exists():
        if os.environ.get("CI"):
            pytest.fail("tinyproxy missing (scripts/bootstrap installs it)")
        pytest.skip("tinyproxy not installed")
    port, log = free_port(), tmp_path / "tinyproxy.log"
    conf = tmp_path / "tinyproxy.conf"
    conf.write_text(f"Port {port}\nListen 127.0.0.1\nTimeout 30\nLogFile \"{log}\"\n"
                    "LogLevel Connect\nAllow 127.0.0.1\nMaxClients 20\n")
    proc = subprocess.Popen([binary, "-d", "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
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
    basic_tls_registry: RunningRegistry, tinyproxy: tuple[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """HTTPS_PROXY sends the TLS registry's traffic through CONNECT; NO_PROXY bypasses."""
    proxy, log = tinyproxy
    reg = basic_tls_registry
    assert reg.tls is not None
    monkeypatch.setenv("HTTPS_PROXY", proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    target = Repository.parse(f"{reg.address}/proxied/app")
    t = Transport(target.registry, Basic("alice", USERS["alice"]), ca_certs=str(reg.tls.ca))
    resp = t.request("GET", t.url("/v2/_catalog"))
    check_error(resp)
    assert "repositories" in json.loads(resp.data)
    connects = log.read_text().count(f"CONNECT 127.0.0.1:{reg.port}")
    assert connects >= 1, log.read_text()
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    direct = Transport(target.registry, Basic("alice", USERS["alice"]), ca_certs=str(reg.tls.ca))
    check_error(direct.request("GET", direct.url("/v2/_catalog")))
    assert log.read_text().count(f"CONNECT 127.0.0.1:{reg.port}") == connects
