"""A token the registry calls expired is refreshed once, through Client (issue 11).

ECR answers a stale token with 403 (ECR Public with 400) and a body saying it expired,
and no challenge. distribution never does that, so the registry here is a small fake on
127.0.0.1 that issues tokens and refuses any it has been told are expired. Every Client
GET streams its response, which is the path the old "expired" rule could not see.
"""

from __future__ import annotations

import hashlib
import json
import threading

import pytest

from registry_sdk.authn import Basic, StaticKeychain
from registry_sdk.client import Client
from registry_sdk.models import OCI_MANIFEST
from tests.support.fake import FakeServer, Reply, Seen

BLOB = b"layer bytes " * 1000
BLOB_DIGEST = "sha256:" + hashlib.sha256(BLOB).hexdigest()
MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": BLOB_DIGEST,
            "size": len(BLOB),
        },
        "layers": [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": BLOB_DIGEST,
                "size": len(BLOB),
            }
        ],
    }
).encode()
MANIFEST_DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
EXPIRED = (
    b'{"errors":[{"code":"DENIED","message":"Your authorization token has expired. '
    b'Reauthenticate and try again."}]}'
)


class ExpiringRegistry:
    """Issues t1, t2, ...; refuses expired tokens with *status* and an 'expired' body."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.issued: list[str] = []
        self.expired: set[str] = set()
        self.refusals = 0
        self.lock = threading.Lock()
        self.fake = FakeServer(routes={("GET", "/token"): self.token}, fallback=self.serve)

    def token(self, _: Seen) -> Reply:
        with self.lock:
            self.issued.append(f"t{len(self.issued) + 1}")
            value = self.issued[-1]
        return (
            200,
            {"Content-Type": "application/json"},
            json.dumps({"token": value, "expires_in": 3600}).encode(),
        )

    def expire_all(self) -> None:
        with self.lock:
            self.expired.update(self.issued)

    def serve(self, seen: Seen) -> Reply:
        auth = seen.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            realm = f"http://{self.fake.address}/token"
            return 401, {"WWW-Authenticate": f'Bearer realm="{realm}",service="fake"'}, b""
        if auth[len("Bearer ") :] in self.expired:
            self.refusals += 1
            return self.status, {"Content-Type": "application/json"}, EXPIRED
        path = seen.path.split("?")[0]
        if path.endswith("/tags/list"):
            return 200, {}, b'{"name":"app","tags":["v1"]}'
        if "/manifests/" in path:
            return (
                200,
                {"Content-Type": OCI_MANIFEST, "Docker-Content-Digest": MANIFEST_DIGEST},
                MANIFEST,
            )
        if path.endswith(f"/blobs/{BLOB_DIGEST}"):
            return 200, {}, BLOB
        return 404, {}, b""


@pytest.mark.parametrize("status", [400, 403])
def test_client_refreshes_an_expired_token_once(status: int) -> None:
    """list_tags, get_manifest and get_blob each meet an expired token, refresh once and
    succeed; nothing else is retried."""
    registry = ExpiringRegistry(status)
    with registry.fake as fake:
        repo = f"{fake.address}/team/app"
        client = Client(keychain=StaticKeychain({fake.address: Basic("u", "pw")}))
        assert client.list_tags(repo) == ["v1"]
        registry.expire_all()
        assert client.get_manifest(f"{repo}:v1").digest == MANIFEST_DIGEST
        registry.expire_all()
        with client.get_blob(f"{repo}@{BLOB_DIGEST}") as blob:
            assert b"".join(blob) == BLOB
        registry.expire_all()
        assert client.list_tags(repo) == ["v1"]
    # Three refusals, each answered by one refresh and a successful retry. (The count
    # of tokens issued is not asserted: urllib3 may re-send an idempotent token GET on a
    # pooled connection the fake closed, and this fake's token endpoint counts it.)
    assert registry.refusals == 3
    assert len(set(registry.issued)) >= 4
