"""Client and the Repository sugar against the real registry (and, where marked, fakes)."""

from __future__ import annotations

import base64
import hashlib
import json
import tracemalloc
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from registry_sdk import _convert
from registry_sdk.authn import Basic, DefaultKeychain, StaticKeychain
from registry_sdk.client import Client
from registry_sdk.errors import (
    DigestMismatch,
    InvalidResponse,
    RegistryResponseError,
    SecurityError,
)
from registry_sdk.models import (
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    OCI_INDEX,
    OCI_MANIFEST,
    ImageIndex,
    ImageManifest,
)
from registry_sdk.name import Repository
from registry_sdk.transport import Transport
from tests.support.fake import FakeServer, Seen
from tests.support.registry import RunningRegistry
from tests.support.seed import image, index, push_blob, push_manifest
from tests.support.token_server import USERS, TokenServer

from .conftest import USERS as USERS_BASIC

Stack = tuple[RunningRegistry, TokenServer]


def writer(reg: RunningRegistry) -> Transport:
    return Transport(reg.address, Basic("alice", USERS["alice"]), insecure=True)


def test_tags_with_credentials_from_docker_config(token_stack: Stack, tmp_path: Path) -> None:
    """Repository.parse(...).tags() with credentials from a DOCKER_CONFIG the test wrote."""
    reg, _ = token_stack
    repo = Repository.parse(f"{reg.address}/alice/sugar")
    image(writer(reg), repo, "v1")
    image(writer(reg), repo, "v2")
    auth = base64.b64encode(f"alice:{USERS['alice']}".encode()).decode()
    (tmp_path / "config.json").write_text(json.dumps({"auths": {reg.address: {"auth": auth}}}))
    client = Client(
        keychain=DefaultKeychain({"DOCKER_CONFIG": str(tmp_path), "HOME": str(tmp_path)}),
        insecure=[reg.address],
    )
    assert repo.tags(client=client) == ["v1", "v2"]
    manifest = repo.get_manifest("v2", client=client)
    assert repo.get_manifest(manifest.digest, client=client).raw == manifest.raw


@pytest.mark.parametrize("kind", ["oci", "docker", "oci-index", "docker-list"])
def test_manifest_media_types_round_trip(open_registry: RunningRegistry, kind: str) -> None:
    """Each media type comes back byte-exact, with its digest, typed, and round-trips
    through the model."""
    reg = open_registry
    repo = Repository.parse(f"{reg.address}/media/{kind}")
    t = Transport(reg.address, insecure=True)
    child_type = DOCKER_MANIFEST if kind.startswith("docker") else OCI_MANIFEST
    digest, body = image(t, repo, "child", media_type=child_type)
    if kind.endswith(("index", "list")):
        digest, body = index(
            t,
            repo,
            "v1",
            [(digest, len(body))],
            media_type=OCI_INDEX if kind == "oci-index" else DOCKER_MANIFEST_LIST,
            child_type=child_type,
        )
    else:
        push_manifest(t, repo, "v1", body, child_type)
    client = Client(keychain=StaticKeychain({}), insecure=[reg.address])
    for ref in (repo.with_tag("v1"), repo.with_digest(digest)):
        got = client.get_manifest(ref)
        assert (got.raw, got.digest) == (body, digest)
        assert got.is_index is kind.endswith(("index", "list"))
        assert isinstance(got.content, ImageIndex if got.is_index else ImageManifest)
        assert _convert.unstructure(got.content) == json.loads(body)
    assert client.digest(repo.with_tag("v1")) == digest
    assert client.head_manifest(repo.with_tag("v1")).size == len(body)


def test_manifest_over_the_cap_is_refused(open_registry: RunningRegistry) -> None:
    """A manifest larger than max_size is a typed error, not a truncation."""
    repo = Repository.parse(f"{open_registry.address}/media/big")
    t = Transport(open_registry.address, insecure=True)
    image(t, repo, "v1")
    client = Client(keychain=StaticKeychain({}), insecure=[open_registry.address])
    with pytest.raises(InvalidResponse, match="manifest is larger than 100 bytes"):
        client.get_manifest(repo.with_tag("v1"), max_size=100)


