"""Hostile servers: each security rule of DESIGN.md against a server trying to break it.

Fakes are used where a real registry cannot misbehave this way (hostile challenges,
oversized error bodies); the blob redirect goes through the real registry and token
server behind the fault proxy. pytest-socket (--allow-hosts=127.0.0.1,::1) is the safety
net: were a rule broken, a connection to a non-loopback address would fail loudly
instead of leaving the machine.
"""

from __future__ import annotations

import hashlib
import json
import ssl

import pytest
import trustme

from registry_sdk.authn import Basic, StaticKeychain
from registry_sdk.client import Client
from registry_sdk.errors import RegistryResponseError, SecurityError
from registry_sdk.name import Repository
from registry_sdk.transport import Transport
from tests.support.fake import FakeServer, Seen
from tests.support.fault_proxy import Fault, FaultProxy
from tests.support.registry import RunningRegistry
from tests.support.seed import push_blob
from tests.support.token_server import USERS, TokenServer

Stack = tuple[RunningRegistry, FaultProxy, FaultProxy, TokenServer]
PASSWORD = "hostile-SECRET-pw"


def test_blob_redirect_to_another_host_never_carries_authorization(
    faulty_stack: Stack,
) -> None:
    """The registry (via the proxy) redirects a blob GET to a second server that records
    headers: it must never see Authorization, and the blob still verifies."""
    _, registry_proxy, _, _ = faulty_stack
    repo = Repository.parse(f"{registry_proxy.address}/alice/redirected")
    auth = Basic("alice", USERS["alice"])
    data = b"blob behind a CDN"
    digest, _ = push_blob(Transport(registry_proxy.address, auth, insecure=True), repo, [data])
    client = Client(
        keychain=StaticKeychain({registry_proxy.address: auth}), insecure=[registry_proxy.address]
    )
    with client.get_blob(repo.with_digest(digest)) as blob:  # warm: token cached
        assert b"".join(blob) == data
    with FakeServer(
        fallback=lambda _: (200, {"Content-Type": "application/octet-stream"}, data)
    ) as cdn:
        registry_proxy.plan(
            Fault(
                "redirect",
                match="/blobs/sha256",
                location=f"http://{cdn.address}/storage/x?X-Sig=SECRET-sig",
            )
        )
        with client.get_blob(repo.with_digest(digest)) as blob:
            assert b"".join(blob) == data
        redirected = [i for i, s in enumerate(registry_proxy.seen) if s[2] == "redirect"]
        assert len(redirected) == 1
        assert registry_proxy.authorized[redirected[0]]  # it carried credentials to us
        assert len(cdn.seen) == 1
        assert "Authorization" not in cdn.seen[0].headers
        assert "authorization" not in {k.lower() for k in cdn.seen[0].headers}


def _challenge(realm: str) -> dict[tuple[str, str], object]:
    header = {"WWW-Authenticate": f'Bearer realm="{realm}",service="svc"'}
    return {("GET", "/v2/a/tags/list"): lambda _: (401, header, b"")}


@pytest.mark.parametrize(
    ("realm", "message"),
    [
        ("https://169.254.169.254/latest/meta-data", "forbidden address 169.254.169.254"),
        ("https://10.1.2.3/token", "private address 10.1.2.3 that is not the registry's host"),
        ("https://[fd00::1]/token", "private address fd00::1 that is not the registry's host"),
    ],
)
def test_hostile_realms_are_refused_before_sending(realm: str, message: str) -> None:
    """Realms at metadata or foreign private addresses: SecurityError, no token request."""
    with FakeServer(_challenge(realm)) as fake:  # type: ignore[arg-type]
        t = Transport(fake.address, Basic("u", PASSWORD), insecure=True)
        with pytest.raises(SecurityError, match=message) as info:
            t.request("GET", t.url("/v2/a/tags/list"))
        assert info.value.rule == "realm"
        assert [s.path for s in fake.seen] == ["/v2/a/tags/list"]
        assert "Authorization" not in fake.seen[0].headers


