"""Reading: tags, catalog, manifests, blobs and referrers (what `Client` delegates to).

Every function takes the Client first; they hold no state of their own.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Collection, Iterator
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urljoin, urlsplit

from registry_sdk import _convert
from registry_sdk._blob import BlobReader, digest_of
from registry_sdk._errors import DigestMismatch, InvalidResponse, SecurityError
from registry_sdk._http import read_capped
from registry_sdk._links import next_link
from registry_sdk.errors import RegistryResponseError
from registry_sdk.models import (
    MANIFEST_ACCEPT,
    OCI_INDEX,
    Descriptor,
    ImageIndex,
    Manifest,
    TagList,
)
from registry_sdk.name import Digest, Registry, Repository, Tag, parse_reference

if TYPE_CHECKING:
    from registry_sdk.client import Client

#: Default cap on a manifest body (the OCI spec's suggested minimum registries accept).
MANIFEST_LIMIT = 4 * 1024 * 1024
#: Cap on one page of tags or catalog.
PAGE_BODY_LIMIT = 16 * 1024 * 1024
#: Most pages followed before pagination is declared runaway.
PAGE_LIMIT = 10_000


def media_type(value: str | None) -> str:
    """A Content-Type without parameters, lower-cased."""
    return (value or "").split(";", 1)[0].strip().lower()


def as_ref(ref: Tag | Digest | str) -> Tag | Digest:
    """Parse a reference string; references pass through."""
    return parse_reference(ref) if isinstance(ref, str) else ref


def as_digest(ref: Digest | str) -> Digest:
    """Parse a digest reference string; Digests pass through."""
    return Digest.parse(ref) if isinstance(ref, str) else ref


# ------------------------------------------------------------------------ pagination


def pages(
    client: Client, target: Registry | Repository, url: str, what: str, max_pages: int | None
) -> Iterator[bytes]:
    """Each page's body, following `Link: rel="next"` on the same host.

    A caller's *max_pages* ends the listing quietly; without one, more than PAGE_LIMIT
    pages is runaway pagination (InvalidResponse), as is a link back to a page read.
    """
    seen: set[str] = set()
    limit = PAGE_LIMIT if max_pages is None else max_pages
    for _ in range(limit):
        if url in seen:
            raise InvalidResponse(f"{what} pagination loops back to a page already read", what=what)
        seen.add(url)
        resp, t = client.send(target, "GET", url, preload_content=False)
        client.check(resp, t, "GET", url)
        links = resp.headers.getlist("Link")
        yield read_capped(resp, PAGE_BODY_LIMIT, what, method="GET", url=url)
        link = next_link(links)
        if link is None:
            return
        following = urljoin(url, link)
        if urlsplit(following)[:2] != urlsplit(url)[:2]:
            raise SecurityError(
                f"{what} pagination points to another host", rule="cross-host", url=following
            )
        url = following
    if max_pages is None:
        raise InvalidResponse(f"{what} has more than {PAGE_LIMIT} pages", what=what)


def iter_tags(
    client: Client, repo: Repository, page_size: int | None, max_pages: int | None
) -> Iterator[str]:
    """A repository's tags, one page at a time."""
    t = client.transport(repo)
    query = f"?{urlencode({'n': page_size})}" if page_size else ""
    url = t.url(f"/v2/{repo.path}/tags/list{query}")
    for body in pages(client, repo, url, "tag list", max_pages):
        yield from _convert.loads(body, TagList, "tag list").tags


def iter_catalog(
    client: Client, registry: Registry, page_size: int | None, max_pages: int | None
) -> Iterator[str]:
    """The registry's repositories, one page at a time."""
    t = client.transport(registry)
    query = f"?{urlencode({'n': page_size})}" if page_size else ""
    for body in pages(client, registry, t.url(f"/v2/_catalog{query}"), "catalog", max_pages):
        try:
            repos = json.loads(body).get("repositories") or []
        except (ValueError, AttributeError):
            repos = None
        if not isinstance(repos, list) or not all(isinstance(r, str) for r in repos):
            raise InvalidResponse("catalog 'repositories' is not a list of names", what="catalog")
        yield from repos


# ------------------------------------------------------------------------- manifests


def get_manifest(
    client: Client, ref: Tag | Digest, accept: Collection[str], max_size: int
) -> Manifest:
    """Fetch a manifest or index and verify its bytes (see Client.get_manifest)."""
    t = client.transport(ref.repository)
    url = t.url(f"/v2/{ref.repository.path}/manifests/{ref.identifier}")
    resp, t = client.send(
        ref.repository, "GET", url, headers={"Accept": ", ".join(accept)}, preload_content=False
    )
    client.check(resp, t, "GET", url)
    header_digest = resp.headers.get("Docker-Content-Digest")
    content_type = media_type(resp.headers.get("Content-Type"))
    raw = read_capped(resp, max_size, "manifest", method="GET", url=url)
    digest = verify(raw, ref, header_digest)
    return Manifest.parse(raw, media_type=content_type or None, digest=digest)


