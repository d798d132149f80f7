"""Manifest writes against the real registry: put by tag / digest / repository, rule 8,
the referrers fallback index, tag, delete; skopeo reads back what we wrote."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import subprocess
from pathlib import Path

import pytest

from registry_sdk import _write
from registry_sdk.client import Client
from registry_sdk.errors import (
    ConcurrentUpdate,
    DigestMismatch,
    InvalidResponse,
    MissingReferences,
    RegistryResponseError,
    UnsupportedOperation,
)
from registry_sdk.models import (
    DOCKER_MANIFEST,
    OCI_INDEX,
    OCI_MANIFEST,
    Descriptor,
    ImageIndex,
    ImageManifest,
    Platform,
    dumps,
)
from registry_sdk.name import Digest, Repository
from tests.support.registry import RunningRegistry
from tests.support.token_server import USERS, TokenServer

from .test_write_blobs import client_for, fresh, sha

Stack = tuple[RunningRegistry, TokenServer]
CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar"
EMPTY = Descriptor(
    "application/vnd.oci.empty.v1+json",
    "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
    2,
)


def push_image(
    client: Client,
    repo: Repository,
    layer: bytes = b"layer",
) -> ImageManifest:
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [sha(layer)]},
        }
    ).encode()
    c = client.push_blob(repo, config)
    lay = client.push_blob(repo, layer)
    return ImageManifest(
        2,
        Descriptor(CONFIG, c.digest, c.size),
        (Descriptor(LAYER, lay.digest, lay.size),),
        OCI_MANIFEST,
        annotations={"org.example": "x"},
    )


def skopeo(*args: str) -> bytes:
    return subprocess.run(["skopeo", *args], check=True, capture_output=True, timeout=120).stdout


def test_image_by_tag_reads_back_byte_exact_in_skopeo(token_stack: Stack, tmp_path: Path) -> None:
    reg, _ = token_stack
    client, repo = client_for(reg), fresh(reg)
    model = push_image(client, repo, os.urandom(3000))
    desc = client.put_manifest(repo.with_tag("v1"), model)
    fetched = client.get_manifest(repo.with_tag("v1"))
    assert fetched.raw == dumps(model)
    assert (desc.digest, desc.size, desc.media_type) == (
        fetched.digest,
        len(fetched.raw),
        OCI_MANIFEST,
    )
    creds = f"alice:{USERS['alice']}"
    raw = skopeo("inspect", "--raw", "--tls-verify=false", "--creds", creds, f"docker://{repo}:v1")
    assert raw == fetched.raw
    layout = tmp_path / "layout"
    skopeo(
        "copy",
        "--preserve-digests",
        "--src-tls-verify=false",
        "--src-creds",
        creds,
        f"docker://{repo}:v1",
        f"oci:{layout}:v1",
    )  # verifies every blob
    index = json.loads((layout / "index.json").read_text())
    assert index["manifests"][0]["digest"] == desc.digest


def test_fetched_manifest_keeps_its_exact_bytes(token_stack: Stack) -> None:
    """A pretty-printed Docker manifest put as raw bytes, fetched, put again elsewhere."""
    reg, _ = token_stack
    client, repo = client_for(reg), fresh(reg)
    model = push_image(client, repo)
    doc = json.loads(dumps(model))
    doc["mediaType"] = DOCKER_MANIFEST
    doc["config"]["mediaType"] = "application/vnd.docker.container.image.v1+json"
    raw = json.dumps(doc, indent=3).encode()
    first = client.put_manifest(repo.with_tag("pretty"), raw)
    assert first.digest == sha(raw) and first.media_type == DOCKER_MANIFEST
    fetched = client.get_manifest(repo.with_tag("pretty"))
    second = client.put_manifest(repo.with_tag("again"), fetched)
    assert second == first
    assert client.get_manifest(repo.with_tag("again")).raw == raw


def test_raw_bytes_need_a_media_type(token_stack: Stack) -> None:
    reg, _ = token_stack
    client, repo = client_for(reg), fresh(reg)
    model = push_image(client, repo)
    doc = json.loads(dumps(model))
    del doc["mediaType"]
    raw = json.dumps(doc).encode()
    with pytest.raises(InvalidResponse):
        client.put_manifest(repo.with_tag("x"), raw)
    desc = client.put_manifest(repo.with_tag("x"), raw, media_type=OCI_MANIFEST)
    assert client.head_manifest(repo.with_tag("x")).digest == desc.digest


def test_by_digest_and_by_repository(token_stack: Stack) -> None:
    reg, _ = token_stack
    client, repo = client_for(reg), fresh(reg)
    model = push_image(client, repo)
    raw = dumps(model)
    wrong = repo.with_digest(sha(raw + b" "))
    before = len(reg.requests())
    with pytest.raises(DigestMismatch):
        client.put_manifest(wrong, model)
    assert reg.requests()[before:] == []  # refused before anything was sent
    by_digest = client.put_manifest(repo.with_digest(sha(raw)), model)
    assert by_digest.digest == sha(raw)
    other = push_image(client, repo, b"second layer")
    by_repo = client.put_manifest(repo, other)
    assert client.get_manifest(repo.with_digest(by_repo.digest)).raw == dumps(other)
    with pytest.raises(RegistryResponseError) as info:
        client.list_tags(repo)  # distribution: a repository with no tags is unknown
    assert info.value.status == 404


def test_missing_layer_is_refused_and_nothing_is_put(token_stack: Stack) -> None:
    reg, _ = token_stack
    client, repo = client_for(reg), fresh(reg)
    model = push_image(client, repo)
    ghost = Descriptor(LAYER, sha(b"never pushed"), 12)
    broken = ImageManifest(2, model.config, (*model.layers, ghost), OCI_MANIFEST)
    before = len(reg.requests())
    with pytest.raises(MissingReferences) as info:
        client.put_manifest(repo.with_tag("broken"), broken)
    assert info.value.missing == (ghost.digest,)
    assert ghost.digest in str(info.value)
    assert [m for m, _, _ in reg.requests()[before:] if m == "PUT"] == []
    assert pickle.loads(pickle.dumps(info.value)).missing == (ghost.digest,)


def test_missing_config_is_refused(token_stack: Stack) -> None:
    reg, _ = token_stack
    client, repo = client_for(reg), fresh(reg)
    model = push_image(client, repo)
    ghost = Descriptor(CONFIG, sha(b"{}x"), 3)
    with pytest.raises(MissingReferences) as info:
        client.put_manifest(repo.with_tag("t"), ImageManifest(2, ghost, model.layers, OCI_MANIFEST))
    assert info.value.missing == (ghost.digest,)


def test_index_with_missing_child_is_refused(token_stack: Stack) -> None:
    reg, _ = token_stack
    client, repo = client_for(reg), fresh(reg)
    child = client.put_manifest(repo, push_image(client, repo))
    ghost = Descriptor(OCI_MANIFEST, sha(b"no such manifest"), 16)
    amd = Platform("amd64", "linux")
    index = ImageIndex(
        2, (Descriptor(child.media_type, child.digest, child.size, platform=amd), ghost), OCI_INDEX
    )
    with pytest.raises(MissingReferences) as info:
        client.put_manifest(repo.with_tag("multi"), index)
    assert info.value.missing == (ghost.digest,)
    good = ImageIndex(
        2, (Descriptor(child.media_type, child.digest, child.size, platform=amd),), OCI_INDEX
    )
    desc = client.put_manifest(repo.with_tag("multi"), good)
    assert client.get_manifest(repo.with_tag("multi")).digest == desc.digest


def test_a_blob_in_another_repository_does_not_count(token_stack: Stack) -> None:
    """Rule 8 checks the target repository, not the registry."""
    reg, _ = token_stack
    client = client_for(reg)
    model = push_image(client, fresh(reg))
    with pytest.raises(MissingReferences) as info:
        client.put_manifest(fresh(reg).with_tag("v1"), model)
    assert len(info.value.missing) == 2


def artifact(
    client: Client, repo: Repository, subject: Descriptor, payload: bytes, artifact_type: str
) -> ImageManifest:
    client.push_blob(repo, b"{}")
    lay = client.push_blob(repo, payload)
    return ImageManifest(
        2,
        EMPTY,
        (Descriptor(LAYER, lay.digest, lay.size),),
        OCI_MANIFEST,
        artifact_type=artifact_type,
        subject=subject,
        annotations={"org.opencontainers.image.created": "2026-01-01"},
    )


def test_subject_updates_the_referrers_fallback(token_stack: Stack) -> None:
    reg, _ = token_stack
    client, repo = client_for(reg), fresh(reg)
    image = client.put_manifest(repo.with_tag("v1"), push_image(client, repo))
    sig = client.put_manifest(repo, artifact(client, repo, image, b"sig", "application/x.sig"))
    sbom = client.put_manifest(repo, artifact(client, repo, image, b"sbom", "application/x.sbom"))
    found = client.referrers(repo.with_digest(image.digest))
    assert [d.digest for d in found.manifests] == [sig.digest, sbom.digest]
    assert [d.artifact_type for d in found.manifests] == ["application/x.sig", "application/x.sbom"]
    assert found.manifests[0].annotations == {"org.opencontainers.image.created": "2026-01-01"}
    only = client.referrers(repo.with_digest(image.digest), artifact_type="application/x.sbom")
    assert [d.digest for d in only.manifests] == [sbom.digest]
    # Putting the same referrer again does not duplicate its entry.
    client.put_manifest(repo, artifact(client, repo, image, b"sig", "application/x.sig"))
    assert len(client.referrers(repo.with_digest(image.digest)).manifests) == 2


def test_lost_update_of_the_fallback_index_is_merged_again(
    token_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer replaces the index right after our PUT from an older copy: the
    re-read notices our entry is gone and merges again."""
    reg, _ = token_stack
    client, repo = client_for(reg), fresh(reg)
    image = client.put_manifest(repo.with_tag("v1"), push_image(client, repo))
    tag = f"sha256-{image.digest.partition(':')[2]}"
    real_put = _write._put
    interfered: list[str] = []

    def racing_put(
        t: object, repo_: Repository, reference: str, raw: bytes, *, media_type: str, digest: str
    ) -> bool:
        answered = real_put(
            t,  # type: ignore[arg-type]
            repo_,
            reference,
            raw,
            media_type=media_type,
            digest=digest,
        )
        if reference == tag and not interfered:
            interfered.append(reference)
            stale = dumps(ImageIndex(2, (), OCI_INDEX))
            real_put(
                t,  # type: ignore[arg-type]
                repo_,
                tag,
                stale,
                media_type=OCI_INDEX,
                digest=sha(stale),
            )
        return answered

    monkeypatch.setattr(_write, "_put", racing_put)
    sig = client.put_manifest(repo, artifact(client, repo, image, b"sig", "application/x.sig"))
    assert interfered
    assert [d.digest for d in client.referrers(repo.with_digest(image.digest)).manifests] == [
        sig.digest
    ]


