"""Loopback registries work with no flag (issue 10): https first, plain http when the
handshake shows the server speaks it, remembered per Client; never a downgrade when a
certificate merely fails to verify, and never for any other host."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from registry_sdk import client as client_module
from registry_sdk.authn import Basic, DefaultKeychain, StaticKeychain
from registry_sdk.cli import main
from registry_sdk.client import Client, set_default_client
from registry_sdk.errors import TransportError, check_error
from registry_sdk.name import Repository
from registry_sdk.transport import Transport
from tests.support.registry import RunningRegistry
from tests.support.seed import image
from tests.support.token_server import USERS, TokenServer

from .conftest import USERS as BASIC_USERS

Stack = tuple[RunningRegistry, TokenServer]
ALICE = Basic("alice", USERS["alice"])


def seeded(reg: RunningRegistry, path: str, creds: Basic = ALICE) -> Repository:
    repo = Repository.parse(f"{reg.address}/{path}")
    image(Transport(reg.address, creds, insecure=True), repo, "v1")
    return repo


@pytest.fixture
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A DOCKER_CONFIG (and HOME) the default keychain reads, and no default client."""
    for name in ("REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "DOCKER_AUTH_CONFIG", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    set_default_client(None)
    yield tmp_path
    set_default_client(None)


def store(config: Path, address: str, user: str, password: str) -> None:
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    (config / "config.json").write_text(json.dumps({"auths": {address: {"auth": auth}}}))


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_token_mode_sugar_client_transport_and_cli(
    token_stack: Stack,
    docker_config: Path,
    host: str,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A plain-http token-auth registry on loopback: the sugar, Client, Transport and the
    CLI all work with no insecure flag, by 127.0.0.1 and by localhost (the realm is on
    127.0.0.1 either way: one machine)."""
    reg, _ = token_stack
    seeded(reg, "alice/loop")
    address = f"{host}:{reg.port}"
    store(docker_config, address, "alice", USERS["alice"])
    repo = Repository.parse(f"{address}/alice/loop")
    caplog.set_level(logging.DEBUG, logger="registry_sdk")
    assert repo.tags() == ["v1"]
    switches = [r for r in caplog.records if "answers in plain http" in r.getMessage()]
    assert len(switches) == 1  # learned once, then remembered by the default client
    assert repo.get_manifest("v1").digest.startswith("sha256:")
    assert len([r for r in caplog.records if "answers in plain http" in r.getMessage()]) == 1

    with Client() as client:
        assert client.list_tags(repo) == ["v1"]
        assert client.transport(repo).base_url == f"http://{address}"

    t = Transport(address, ALICE, [repo.scope("pull")])
    resp = t.request("GET", t.url(f"/v2/{repo.path}/tags/list"))
    check_error(resp)
    assert resp.json()["tags"] == ["v1"]

    # An explicit http:// URL and no insecure flag: the realm (http, on 127.0.0.1) is
    # compared with the scheme the registry answered on.
    t2 = Transport(address, ALICE)
    resp = t2.request("GET", f"http://{address}/v2/{repo.path}/tags/list")
    check_error(resp)

    assert main(["tags", f"{address}/alice/loop"]) == 0
    assert capsys.readouterr().out.split() == ["v1"]


def test_basic_mode_with_no_flag(basic_registry: RunningRegistry) -> None:
    """A plain-http htpasswd registry on loopback, through Client with no insecure flag."""
    creds = Basic("alice", BASIC_USERS["alice"])
    seeded(basic_registry, "team/app", creds)
    keychain = StaticKeychain({basic_registry.address: creds})
    with Client(keychain=keychain) as client:
        assert client.list_tags(f"{basic_registry.address}/team/app") == ["v1"]


def test_tls_loopback_keeps_https(basic_tls_registry: RunningRegistry) -> None:
    """A TLS registry on loopback stays on https (its CA given)."""
    reg = basic_tls_registry
    creds = Basic("alice", BASIC_USERS["alice"])
    keychain = StaticKeychain({reg.address: creds})
    assert reg.tls is not None
    with Client(keychain=keychain, ca_certs=str(reg.tls.ca)) as client:
        repo = Repository.parse(f"{reg.address}/team/tls")
        t = client.transport(repo)
        image(Transport(reg.address, creds, ca_certs=str(reg.tls.ca)), repo, "v1")
        assert client.list_tags(repo) == ["v1"]
        assert t.base_url == f"https://{reg.address}"


def test_tls_loopback_without_its_ca_is_a_tls_error(
    basic_tls_registry: RunningRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    """Without the CA the certificate fails to verify: a TLS error, and no plain http."""
    reg = basic_tls_registry
    caplog.set_level(logging.DEBUG, logger="registry_sdk")
    with Client(keychain=StaticKeychain({})) as client, pytest.raises(TransportError) as info:
        client.list_tags(f"{reg.address}/team/tls")
    assert "TLS failed" in str(info.value)
    assert "https://" in info.value.url
    assert not [r for r in caplog.records if "plain http" in r.getMessage()]
    assert not [r for r in caplog.records if "http://" in r.getMessage()]


def test_set_default_client_configures_the_sugar(basic_tls_registry: RunningRegistry) -> None:
    """set_default_client gives the sugar a CA bundle and a keychain; None resets it."""
    reg = basic_tls_registry
    assert reg.tls is not None
    creds = Basic("alice", BASIC_USERS["alice"])
    repo = Repository.parse(f"{reg.address}/team/default")
    image(Transport(reg.address, creds, ca_certs=str(reg.tls.ca)), repo, "v1")
    mine = Client(keychain=StaticKeychain({reg.address: creds}), ca_certs=str(reg.tls.ca))
    set_default_client(mine)
    try:
        assert client_module.default_client() is mine
        assert repo.tags() == ["v1"]
    finally:
        set_default_client(None)
        mine.close()
    assert client_module.default_client() is not mine
    set_default_client(None)


def test_keychain_credentials_only_from_the_keychain(
    token_stack: Stack, docker_config: Path
) -> None:
    """DefaultKeychain reads localhost and 127.0.0.1 keys separately (as docker does)."""
    reg, _ = token_stack
    store(docker_config, f"localhost:{reg.port}", "alice", USERS["alice"])
    found = DefaultKeychain().resolve(Repository.parse(f"localhost:{reg.port}/alice/x"))
    assert found.authorization().username == "alice"