def test_http_realm_for_an_https_registry_is_refused(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """An https registry naming a plain-http realm would expose Basic credentials."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    with (
        FakeServer() as token_fake,
        FakeServer(_challenge("http://127.0.0.1:1/token"), ssl_context=context) as fake,  # type: ignore[arg-type]
    ):
        fake.routes[("GET", "/v2/a/tags/list")] = _challenge(f"http://{token_fake.address}/token")[
            ("GET", "/v2/a/tags/list")
        ]  # type: ignore[assignment]
        t = Transport(fake.address, Basic("u", PASSWORD), ca_certs=str(ca_file))
        with pytest.raises(SecurityError, match="downgrades an https registry") as info:
            t.request("GET", t.url("/v2/a/tags/list"))
        assert info.value.rule == "realm"
        assert token_fake.seen == []


def test_oversized_error_body_is_capped_and_typed() -> None:
    """A 404 with a 5 MiB body: typed RegistryResponseError, decoded from at most 64 KiB."""
    huge = b'{"errors":[{"code":"NAME_UNKNOWN","message":"' + b"x" * (5 * 1024 * 1024) + b'"}]}'
    with FakeServer(fallback=lambda _: (404, {"Content-Type": "application/json"}, huge)) as fake:
        client = Client(keychain=StaticKeychain({}), insecure=[fake.address])
        with pytest.raises(RegistryResponseError) as info:
            client.list_tags(Repository.parse(f"{fake.address}/a"))
        assert info.value.status == 404
        assert len(str(info.value)) < 1024


def test_credentials_for_one_repository_never_reach_a_sibling(
    faulty_stack: Stack,
) -> None:
    """A keychain entry for reg/alice/a: requests for reg/alice/b go out anonymous."""
    _, registry_proxy, _, server = faulty_stack
    address = registry_proxy.address
    keychain = StaticKeychain({f"{address}/alice/a": Basic("alice", USERS["alice"])})
    client = Client(keychain=keychain, insecure=[address])
    with pytest.raises(RegistryResponseError):
        client.list_tags(Repository.parse(f"{address}/alice/b"))
    assert {r.user for r in server.log} == {""}


def test_manifest_body_not_matching_its_digest_header_is_refused() -> None:
    """A registry lying about Docker-Content-Digest (fake): DigestMismatch, not data."""
    from registry_sdk.errors import DigestMismatch

    body = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [],
        }
    ).encode()
    lie = "sha256:" + hashlib.sha256(b"something else").hexdigest()

    def answer(_: Seen) -> tuple[int, dict[str, str], bytes]:
        return (
            200,
            {
                "Content-Type": "application/vnd.oci.image.index.v1+json",
                "Docker-Content-Digest": lie,
            },
            body,
        )

    with FakeServer(fallback=answer) as fake:
        client = Client(keychain=StaticKeychain({}), insecure=[fake.address])
        with pytest.raises(DigestMismatch):
            client.get_manifest(Repository.parse(f"{fake.address}/a").with_tag("v1"))


def test_a_challenge_from_a_redirect_target_is_not_answered(faulty_stack: Stack) -> None:
    """A blob redirect lands on another host that answers 401 with its own Bearer realm:
    the user's credentials must not go to that realm (go-containerregistry #2333/#2349)."""
    _, registry_proxy, _, _ = faulty_stack
    repo = Repository.parse(f"{registry_proxy.address}/alice/cross-host")
    auth = Basic("alice", USERS["alice"])
    digest, _ = push_blob(
        Transport(registry_proxy.address, auth, insecure=True), repo, [b"cross-host blob"]
    )
    with FakeServer() as thief_realm, FakeServer() as cdn:
        cdn.fallback = lambda _: (
            401,
            {"WWW-Authenticate": f'Bearer realm="http://{thief_realm.address}/token"'},
            b"",
        )
        client = Client(
            keychain=StaticKeychain({registry_proxy.address: auth}),
            insecure=[registry_proxy.address],
        )
        with client.get_blob(repo.with_digest(digest)) as blob:  # warm: a token is sent
            assert b"".join(blob) == b"cross-host blob"
        registry_proxy.plan(
            Fault(
                "redirect",
                match="/blobs/sha256",
                times=99,
                location=f"http://{cdn.address}/storage/blob",
            )
        )
        with (
            pytest.raises(RegistryResponseError) as info,
            client.get_blob(repo.with_digest(digest)),
        ):
            pass
        assert info.value.status == 401
        assert thief_realm.seen == []
        assert all("Authorization" not in s.headers for s in cdn.seen)


@pytest.mark.parametrize(
    "location",
    [
        "http://169.254.169.254/latest/meta-data/",
        "https://169.254.169.254/latest/meta-data/iam/",
        "https://10.20.30.40/token",
        "http://[fe80::1]/token",
    ],
)
def test_token_server_redirects_are_validated_hop_by_hop(location: str) -> None:
    """A realm that answers 302 to a metadata or private address: refused before anything
    is sent there (SecurityError rule 'redirect'), credentials never leave.

    Fakes: a registry and a token server that redirect (distribution cannot be made to).
    """

    def token(_: Seen) -> tuple[int, dict[str, str], bytes]:
        return 302, {"Location": location}, b""

    with FakeServer(routes={("GET", "/token"): token}) as auth:

        def challenge(_: Seen) -> tuple[int, dict[str, str], bytes]:
            realm = f"http://{auth.address}/token"
            return 401, {"WWW-Authenticate": f'Bearer realm="{realm}",service="s"'}, b""

        with FakeServer(fallback=challenge) as reg:
            client = Client(keychain=StaticKeychain({reg.address: Basic("u", "pw-SECRET")}))
            with pytest.raises(SecurityError) as info:
                client.list_tags(f"{reg.address}/team/app")
    assert info.value.rule == "redirect"
    assert [s.path.split("?")[0] for s in auth.seen] == ["/token"]  # one hop, no more


def test_token_server_redirect_on_its_own_host_still_works() -> None:
    """A token server that moved its endpoint on the same host keeps working."""

    def old(_: Seen) -> tuple[int, dict[str, str], bytes]:
        return 302, {"Location": "/v2/token"}, b""

    def new(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        assert seen.headers.get("Authorization", "").startswith("Basic ")
        return 200, {}, b'{"token": "t1"}'

    with FakeServer(routes={("GET", "/token"): old, ("GET", "/v2/token"): new}) as auth:

        def serve(seen: Seen) -> tuple[int, dict[str, str], bytes]:
            if seen.headers.get("Authorization") == "Bearer t1":
                return 200, {}, b'{"name":"team/app","tags":["v1"]}'
            realm = f"http://{auth.address}/token"
            return 401, {"WWW-Authenticate": f'Bearer realm="{realm}",service="s"'}, b""

        with FakeServer(fallback=serve) as reg:
            client = Client(keychain=StaticKeychain({reg.address: Basic("u", "pw-SECRET")}))
            assert client.list_tags(f"{reg.address}/team/app") == ["v1"]
