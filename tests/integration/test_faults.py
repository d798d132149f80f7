"""The fault matrix: the real registry and token server behind fault proxies.

Each scenario must end in success after bounded retries, or in a typed error, within
its time bound (a hang is the failure this guards against, not a speed target), and no
secret may appear in any message (the session's secret scanner checks that).
"""

from __future__ import annotations

import time

import attrs
import pytest
import urllib3

from registry_sdk.authn import Basic, StaticKeychain
from registry_sdk.client import Client
from registry_sdk.errors import (
    RegistryError,
    RegistryResponseError,
    TokenExchangeError,
    TransportError,
    TransportTimeout,
)
from registry_sdk.name import Repository
from registry_sdk.transport import Transport
from tests.support.fault_proxy import Fault, FaultProxy
from tests.support.registry import RunningRegistry, free_port, start_registry
from tests.support.seed import image
from tests.support.token_server import USERS, TokenServer

Stack = tuple[RunningRegistry, FaultProxy, FaultProxy, TokenServer]
TIMEOUT = urllib3.Timeout(connect=2.0, read=1.0)
TAGS = "/tags/list"


@attrs.frozen
class Case:
    """One row of the fault matrix."""

    name: str
    side: str  # "registry" or "token"
    faults: tuple[Fault, ...]
    outcome: type[RegistryError] | None  # None: success
    within: float  # seconds
    via: str = "client"  # "client" (streamed reads) or "transport" (preloaded)
    status: int | None = None


def F(kind: str, times: int = 1, **kw: object) -> Fault:  # noqa: N802 (table shorthand)
    return Fault(kind, times=times, **kw)  # type: ignore[arg-type]


JSON = {"Content-Type": "application/json"}
MATRIX = [
    Case(
        "429 with Retry-After once",
        "registry",
        (F("status", status=429, match=TAGS, headers={"Retry-After": "1"}),),
        None,
        8,
    ),
    Case("500 twice", "registry", (F("status", 2, status=500, match=TAGS),), None, 8),
    Case("502 once", "registry", (F("status", status=502, match=TAGS),), None, 6),
    Case(
        "503 persistent",
        "registry",
        (F("status", 99, status=503, match=TAGS),),
        RegistryResponseError,
        20,
        status=503,
    ),
    Case("reset before headers once", "registry", (F("reset", match=TAGS),), None, 6),
    Case(
        "reset before headers persistent",
        "registry",
        (F("reset", 99, match=TAGS),),
        TransportError,
        20,
    ),
    Case(
        "reset after headers, preloaded",
        "registry",
        (F("reset_after_headers", match=TAGS),),
        None,
        6,
        via="transport",
    ),
    Case(
        "reset after headers, streamed",
        "registry",
        (F("reset_after_headers", match=TAGS),),
        TransportError,
        6,
    ),
    Case("truncated body, streamed", "registry", (F("truncate", match=TAGS),), TransportError, 6),
    Case(
        "slower than the read timeout once",
        "registry",
        (F("delay", match=TAGS, seconds=2.5),),
        None,
        10,
    ),
    Case(
        "slower than the read timeout always",
        "registry",
        (F("delay", 99, match=TAGS, seconds=2.5),),
        TransportTimeout,
        25,
    ),
    Case("token server resets", "token", (F("reset", 99),), TransportError, 20),
    Case(
        "token server 500",
        "token",
        (F("status", 99, status=500),),
        TokenExchangeError,
        20,
        status=500,
    ),
    Case(
        "token server garbage",
        "token",
        (F("body", body=b"<html>oops</html>"),),
        TokenExchangeError,
        6,
    ),
    Case(
        "token server huge body",
        "token",
        (F("body", headers=JSON, body=b'{"token":"' + b"x" * (2 * 1024 * 1024) + b'"}'),),
        TokenExchangeError,
        6,
    ),
    Case(
        "token server omits the token",
        "token",
        (F("body", headers=JSON, body=b'{"expires_in": 60}'),),
        TokenExchangeError,
        6,
    ),
    Case("token server slow once", "token", (F("delay", seconds=2.5),), None, 10),
]


@pytest.fixture(scope="module")
def seeded(_faulty_stack: Stack) -> Repository:
    _, registry_proxy, _, _ = _faulty_stack
    repo = Repository.parse(f"{registry_proxy.address}/alice/faults")
    image(
        Transport(registry_proxy.address, Basic("alice", USERS["alice"]), insecure=True), repo, "v1"
    )
    return repo


@pytest.mark.parametrize("case", MATRIX, ids=[c.name for c in MATRIX])
def test_fault_matrix(case: Case, faulty_stack: Stack, seeded: Repository) -> None:
    """Scenario -> outcome -> time bound."""
    _, registry_proxy, token_proxy, _ = faulty_stack
    auth = Basic("alice", USERS["alice"])
    client = Client(
        keychain=StaticKeychain({registry_proxy.address: auth}),
        insecure=[registry_proxy.address],
        timeout=TIMEOUT,
    )
    transport = Transport(registry_proxy.address, auth, insecure=True, timeout=TIMEOUT)

    def operation() -> list[str]:
        if case.via == "transport":
            resp = transport.request("GET", transport.url(f"/v2/{seeded.path}/tags/list"))
            assert resp.status == 200
            tags: list[str] = resp.json()["tags"]
            return tags
        return client.list_tags(seeded)

    if case.side == "registry":
        operation()  # warm: challenge learned, token cached; the fault hits the data path
    (registry_proxy if case.side == "registry" else token_proxy).plan(*case.faults)
    start = time.monotonic()
    if case.outcome is None:
        assert operation() == ["v1"]
    else:
        with pytest.raises(case.outcome) as info:
            operation()
        if case.status is not None:
            assert getattr(info.value, "status", None) == case.status
    elapsed = time.monotonic() - start
    assert elapsed < case.within, f"{case.name} took {elapsed:.1f}s"


def test_token_server_down(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A realm nobody listens on: a typed TransportError, quickly (connection refused)."""
    server = TokenServer(tmp_path_factory.mktemp("down-auth")).start()
    config = {**server.registry_config(), "realm": f"http://127.0.0.1:{free_port()}/token"}
    reg = start_registry(tmp_path_factory.mktemp("down"), token=config)
    try:
        t = Transport(reg.address, Basic("alice", USERS["alice"]), insecure=True, timeout=TIMEOUT)
        start = time.monotonic()
        with pytest.raises(TransportError) as info:
            t.request("GET", t.url("/v2/alice/x/tags/list"))
        assert "cannot connect" in str(info.value)
        assert time.monotonic() - start < 20
    finally:
        reg.stop()
        server.stop()
