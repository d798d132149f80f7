"""Push content into a real registry through Transport (blob uploads, manifest puts)."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from registry_sdk.errors import check_error
from registry_sdk.models import DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST
from registry_sdk.name import Repository
from registry_sdk.transport import Transport

if TYPE_CHECKING:
    from registry_sdk.client import Client

CONFIG_TYPE = "application/vnd.oci.image.config.v1+json"
LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar"


def _location(t: Transport, value: str) -> str:
    parts = urlsplit(value)
    return t.url(parts.path + (f"?{parts.query}" if parts.query else ""))


def push_blob(t: Transport, repo: Repository, chunks: Iterable[bytes]) -> tuple[str, int]:
    """Upload a blob in chunks (POST, PATCH..., PUT ?digest=); returns (digest, size)."""
    start = t.request("POST", t.url(f"/v2/{repo.path}/blobs/uploads/"))
    check_error(start, 202, method="POST")
    location, hasher, size = _location(t, start.headers["Location"]), hashlib.sha256(), 0
    for chunk in chunks:
        hasher.update(chunk)
        resp = t.request(
            "PATCH",
            location,
            body=chunk,
            headers={
                "Content-Type": "application/octet-stream",
                "Content-Range": f"{size}-{size + len(chunk) - 1}",
            },
        )
        check_error(resp, 202, method="PATCH")
        location, size = _location(t, resp.headers["Location"]), size + len(chunk)
    digest = "sha256:" + hasher.hexdigest()
    sep = "&" if "?" in location else "?"
    done = t.request("PUT", f"{location}{sep}digest={digest}")
    check_error(done, 201, method="PUT")
    return digest, size


def push_manifest(t: Transport, repo: Repository, ref: str, body: bytes, media_type: str) -> str:
    """PUT a manifest under *ref*; returns its digest."""
    resp = t.request(
        "PUT",
        t.url(f"/v2/{repo.path}/manifests/{ref}"),
        body=body,
        headers={"Content-Type": media_type},
    )
    check_error(resp, 201, method="PUT")
    return "sha256:" + hashlib.sha256(body).hexdigest()


def image(
    t: Transport,
    repo: Repository,
    tag: str,
    *,
    media_type: str = OCI_MANIFEST,
    layer: bytes = b"layer",
    config: Mapping[str, Any] | None = None,
) -> tuple[str, bytes]:
    """Push a one-layer image; returns (manifest digest, manifest bytes).

    *config* is the config JSON object (default: linux/amd64, no layers).
    """
    config_raw = json.dumps(
        dict(config)
        if config is not None
        else {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}
    ).encode()
    config_digest, config_size = push_blob(t, repo, [config_raw])
    layer_digest, layer_size = push_blob(t, repo, [layer])
    docker = media_type == DOCKER_MANIFEST
    body = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": media_type,
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json"
                if docker
                else CONFIG_TYPE,
                "digest": config_digest,
                "size": config_size,
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip"
                    if docker
                    else LAYER_TYPE,
                    "digest": layer_digest,
                    "size": layer_size,
                }
            ],
            "annotations": {"org.example": "x"},
        },
        indent=1,
    ).encode()
    return push_manifest(t, repo, tag, body, media_type), body


def index(
    t: Transport,
    repo: Repository,
    tag: str,
    entries: list[tuple[str, int]],
    *,
    media_type: str = OCI_INDEX,
    child_type: str = OCI_MANIFEST,
    platforms: Sequence[Mapping[str, Any]] | None = None,
) -> tuple[str, bytes]:
    """Push an index over already pushed manifests (digest, size).

    *platforms* gives each entry's platform object (default: linux/amd64 for all).
    """
    default = {"architecture": "amd64", "os": "linux"}
    chosen = list(platforms) if platforms is not None else [default] * len(entries)
    body = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": media_type,
            "manifests": [
                {"mediaType": child_type, "digest": d, "size": s, "platform": dict(p)}
                for (d, s), p in zip(entries, chosen, strict=True)
            ],
        }
    ).encode()
    return push_manifest(t, repo, tag, body, media_type), body


#: The platforms of the multi-arch image the copy tests and benchmark build.
MULTIARCH = ("linux/amd64", "linux/arm64")


def multiarch(
    client: Client,
    repo: Repository,
    tag: str = "v1",
    *,
    layer_size: int = 4096,
    platforms: Sequence[str] = MULTIARCH,
) -> tuple[str, dict[str, list[str]]]:
    """Push an index of len(platforms) images x 3 random layers through *client*.

    Returns the index digest and each platform's blob digests (config first).
    """
    from registry_sdk.models import Descriptor, ImageIndex, ImageManifest, Platform

    children, blobs = [], {}
    for spec in platforms:
        platform = Platform.parse(spec)
        config = json.dumps(
            {
                "architecture": platform.architecture,
                "os": platform.os,
                "rootfs": {"type": "layers", "diff_ids": []},
            }
        ).encode()
        c = client.push_blob(repo, config)
        layers = [client.push_blob(repo, os.urandom(layer_size)) for _ in range(3)]
        model = ImageManifest(
            2,
            Descriptor(CONFIG_TYPE, c.digest, c.size),
            tuple(Descriptor(LAYER_TYPE, d.digest, d.size) for d in layers),
            OCI_MANIFEST,
        )
        desc = client.put_manifest(repo, model)
        children.append(Descriptor(OCI_MANIFEST, desc.digest, desc.size, platform=platform))
        blobs[spec] = [c.digest, *(d.digest for d in layers)]
    index = client.put_manifest(repo.with_tag(tag), ImageIndex(2, tuple(children), OCI_INDEX))
    return index.digest, blobs
