"""Manifest writes: put (with the rule-8 check and the referrers fallback), tag, delete.

Security rule 8: a manifest is put only after everything it points to (config and layer
blobs, or an index's child manifests) exists in the target repository, checked with
HEAD requests; a missing one is a `MissingReferences` and nothing is sent.

The referrers tag schema (OCI distribution spec 1.1, for registries without the
referrers API): the referrers of `sha256:HEX` are listed in an OCI index tagged
`sha256-HEX`. A client that puts a manifest with a `subject` to a registry that does not
answer `OCI-Subject` reads that index, adds its descriptor and puts it back, then reads
it again to detect a concurrent writer that replaced it from an older copy.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from registry_sdk._blob import digest_of
from registry_sdk._errors import (
    ConcurrentUpdate,
    DigestMismatch,
    ErrorCode,
    InvalidResponse,
    MissingReferences,
    RegistryResponseError,
    UnsupportedOperation,
)
from registry_sdk.errors import check_error
from registry_sdk.models import (
    MANIFEST_ACCEPT,
    OCI_INDEX,
    Descriptor,
    ImageIndex,
    ImageManifest,
    Manifest,
    dumps,
)
from registry_sdk.name import Digest, Repository, Tag
from registry_sdk.scope import Scope

if TYPE_CHECKING:
    import urllib3

    from registry_sdk.client import Client
    from registry_sdk.transport import Transport

__all__ = ["delete", "put_manifest", "put_present", "tag"]

log = logging.getLogger("registry_sdk.write")

#: Attempts at updating the referrers fallback index when a concurrent writer interferes.
FALLBACK_ATTEMPTS = 3
#: HEAD requests in flight at once for the rule-8 check.
CHECK_CONCURRENCY = 8
#: Layer media types whose blobs may legitimately live elsewhere (foreign layers).
_NON_DISTRIBUTABLE = ("nondistributable", "foreign")


def _resolve(
    manifest: Manifest | ImageManifest | ImageIndex | bytes, media_type: str | None
) -> tuple[bytes, str, ImageManifest | ImageIndex]:
    """The exact bytes to put, their media type and their content."""
    if isinstance(manifest, (ImageManifest, ImageIndex)):
        manifest = Manifest.from_model(manifest)  # serialised once, canonical JSON
    if isinstance(manifest, Manifest):
        return manifest.raw, media_type or manifest.media_type, manifest.content
    if isinstance(manifest, (bytes, bytearray, memoryview)):
        parsed = Manifest.parse(bytes(manifest), media_type=media_type)
        if media_type is None and parsed.content.media_type is None:
            raise InvalidResponse(
                "the manifest's media type is unknown: pass media_type= "
                "(the JSON has no mediaType)",
                what="manifest",
            )
        return parsed.raw, parsed.media_type, parsed.content
    raise TypeError(
        f"a manifest is a Manifest, ImageManifest, ImageIndex or bytes, not "
        f"{type(manifest).__name__}"
    )


def _write_scopes(repo: Repository) -> tuple[Scope, ...]:
    return (Scope.repository(repo.path, "pull", "push"),)


def _references(content: ImageManifest | ImageIndex) -> list[tuple[str, str]]:
    """(kind, digest) of everything a manifest needs in its repository."""
    if isinstance(content, ImageIndex):
        refs = [("manifests", d.digest) for d in content.manifests]
    else:
        refs = [("blobs", content.config.digest)] + [
            ("blobs", d.digest)
            for d in content.layers
            if not (d.urls and any(m in d.media_type for m in _NON_DISTRIBUTABLE))
        ]
    return list(dict.fromkeys(refs))


def _exists(t: Transport, repo: Repository, kind: str, digest: str) -> bool:
    url = t.url(f"/v2/{repo.path}/{kind}/{digest}")
    headers = {"Accept": ", ".join(MANIFEST_ACCEPT)} if kind == "manifests" else None
    resp = t.request("HEAD", url, headers=headers, scopes=_write_scopes(repo))
    if resp.status == 404:
        return False
    t.check(resp, 200, method="HEAD", url=url)
    return True


def _missing(
    t: Transport, repo: Repository, content: ImageManifest | ImageIndex
) -> tuple[str, ...]:
    refs = _references(content)
    if len(refs) <= 1:
        found = [_exists(t, repo, kind, digest) for kind, digest in refs]
    else:
        with ThreadPoolExecutor(
            min(CHECK_CONCURRENCY, len(refs)), thread_name_prefix="registry-sdk-check"
        ) as pool:
            found = list(pool.map(lambda ref: _exists(t, repo, *ref), refs))
    return tuple(digest for (_, digest), ok in zip(refs, found, strict=True) if not ok)


def _put(
    t: Transport,
    repo: Repository,
    reference: str,
    raw: bytes,
    *,
    media_type: str,
    digest: str,
    scopes: Collection[Scope] = (),
) -> bool:
    """PUT the bytes; True when the registry answered `OCI-Subject` (referrers API)."""
    url = t.url(f"/v2/{repo.path}/manifests/{reference}")
    resp = t.request("PUT", url, headers={"Content-Type": media_type}, body=raw, scopes=scopes)
    t.check(resp, 201, 200, 202, 204, method="PUT", url=url)
    resp.drain_conn()
    answered = resp.headers.get("Docker-Content-Digest")
    if answered and answered.partition(":")[0] == digest.partition(":")[0] and (answered != digest):
        raise DigestMismatch(
            f"the registry stored manifest {digest} as {answered}",
            expected=digest,
            actual=answered,
            what="manifest",
        )
    return "OCI-Subject" in resp.headers


def put_manifest(
    client: Client,
    target: Tag | Digest | Repository,
    manifest: Manifest | ImageManifest | ImageIndex | bytes,
    *,
    media_type: str | None = None,
) -> Descriptor:
    """See [Client.put_manifest][registry_sdk.client.Client.put_manifest]."""
    raw, kind, content = _resolve(manifest, media_type)
    repo = target if isinstance(target, Repository) else target.repository
    algorithm = target.digest.partition(":")[0] if isinstance(target, Digest) else "sha256"
    digest = digest_of(raw, algorithm)
    if isinstance(target, Digest) and digest != target.digest:
        raise DigestMismatch(expected=target.digest, actual=digest, what=f"manifest for {target}")
    t = client.transport(repo)
    missing = _missing(t, repo, content)
    if missing:
        raise MissingReferences(repository=str(repo), missing=missing)
    return put_present(client, target, Manifest(digest, kind, raw, content))


def put_present(
    client: Client,
    target: Tag | Digest | Repository,
    manifest: Manifest,
    *,
    scopes: Collection[Scope] = (),
) -> Descriptor:
    """PUT *manifest*'s bytes, everything it references being present (no HEADs here).

    For a caller that has just made sure of that itself (a copy checks or sends every
    blob and child first, so rule 8 holds without asking again). Updates the referrers
    fallback index as `put_manifest` does. *scopes* are added to the PUT's.
    """
    repo = target if isinstance(target, Repository) else target.repository
    raw, kind, content, digest = (
        manifest.raw,
        manifest.media_type,
        manifest.content,
        manifest.digest,
    )
    if isinstance(target, Digest) and digest != target.digest:
        raise DigestMismatch(expected=target.digest, actual=digest, what=f"manifest for {target}")
    t = client.transport(repo)
    reference = target.tag if isinstance(target, Tag) else digest
    has_referrers_api = (
        _put(t, repo, reference, raw, media_type=kind, digest=digest, scopes=scopes)
        if scopes
        else _put(t, repo, reference, raw, media_type=kind, digest=digest)
    )
    descriptor = Descriptor(kind, digest, len(raw))
    if content.subject is not None and not has_referrers_api:
        _add_referrer(client, t, repo, content.subject, _referrer_entry(descriptor, content))
    return descriptor


def _referrer_entry(descriptor: Descriptor, content: ImageManifest | ImageIndex) -> Descriptor:
    artifact_type = content.artifact_type
    if artifact_type is None and isinstance(content, ImageManifest):
        artifact_type = content.config.media_type
    return Descriptor(
        descriptor.media_type,
        descriptor.digest,
        descriptor.size,
        annotations=dict(content.annotations),
        artifact_type=artifact_type,
    )


def _fallback_tag(repo: Repository, subject: str) -> Tag:
    algorithm, _, encoded = subject.partition(":")
    return repo.with_tag(f"{algorithm[:32]}-{encoded[:64]}")


def _read_fallback(client: Client, tag: Tag) -> tuple[Descriptor, ...]:
    try:
        found = client.get_manifest(tag)
    except RegistryResponseError as exc:
        if exc.status == 404:
            return ()
        raise
    return found.content.manifests if isinstance(found.content, ImageIndex) else ()


def _add_referrer(
    client: Client, t: Transport, repo: Repository, subject: Descriptor, entry: Descriptor
) -> None:
    tag = _fallback_tag(repo, subject.digest)
    for _ in range(FALLBACK_ATTEMPTS):
        current = _read_fallback(client, tag)
        if any(d.digest == entry.digest for d in current):
            return
        index = ImageIndex(2, (*current, entry), OCI_INDEX)
        raw = dumps(index)
        _put(t, repo, tag.tag, raw, media_type=OCI_INDEX, digest=digest_of(raw))
        if any(d.digest == entry.digest for d in _read_fallback(client, tag)):
            return
        log.debug("referrers index %s was replaced concurrently; merging again", tag)
    raise ConcurrentUpdate(
        f"the referrers index {tag} kept being replaced by another "
        f"writer; {entry.digest} could not be added",
        reference=str(tag),
    )


def tag(client: Client, src: Tag | Digest, new_tag: str) -> Descriptor:
    """See [Client.tag][registry_sdk.client.Client.tag]."""
    dst = src.repository.with_tag(new_tag)
    found = client.get_manifest(src)
    t = client.transport(src.repository)
    _put(t, src.repository, dst.tag, found.raw, media_type=found.media_type, digest=found.digest)
    return found.descriptor


_TAG_DELETE_REFUSED = frozenset({ErrorCode.UNSUPPORTED, ErrorCode.DIGEST_INVALID})


def delete(client: Client, ref: Tag | Digest) -> None:
    """See [Client.delete][registry_sdk.client.Client.delete]."""
    t = client.transport(ref.repository)
    url = t.url(f"/v2/{ref.repository.path}/manifests/{ref.identifier}")
    resp = t.request("DELETE", url)
    if resp.status in (200, 202, 204):
        resp.drain_conn()
        return
    error = _error_of(resp, url)
    resp.drain_conn()
    # distribution 2.8 answers a tag delete with a misleading 400 DIGEST_INVALID (it
    # parses the tag as a digest); others say 405 or UNSUPPORTED.
    refused = isinstance(ref, Tag) and (
        resp.status in (405, 501)
        or (resp.status == 400 and bool(set(error.codes) & _TAG_DELETE_REFUSED))
    )
    if not refused or not isinstance(ref, Tag):
        raise error
    digest = client.head_manifest(ref).digest
    use = ref.repository.with_digest(digest)
    raise UnsupportedOperation(
        f"{ref.registry} cannot delete a manifest by tag ({ref.familiar}); delete it by "
        f"digest instead: {use} (that removes every tag pointing at it)",
        operation="delete tag",
        registry=ref.registry.name,
        use_instead=str(use),
    )


def _error_of(resp: urllib3.BaseHTTPResponse, url: str) -> RegistryResponseError:
    """The typed error of a failed response (returned, to be raised outside any except)."""
    try:
        check_error(resp, method="DELETE", url=url)
    except RegistryResponseError as exc:
        return exc
    raise AssertionError("unreachable: called on failed responses only")