def test_blob_of_64_mib_streams_with_flat_memory(open_registry: RunningRegistry) -> None:
    """A 64 MiB blob is streamed and verified with a small, size-independent peak."""
    repo = Repository.parse(f"{open_registry.address}/media/blob")
    t = Transport(open_registry.address, insecure=True)
    chunk = hashlib.sha256(b"seed").digest() * (4 * 1024 * 1024 // 32)
    digest, size = push_blob(t, repo, (chunk for _ in range(16)))
    assert size == 64 * 1024 * 1024
    client = Client(keychain=StaticKeychain({}), insecure=[open_registry.address])
    tracemalloc.start()
    try:
        total = 0
        with client.get_blob(repo.with_digest(digest)) as blob:
            for piece in blob:
                total += len(piece)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == size
    assert peak < 8 * 1024 * 1024, f"peak {peak} bytes"


def test_catalog_pagination_against_the_real_registry(open_registry: RunningRegistry) -> None:
    """distribution paginates _catalog with Link headers; every page is followed."""
    t = Transport(open_registry.address, insecure=True)
    for i in range(5):
        image(t, Repository.parse(f"{open_registry.address}/cat/r{i}"), "v1")
    client = Client(keychain=StaticKeychain({}), insecure=[open_registry.address])
    names = client.catalog(open_registry.address, page_size=2)
    assert {f"cat/r{i}" for i in range(5)} <= set(names)
    assert len(names) == len(set(names))


def test_tag_pagination_over_2500_tags(open_registry: RunningRegistry) -> None:
    """2,500 real tags, paginated by a front of the tests' own (distribution 2.8 does not
    paginate tags/list): all pages are followed via relative Link headers."""
    reg = open_registry
    repo = Repository.parse(f"{reg.address}/many/tags")
    t = Transport(reg.address, insecure=True)
    _, body = image(t, repo, "t0000")
    for i in range(1, 2500):
        push_manifest(t, repo, f"t{i:04d}", body, OCI_MANIFEST)
    with urllib.request.urlopen(f"{reg.url}/v2/many/tags/tags/list") as resp:
        every = sorted(json.loads(resp.read())["tags"])

    def page(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        query = parse_qs(urlsplit(seen.path).query)
        n, last = int(query.get("n", ["100"])[0]), query.get("last", [""])[0]
        rest = [tag for tag in every if tag > last]
        headers = {"Content-Type": "application/json"}
        if len(rest) > n:
            headers["Link"] = f'</v2/many/tags/tags/list?n={n}&last={rest[n - 1]}>; rel="next"'
        return 200, headers, json.dumps({"name": "many/tags", "tags": rest[:n]}).encode()

    with FakeServer({("GET", "/v2/many/tags/tags/list"): page}) as front:
        client = Client(keychain=StaticKeychain({}), insecure=[front.address])
        front_repo = Repository.parse(f"{front.address}/many/tags")
        assert client.list_tags(front_repo, page_size=300) == every
        assert len(every) == 2500
        assert len(front.seen) == 9


def _fake_client(front: FakeServer) -> tuple[Client, Repository]:
    return (
        Client(keychain=StaticKeychain({}), insecure=[front.address]),
        Repository.parse(f"{front.address}/a"),
    )


def test_link_loop_and_foreign_link_are_refused() -> None:
    """Fake server (a real registry cannot be made to do this): a Link back to a page
    already read is a typed error, and so is a Link to another host."""
    loop = {"Link": '</v2/a/tags/list?n=1>; rel="next"'}
    with FakeServer(
        {("GET", "/v2/a/tags/list"): lambda _: (200, loop, b'{"name":"a","tags":["x"]}')}
    ) as front:
        client, repo = _fake_client(front)
        with pytest.raises(InvalidResponse, match="loops back"):
            client.list_tags(repo, page_size=1)
    foreign = {"Link": '<http://127.0.0.2:1/v2/a/tags/list?n=1>; rel="next"'}
    with FakeServer(
        {("GET", "/v2/a/tags/list"): lambda _: (200, foreign, b'{"name":"a","tags":["x"]}')}
    ) as front:
        client, repo = _fake_client(front)
        with pytest.raises(SecurityError, match="another host"):
            client.list_tags(repo)


def test_wrong_digests_are_typed_errors() -> None:
    """Fake server: a Docker-Content-Digest that does not match the body, and a body
    that does not hash to the requested digest, each raise DigestMismatch."""
    body = b'{"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:a","size":1}}'
    wrong = "sha256:" + "0" * 64
    headers = {"Content-Type": OCI_MANIFEST, "Docker-Content-Digest": wrong}
    with FakeServer(fallback=lambda _: (200, headers, body)) as front:
        client, repo = _fake_client(front)
        with pytest.raises(DigestMismatch) as info:
            client.get_manifest(repo.with_tag("v1"))
        assert (info.value.expected, info.value.actual) == (
            wrong,
            "sha256:" + hashlib.sha256(body).hexdigest(),
        )
        with pytest.raises(DigestMismatch):
            client.get_manifest(repo.with_digest("sha256:" + "1" * 64))


def test_corrupted_blob_is_detected_at_the_end() -> None:
    """Fake server: blob bytes that do not hash to the digest raise DigestMismatch."""
    digest = "sha256:" + hashlib.sha256(b"good").hexdigest()
    with FakeServer(fallback=lambda _: (200, {}, b"evil")) as front:
        client, repo = _fake_client(front)
        with pytest.raises(DigestMismatch), client.get_blob(repo.with_digest(digest)) as blob:
            b"".join(blob)


def test_missing_manifest_is_typed(open_registry: RunningRegistry) -> None:
    """A missing tag gives RegistryResponseError with MANIFEST_UNKNOWN."""
    repo = Repository.parse(f"{open_registry.address}/media/oci")
    client = Client(keychain=StaticKeychain({}), insecure=[open_registry.address])
    with pytest.raises(RegistryResponseError) as info:
        client.get_manifest(repo.with_tag("nope"))
    assert info.value.status == 404


def test_referrers_fall_back_to_the_tag_schema(open_registry: RunningRegistry) -> None:
    """distribution 2.8 has no referrers API (404): the `sha256-<hex>` tag is read."""
    reg = open_registry
    repo = Repository.parse(f"{reg.address}/media/referred")
    t = Transport(reg.address, insecure=True)
    subject, _ = image(t, repo, "v1")
    sig, sig_body = image(t, repo, "sig", layer=b"signature")
    entry = {
        "mediaType": OCI_MANIFEST,
        "digest": sig,
        "size": len(sig_body),
        "artifactType": "application/example.sig",
    }
    body = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [entry]})
    push_manifest(t, repo, subject.replace(":", "-"), body.encode(), OCI_INDEX)
    client = Client(keychain=StaticKeychain({}), insecure=[reg.address])
    found = client.referrers(repo.with_digest(subject))
    assert [d.digest for d in found.manifests] == [sig]
    assert client.referrers(repo.with_digest(subject), artifact_type="other").manifests == ()
    assert client.referrers(repo.with_digest(sig)).manifests == ()