def test_a_writer_that_always_wins_is_a_typed_error(
    token_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    reg, _ = token_stack
    client, repo = client_for(reg), fresh(reg)
    image = client.put_manifest(repo.with_tag("v1"), push_image(client, repo))
    monkeypatch.setattr(_write, "_read_fallback", lambda client, tag: ())
    with pytest.raises(ConcurrentUpdate) as info:
        client.put_manifest(repo, artifact(client, repo, image, b"s", "application/x.sig"))
    assert info.value.reference.endswith(image.digest.partition(":")[2])
    pickle.loads(pickle.dumps(info.value))


def test_tag_keeps_the_bytes(token_stack: Stack) -> None:
    reg, _ = token_stack
    client, repo = client_for(reg), fresh(reg)
    raw = json.dumps(json.loads(dumps(push_image(client, repo))), indent=2).encode()
    desc = client.put_manifest(repo.with_tag("v1"), raw)
    tagged = client.tag(repo.with_tag("v1"), "stable")
    assert tagged == desc
    assert client.get_manifest(repo.with_tag("stable")).raw == raw
    by_digest = client.tag(repo.with_digest(desc.digest), "pinned")
    assert by_digest.digest == desc.digest
    assert sorted(client.list_tags(repo)) == ["pinned", "stable", "v1"]


def test_delete_by_digest_and_the_tag_refusal(token_stack: Stack) -> None:
    reg, _ = token_stack
    client, repo = client_for(reg), fresh(reg)
    desc = client.put_manifest(repo.with_tag("v1"), push_image(client, repo))
    with pytest.raises(UnsupportedOperation) as info:
        client.delete(repo.with_tag("v1"))
    assert info.value.use_instead == str(repo.with_digest(desc.digest))
    assert "by digest" in str(info.value)
    assert pickle.loads(pickle.dumps(info.value)).use_instead == info.value.use_instead
    client.delete(Digest.parse(info.value.use_instead))
    with pytest.raises(RegistryResponseError) as missing:
        client.get_manifest(repo.with_tag("v1"))
    assert missing.value.status == 404


def test_delete_needs_the_delete_grant(token_stack: Stack) -> None:
    """bob may push bob/* but not delete there: a typed 401/403, nothing deleted."""
    reg, _ = token_stack
    bob = client_for(reg, "bob")
    repo = fresh(reg, "bob")
    desc = bob.put_manifest(repo.with_tag("v1"), push_image(bob, repo))
    with pytest.raises(RegistryResponseError) as info:
        bob.delete(repo.with_digest(desc.digest))
    assert info.value.status in (401, 403)
    assert bob.head_manifest(repo.with_tag("v1")).digest == desc.digest


def test_first_image_push_token_exchanges(token_stack: Stack) -> None:
    """Config, layer and manifest of a new repository: one exchange per scope set."""
    reg, server = token_stack
    client, repo = client_for(reg), fresh(reg)
    client.put_manifest(repo.with_tag("v1"), push_image(client, repo))
    scopes = [r.scopes for r in server.log]
    assert len(scopes) == len(set(scopes)), scopes
    assert len(scopes) == 1, scopes


def test_index_reads_back_in_skopeo_with_every_child(token_stack: Stack, tmp_path: Path) -> None:
    """Two images and an index over them: skopeo copies all of it, digests preserved."""
    reg, _ = token_stack
    client, repo = client_for(reg), fresh(reg)
    children = []
    for arch, layer in (("amd64", b"amd64 layer"), ("arm64", b"arm64 layer")):
        desc = client.put_manifest(repo, push_image(client, repo, layer))
        children.append(
            Descriptor(desc.media_type, desc.digest, desc.size, platform=Platform(arch, "linux"))
        )
    index = client.put_manifest(repo.with_tag("multi"), ImageIndex(2, tuple(children), OCI_INDEX))
    creds = f"alice:{USERS['alice']}"
    raw = skopeo(
        "inspect", "--raw", "--tls-verify=false", "--creds", creds, f"docker://{repo}:multi"
    )
    assert sha(raw) == index.digest
    layout = tmp_path / "layout"
    skopeo(
        "copy",
        "--all",
        "--preserve-digests",
        "--src-tls-verify=false",
        "--src-creds",
        creds,
        f"docker://{repo}:multi",
        f"oci:{layout}:multi",
    )
    assert json.loads((layout / "index.json").read_text())["manifests"][0]["digest"] == (
        index.digest
    )
    for child in children:
        assert (layout / "blobs" / "sha256" / child.digest.partition(":")[2]).exists()


def test_sha512_blob(token_stack: Stack) -> None:
    """A blob named by sha512 is hashed, sent and verified with sha512."""
    reg, _ = token_stack
    client, repo = client_for(reg), fresh(reg)
    data = os.urandom(1000)
    digest = "sha512:" + hashlib.sha512(data).hexdigest()
    desc = client.push_blob(repo, iter([data]), digest=digest)
    assert desc.digest == digest
    assert client.blob_exists(repo.with_digest(digest)) is not None
