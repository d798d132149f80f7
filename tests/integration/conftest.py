"""Fixtures that start real registries (and stop them by pid)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from tests.support.fault_proxy import FaultProxy
from tests.support.registry import TLS, RunningRegistry, start_registry
from tests.support.token_server import TokenServer

USERS = {"alice": "alice-SECRET-pw", "bob": "bob-SECRET-pw"}


@pytest.fixture(scope="session")
def ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, Path]:
    """A private CA (trustme) and its PEM file."""
    authority = trustme.CA()
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    authority.cert_pem.write_to_path(str(path))
    return authority, path


@pytest.fixture(scope="session")
def tls_files(ca: tuple[trustme.CA, Path], tmp_path_factory: pytest.TempPathFactory) -> TLS:
    """A server certificate for 127.0.0.1 / localhost signed by the private CA."""
    authority, ca_path = ca
    cert = authority.issue_cert("127.0.0.1", "localhost", "::1")
    folder = tmp_path_factory.mktemp("tls")
    cert.cert_chain_pems[0].write_to_path(str(folder / "cert.pem"))
    for extra in cert.cert_chain_pems[1:]:
        extra.write_to_path(str(folder / "cert.pem"), append=True)
    cert.private_key_pem.write_to_path(str(folder / "key.pem"))
    return TLS(folder / "cert.pem", folder / "key.pem", ca_path)


@pytest.fixture(scope="session")
def open_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    """A registry with no authentication."""
    reg = start_registry(tmp_path_factory.mktemp("open"))
    yield reg
    reg.stop()


@pytest.fixture(scope="session")
def basic_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    """A registry with htpasswd (bcrypt) basic auth, users alice and bob."""
    reg = start_registry(tmp_path_factory.mktemp("basic"), users=USERS)
    yield reg
    reg.stop()


@pytest.fixture(scope="session")
def basic_tls_registry(
    tmp_path_factory: pytest.TempPathFactory, tls_files: TLS
) -> Iterator[RunningRegistry]:
    """A registry with htpasswd basic auth over TLS with a private CA."""
    reg = start_registry(tmp_path_factory.mktemp("basic-tls"), users=USERS, tls=tls_files)
    yield reg
    reg.stop()


@pytest.fixture(scope="session")
def _token_stack(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[RunningRegistry, TokenServer]]:
    root = tmp_path_factory.mktemp("token")
    server = TokenServer(root / "auth").start()
    reg = start_registry(root / "registry", token=server.registry_config())
    yield reg, server
    reg.stop()
    server.stop()


@pytest.fixture
def token_stack(
    _token_stack: tuple[RunningRegistry, TokenServer],
) -> tuple[RunningRegistry, TokenServer]:
    """A registry in token mode with the tests' token server; switches reset per test."""
    reg, server = _token_stack
    server.lifetime, server.jwt_skew, server.refuse_get, server.refuse_post = 300, 0, False, 0
    server.log.clear()
    return reg, server


@pytest.fixture(scope="session")
def _faulty_stack(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[RunningRegistry, FaultProxy, FaultProxy, TokenServer]]:
    root = tmp_path_factory.mktemp("faulty")
    server = TokenServer(root / "auth").start()
    token_proxy = FaultProxy(("127.0.0.1", server.port)).start()
    config = {**server.registry_config(), "realm": f"http://{token_proxy.address}/token"}
    reg = start_registry(root / "registry", token=config)
    registry_proxy = FaultProxy((reg.host, reg.port)).start()
    yield reg, registry_proxy, token_proxy, server
    registry_proxy.stop()
    reg.stop()
    token_proxy.stop()
    server.stop()


@pytest.fixture
def faulty_stack(
    _faulty_stack: tuple[RunningRegistry, FaultProxy, FaultProxy, TokenServer],
) -> tuple[RunningRegistry, FaultProxy, FaultProxy, TokenServer]:
    """The real registry (token mode) and token server, each behind a fault proxy whose
    plan is emptied for every test."""
    _, registry_proxy, token_proxy, server = _faulty_stack
    registry_proxy.plan()
    token_proxy.plan()
    server.log.clear()
    return _faulty_stack


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty HOME for the keychain: no DOCKER_CONFIG, auth file or runtime dir."""
    for name in (
        "DOCKER_CONFIG",
        "REGISTRY_AUTH_FILE",
        "XDG_RUNTIME_DIR",
        "XDG_CONFIG_HOME",
        "DOCKER_AUTH_CONFIG",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path