def test_sugar_with_the_default_client(
    basic_tls_registry: RunningRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Repository.parse(...).tags() with no client: the process-wide default, credentials
    from a DOCKER_CONFIG the test wrote, TLS trusted through SSL_CERT_FILE."""
    import registry_sdk.client as client_module

    reg = basic_tls_registry
    assert reg.tls is not None
    auth = base64.b64encode(b"alice:" + USERS_BASIC["alice"].encode()).decode()
    (tmp_path / "config.json").write_text(json.dumps({"auths": {reg.address: {"auth": auth}}}))
    for name in ("REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "DOCKER_AUTH_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("SSL_CERT_FILE", str(reg.tls.ca))
    monkeypatch.setattr(client_module, "_default", None)
    repo = Repository.parse(f"{reg.address}/sugar/default")
    seeder = Transport(reg.address, Basic("alice", USERS_BASIC["alice"]), ca_certs=str(reg.tls.ca))
    image(seeder, repo, "v1")
    assert repo.tags() == ["v1"]
    assert repo.get_manifest("v1").digest == client_module.default_client().digest(
        repo.with_tag("v1")
    )


def test_iter_catalog_is_lazy_and_max_pages_stops_quietly(open_registry: RunningRegistry) -> None:
    """iter_catalog reads one page at a time; a caller's max_pages is a limit, not an
    error (issue 10)."""
    for name in ("lazy/a", "lazy/b", "lazy/c"):
        push_blob(
            Transport(open_registry.address, insecure=True),
            Repository.parse(f"{open_registry.address}/{name}"),
            [b"x"],
        )
    client = Client(keychain=StaticKeychain({}))
    before = len([r for r in open_registry.requests() if "_catalog" in r[1]])
    names = client.iter_catalog(open_registry.address, page_size=1)
    first = next(names)
    seen = [r for r in open_registry.requests() if "_catalog" in r[1]]
    assert len(seen) - before == 1 and first
    assert len(list(client.iter_catalog(open_registry.address, page_size=1, max_pages=2))) == 2
    assert len(client.catalog(open_registry.address, page_size=1, max_pages=2)) == 2
