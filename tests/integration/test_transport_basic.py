"""Transport against the real registry (distribution 2.8): htpasswd basic auth over TLS
with a private CA, and an open registry over plain http on loopback."""

from __future__ import annotations

import hashlib
import json

import pytest

from registry_sdk.authn import ANONYMOUS, Basic
from registry_sdk.errors import ErrorCode, RegistryResponseError, SecurityError, check_error
from registry_sdk.name import Repository
from registry_sdk.transport import Transport
from tests.support.registry import RunningRegistry

from .conftest import USERS

CONFIG = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'


def push_image(t: Transport, repo: Repository, tag: str) -> str:
    """Push a config blob and a manifest through Transport.request; return the digest."""
    digest = "sha256:" + hashlib.sha256(CONFIG).hexdigest()
    start = t.request("POST", t.url(f"/v2/{repo.path}/blobs/uploads/"))
    check_error(start, 202, method="POST")
    location = start.headers["Location"]
    sep = "&" if "?" in location else "?"
    put = t.request(
        "PUT",
        t.url("") + location.split(t.base_url)[-1] + f"{sep}digest={digest}",
        headers={"Content-Type": "application/octet-stream"},
        body=CONFIG,
    )
    check_error(put, 201, method="PUT")
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": digest,
                "size": len(CONFIG),
            },
            "layers": [],
        }
    ).encode()
    resp = t.request(
        "PUT",
        t.url(f"/v2/{repo.path}/manifests/{tag}"),
        body=manifest,
        headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
    )
    check_error(resp, 201, method="PUT")
    return "sha256:" + hashlib.sha256(manifest).hexdigest()


def test_seed_program_with_basic_auth_over_tls(basic_tls_registry: RunningRegistry) -> None:
    """Push and list tags with credentials; anonymous gets a typed UNAUTHORIZED error."""
    reg = basic_tls_registry
    assert reg.tls is not None
    repo = Repository.parse(f"{reg.address}/team/app")
    alice = Transport(
        repo.registry,
        Basic("alice", USERS["alice"]),
        [repo.scope("pull", "push")],
        ca_certs=str(reg.tls.ca),
    )
    push_image(alice, repo, "v1")
    resp = alice.request("GET", alice.url(f"/v2/{repo.path}/tags/list"))
    check_error(resp)
    assert json.loads(resp.data) == {"name": "team/app", "tags": ["v1"]}

    anonymous = Transport(repo.registry, ANONYMOUS, [repo.scope()], ca_certs=str(reg.tls.ca))
    resp = anonymous.request("GET", anonymous.url(f"/v2/{repo.path}/tags/list"))
    with pytest.raises(RegistryResponseError) as info:
        check_error(resp, method="GET", url=anonymous.url(f"/v2/{repo.path}/tags/list"))
    assert info.value.status == 401
    assert info.value.codes[0] == ErrorCode.UNAUTHORIZED

    wrong = Transport(
        repo.registry, Basic("alice", "wrong-SECRET"), [repo.scope()], ca_certs=str(reg.tls.ca)
    )
    resp = wrong.request("GET", wrong.url(f"/v2/{repo.path}/tags/list"))
    assert resp.status == 401


def test_open_registry_over_loopback_http(open_registry: RunningRegistry) -> None:
    """Plain http is allowed to loopback; a missing repository is NAME_UNKNOWN."""
    repo = Repository.parse(f"{open_registry.address}/open/app")
    t = Transport(repo.registry, insecure=True)
    digest = push_image(t, repo, "latest")
    resp = t.request(
        "GET",
        t.url(f"/v2/{repo.path}/manifests/latest"),
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
    )
    check_error(resp)
    assert resp.headers["Docker-Content-Digest"] == digest
    missing = t.request("GET", t.url("/v2/no/such/tags/list"))
    with pytest.raises(RegistryResponseError) as info:
        check_error(missing)
    assert info.value.codes == (ErrorCode.NAME_UNKNOWN,)


def test_plain_http_to_non_loopback_is_refused_unless_insecure() -> None:
    """No request leaves for http://registry.example unless the registry is marked insecure."""
    t = Transport("registry.example:5000", Basic("u", "p-SECRET"))
    with pytest.raises(SecurityError) as info:
        t.request("GET", "http://registry.example:5000/v2/")
    assert info.value.rule == "plain-http"
    with pytest.raises(SecurityError) as info:
        t.request("GET", "https://elsewhere.example/v2/")
    assert info.value.rule == "cross-host"