def verify(raw: bytes, ref: Tag | Digest, header: str | None) -> str:
    """The digest of manifest bytes fetched by *ref*, checked (rule 6).

    By digest, the bytes must hash to it; by tag, to `Docker-Content-Digest` when sent.
    """
    for expected in ((ref.digest,) if isinstance(ref, Digest) else ()) + (
        (header,) if header else ()
    ):
        actual = digest_of(raw, expected.partition(":")[0])
        if actual != expected:
            raise DigestMismatch(expected=expected, actual=actual, what=f"manifest {ref}")
    return ref.digest if isinstance(ref, Digest) else header or digest_of(raw)


def head_manifest(client: Client, ref: Tag | Digest) -> Descriptor:
    """The manifest's descriptor from a HEAD; a GET when the HEAD lacks its digest."""
    t = client.transport(ref.repository)
    url = t.url(f"/v2/{ref.repository.path}/manifests/{ref.identifier}")
    resp, t = client.send(
        ref.repository, "HEAD", url, headers={"Accept": ", ".join(MANIFEST_ACCEPT)}
    )
    client.check(resp, t, "HEAD", url)
    digest = resp.headers.get("Docker-Content-Digest")
    length = resp.headers.get("Content-Length", "")
    if not digest or not length.isdigit():
        return get_manifest(client, ref, MANIFEST_ACCEPT, MANIFEST_LIMIT).descriptor
    if isinstance(ref, Digest) and digest != ref.digest:
        raise DigestMismatch(expected=ref.digest, actual=digest, what=f"manifest {ref}")
    return Descriptor(media_type(resp.headers.get("Content-Type")), digest, int(length))


# ----------------------------------------------------------------------------- blobs


@contextlib.contextmanager
def get_blob(client: Client, ref: Digest) -> Iterator[BlobReader]:
    """Stream a blob, verified as it is read (see Client.get_blob)."""
    t = client.transport(ref.repository)
    url = t.url(f"/v2/{ref.repository.path}/blobs/{ref.digest}")
    resp, t = client.send(ref.repository, "GET", url, preload_content=False)
    client.check(resp, t, "GET", url)
    reader = BlobReader(resp, ref.digest, name=str(ref))
    try:
        yield reader
    finally:
        reader.close()


# ------------------------------------------------------------------------- referrers


def referrers(client: Client, ref: Digest, artifact_type: str | None) -> ImageIndex:
    """Manifests whose subject is *ref* (the API, or the tag-schema fallback)."""
    t = client.transport(ref.repository)
    query = f"?{urlencode({'artifactType': artifact_type})}" if artifact_type else ""
    url = t.url(f"/v2/{ref.repository.path}/referrers/{ref.digest}{query}")
    resp, t = client.send(
        ref.repository, "GET", url, headers={"Accept": OCI_INDEX}, preload_content=False
    )
    if resp.status == 404:
        resp.drain_conn()
        index = referrers_fallback(client, ref)
        filtered = False
    else:
        client.check(resp, t, "GET", url)
        filtered = "artifactType" in resp.headers.get("OCI-Filters-Applied", "")
        index = _convert.loads(
            read_capped(resp, MANIFEST_LIMIT, "referrers", url=url), ImageIndex, "referrers"
        )
    if artifact_type and not filtered:
        kept = tuple(d for d in index.manifests if d.artifact_type == artifact_type)
        index = ImageIndex(index.schema_version, kept, index.media_type)
    return index


def fallback_tag(ref: Digest) -> Tag:
    """The referrers tag-schema fallback tag for *ref*: `<alg>-<hex>`."""
    algorithm, _, encoded = ref.digest.partition(":")
    return ref.repository.with_tag(f"{algorithm[:32]}-{encoded[:64]}")


def referrers_fallback(client: Client, ref: Digest) -> ImageIndex:
    """The referrers index kept under the fallback tag; empty when there is none."""
    try:
        found = get_manifest(client, fallback_tag(ref), MANIFEST_ACCEPT, MANIFEST_LIMIT)
    except RegistryResponseError as exc:
        if exc.status != 404:
            raise
        found = None
    if found is not None and isinstance(found.content, ImageIndex):
        return found.content
    return ImageIndex(2, (), OCI_INDEX)
