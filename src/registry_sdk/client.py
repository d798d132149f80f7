"""`Client`: typed registry operations over one pool, one token cache and a keychain.

```python
from registry_sdk import Client, Repository

client = Client()                      # DefaultKeychain, https
repo = Repository.parse("ghcr.io/org/app")
print(client.list_tags(repo))
manifest = client.get_manifest(repo.with_tag("v1"))
print(manifest.digest, manifest.media_type)
```

Thread-safe: transports, challenges and tokens are shared across threads, and one token
exchange happens per scope however many threads ask.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Collection, Iterable, Iterator
from typing import IO
from urllib.parse import urlencode, urljoin, urlsplit

import urllib3

from registry_sdk import _convert, _push, _write
from registry_sdk._blob import BlobReader, digest_of
from registry_sdk._links import next_link
from registry_sdk._token import TokenCache
from registry_sdk.authn import DefaultKeychain, Keychain
from registry_sdk.errors import (
    DigestMismatch,
    InvalidResponse,
    RegistryResponseError,
    SecurityError,
    check_error,
)
from registry_sdk.models import (
    INDEX_MEDIA_TYPES,
    MANIFEST_ACCEPT,
    MANIFEST_MEDIA_TYPES,
    OCI_INDEX,
    Descriptor,
    ImageIndex,
    ImageManifest,
    Manifest,
    TagList,
)
from registry_sdk.name import Digest, Registry, Repository, Tag, parse_reference
from registry_sdk.progress import Progress
from registry_sdk.transport import RegistryState, Transport, read_capped

__all__ = [
    "Client",
    "MANIFEST_LIMIT",
    "PAGE_LIMIT",
    "default_client",
]

#: Default cap on a manifest body (the OCI spec's suggested minimum registries accept).
MANIFEST_LIMIT = 4 * 1024 * 1024
#: Cap on one page of tags or catalog.
PAGE_BODY_LIMIT = 16 * 1024 * 1024
#: How many resolved targets (repositories) a Client remembers.
_TARGET_CACHE_LIMIT = 4096
#: Most pages followed before pagination is declared runaway.
PAGE_LIMIT = 10_000


def _media_type(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


def _as_ref(ref: Tag | Digest | str) -> Tag | Digest:
    return parse_reference(ref) if isinstance(ref, str) else ref


class Client:
    """Registry operations with typed results.

    Args:
        keychain: where credentials come from (default: a
            [DefaultKeychain][registry_sdk.authn.DefaultKeychain]).
        retries, timeout, user_agent, ca_certs: as for
            [Transport][registry_sdk.transport.Transport].
        insecure: names of registries (`host[:port]`) allowed plain http.
    """

    def __init__(
        self,
        *,
        keychain: Keychain | None = None,
        retries: urllib3.Retry | None = None,
        timeout: urllib3.Timeout | None = None,
        user_agent: str | None = None,
        insecure: Collection[str] = (),
        ca_certs: str | None = None,
    ) -> None:
        self.keychain: Keychain = keychain if keychain is not None else DefaultKeychain()
        self._retries, self._timeout = retries, timeout
        self._user_agent, self._ca_certs = user_agent, ca_certs
        self._insecure = frozenset(Registry.parse(r).name for r in insecure)
        self._pool = urllib3.PoolManager(ca_certs=ca_certs, cert_reqs="CERT_REQUIRED",
                                         maxsize=16)
        self.token_cache = TokenCache()
        self._states: dict[str, RegistryState] = {}
        self._transports: dict[tuple[str, str], Transport] = {}
        self._by_target: dict[str, Transport] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Client(keychain={self.keychain!r})"

    def transport(self, target: Registry | Repository) -> Transport:
        """The shared transport for *target*, with the keychain's credentials for it."""
        key = str(target)
        found = self._by_target.get(key)
        if found is not None:
            return found
        auth = self.keychain.resolve(target)
        registry = target.registry if isinstance(target, Repository) else target
        identity = auth.authorization().identity
        with self._lock:
            state = self._states.setdefault(registry.name, RegistryState())
            transport = self._transports.get((registry.name, identity))
            if transport is None:
                transport = Transport(
                    registry, auth, pool=self._pool, token_cache=self.token_cache,
                    state=state, insecure=registry.name in self._insecure,
                    retries=self._retries, timeout=self._timeout,
                    user_agent=self._user_agent, ca_certs=self._ca_certs)
                self._transports[(registry.name, identity)] = transport
            if len(self._by_target) >= _TARGET_CACHE_LIMIT:
                self._by_target.clear()  # bounded: resolved again on next use
            self._by_target[key] = transport
        return transport

    # -------------------------------------------------------------- pagination

    def _pages(self, t: Transport, url: str, what: str, max_pages: int) -> Iterator[bytes]:
        seen: set[str] = set()
        for _ in range(max_pages):
            if url in seen:
                raise InvalidResponse(f"{what} pagination loops back to a page already read",
                                      what=what)
            seen.add(url)
            resp = t.request("GET", url, preload_content=False)
            check_error(resp, method="GET", url=url)
            links = resp.headers.getlist("Link")
            yield read_capped(resp, PAGE_BODY_LIMIT, what, method="GET", url=url)
            link = next_link(links)
            if link is None:
                return
            following = urljoin(url, link)
            if urlsplit(following)[:2] != urlsplit(url)[:2]:
                raise SecurityError(f"{what} pagination points to another host",
                                    rule="cross-host", url=following)
            url = following
        raise InvalidResponse(f"{what} has more than {max_pages} pages", what=what)

    def iter_tags(self, repo: Repository | str, *, page_size: int | None = None,
                  max_pages: int = PAGE_LIMIT) -> Iterator[str]:
        """Yield the repository's tags page by page, following `Link: rel="next"`."""
        repo = Repository.parse(repo) if isinstance(repo, str) else repo
        t = self.transport(repo)
        query = f"?{urlencode({'n': page_size})}" if page_size else ""
        url = t.url(f"/v2/{repo.path}/tags/list{query}")
        for body in self._pages(t, url, "tag list", max_pages):
            yield from _convert.loads(body, TagList, "tag list").tags

    def list_tags(self, repo: Repository | str, *, page_size: int | None = None) -> list[str]:
        """All tags of *repo* (every page)."""
        return list(self.iter_tags(repo, page_size=page_size))

    def catalog(self, registry: Registry | str, *, page_size: int | None = None,
                max_pages: int = PAGE_LIMIT) -> list[str]:
        """The registry's repositories (`/v2/_catalog`, every page)."""
        registry = Registry.parse(registry) if isinstance(registry, str) else registry
        t = self.transport(registry)
        query = f"?{urlencode({'n': page_size})}" if page_size else ""
        names: list[str] = []
        for body in self._pages(t, t.url(f"/v2/_catalog{query}"), "catalog", max_pages):
            try:
                repos = json.loads(body).get("repositories") or []
            except (ValueError, AttributeError):
                raise InvalidResponse("catalog is not a JSON object", what="catalog") from None
            if not isinstance(repos, list) or not all(isinstance(r, str) for r in repos):
                raise InvalidResponse("catalog 'repositories' is not a list of names",
                                      what="catalog")
            names.extend(repos)
        return names

    # --------------------------------------------------------------- manifests

    def get_manifest(self, ref: Tag | Digest | str, *,
                     accept: Collection[str] = MANIFEST_ACCEPT,
                     max_size: int = MANIFEST_LIMIT) -> Manifest:
        """Fetch and verify a manifest or index.

        By digest, the body must hash to that digest; by tag, it must match
        `Docker-Content-Digest` when the registry sends one.

        Raises:
            RegistryResponseError, DigestMismatch, InvalidResponse (too large, bad JSON,
            wrong shape, media type mismatch).
        """
        ref = _as_ref(ref)
        t = self.transport(ref.repository)
        url = t.url(f"/v2/{ref.repository.path}/manifests/{ref.identifier}")
        resp = t.request("GET", url, headers={"Accept": ", ".join(accept)},
                         preload_content=False)
        check_error(resp, method="GET", url=url)
        header_digest = resp.headers.get("Docker-Content-Digest")
        content_type = _media_type(resp.headers.get("Content-Type"))
        raw = read_capped(resp, max_size, "manifest", method="GET", url=url)
        digest = self._verify(raw, ref, header_digest)
        return self._decode(raw, content_type, digest)

    @staticmethod
    def _verify(raw: bytes, ref: Tag | Digest, header: str | None) -> str:
        for expected in ((ref.digest,) if isinstance(ref, Digest) else ()) + (
                (header,) if header else ()):
            actual = digest_of(raw, expected.partition(":")[0])
            if actual != expected:
                raise DigestMismatch(expected=expected, actual=actual, what="manifest")
        return ref.digest if isinstance(ref, Digest) else header or digest_of(raw)

    @staticmethod
    def _decode(raw: bytes, content_type: str, digest: str) -> Manifest:
        try:
            doc = json.loads(raw)
        except ValueError:
            raise InvalidResponse("manifest is not valid JSON", what="manifest") from None
        if not isinstance(doc, dict):
            raise InvalidResponse("manifest is not a JSON object", what="manifest")
        body_type = doc.get("mediaType")
        known = MANIFEST_MEDIA_TYPES | INDEX_MEDIA_TYPES
        if content_type in known and isinstance(body_type, str) and body_type != content_type:
            raise InvalidResponse(f"manifest mediaType {body_type!r} disagrees with "
                                  f"Content-Type {content_type!r}", what="manifest")
        media_type = content_type if content_type in known else (
            body_type if isinstance(body_type, str) else content_type)
        is_index = media_type in INDEX_MEDIA_TYPES or (
            media_type not in MANIFEST_MEDIA_TYPES and "manifests" in doc)
        if media_type not in known and not is_index and "config" not in doc:
            raise InvalidResponse(f"unsupported manifest media type {media_type!r}",
                                  what="manifest")
        content: ImageManifest | ImageIndex = (
            _convert.structure(doc, ImageIndex, "index") if is_index
            else _convert.structure(doc, ImageManifest, "manifest"))
        return Manifest(digest, media_type, raw, content)

    def head_manifest(self, ref: Tag | Digest | str) -> Descriptor:
        """The manifest's descriptor from a HEAD.

        Falls back to GET when the registry's HEAD lacks `Docker-Content-Digest`.
        """
        ref = _as_ref(ref)
        t = self.transport(ref.repository)
        url = t.url(f"/v2/{ref.repository.path}/manifests/{ref.identifier}")
        resp = t.request("HEAD", url, headers={"Accept": ", ".join(MANIFEST_ACCEPT)})
        check_error(resp, method="HEAD", url=url)
        digest = resp.headers.get("Docker-Content-Digest")
        length = resp.headers.get("Content-Length", "")
        if not digest or not length.isdigit():
            return self.get_manifest(ref).descriptor
        if isinstance(ref, Digest) and digest != ref.digest:
            raise DigestMismatch(expected=ref.digest, actual=digest, what="manifest")
        return Descriptor(_media_type(resp.headers.get("Content-Type")), digest, int(length))

    def digest(self, ref: Tag | Digest | str) -> str:
        """The digest a tag (or digest) currently resolves to."""
        return self.head_manifest(ref).digest

    # ------------------------------------------------------------------- blobs

    @contextlib.contextmanager
    def get_blob(self, ref: Digest | str) -> Iterator[BlobReader]:
        """Stream a blob; its size and digest are verified as it is read.

        ```python
        with client.get_blob(ref) as blob:
            for chunk in blob:
                out.write(chunk)      # DigestMismatch is raised at the end if bad
        ```
        """
        ref = Digest.parse(ref) if isinstance(ref, str) else ref
        t = self.transport(ref.repository)
        url = t.url(f"/v2/{ref.repository.path}/blobs/{ref.digest}")
        resp = t.request("GET", url, preload_content=False)
        check_error(resp, method="GET", url=url)
        reader = BlobReader(resp, ref.digest)
        try:
            yield reader
        finally:
            reader.close()

    # --------------------------------------------------------------- referrers

    def referrers(self, ref: Digest | str, *, artifact_type: str | None = None) -> ImageIndex:
        """Manifests whose `subject` is *ref*.

        Uses the referrers API, or the tag-schema fallback (`sha256-<hex>`) on
        registries without it.
        """
        ref = Digest.parse(ref) if isinstance(ref, str) else ref
        t = self.transport(ref.repository)
        query = f"?{urlencode({'artifactType': artifact_type})}" if artifact_type else ""
        url = t.url(f"/v2/{ref.repository.path}/referrers/{ref.digest}{query}")
        resp = t.request("GET", url, headers={"Accept": OCI_INDEX}, preload_content=False)
        if resp.status == 404:
            resp.drain_conn()
            index = self._referrers_fallback(ref)
            filtered = False
        else:
            check_error(resp, method="GET", url=url)
            filtered = "artifactType" in resp.headers.get("OCI-Filters-Applied", "")
            index = _convert.loads(read_capped(resp, MANIFEST_LIMIT, "referrers", url=url),
                                   ImageIndex, "referrers")
        if artifact_type and not filtered:
            kept = tuple(d for d in index.manifests if d.artifact_type == artifact_type)
            index = ImageIndex(index.schema_version, kept, index.media_type)
        return index

    def _referrers_fallback(self, ref: Digest) -> ImageIndex:
        algorithm, _, encoded = ref.digest.partition(":")
        tag = ref.repository.with_tag(f"{algorithm[:32]}-{encoded[:64]}")
        try:
            found = self.get_manifest(tag)
        except RegistryResponseError as exc:
            if exc.status == 404:
                return ImageIndex(2, (), OCI_INDEX)
            raise
        if isinstance(found.content, ImageIndex):
            return found.content
        return ImageIndex(2, (), OCI_INDEX)

    # ---- writing

    def blob_exists(self, ref: Digest | str) -> Descriptor | None:
        """The blob's descriptor when *ref*'s repository has it (one HEAD), else None."""
        return _push.blob_exists(self, Digest.parse(ref) if isinstance(ref, str) else ref)

    def push_blob(self, repo: Repository | str,
                  source: bytes | str | os.PathLike[str] | IO[bytes] | Iterable[bytes], *,
                  digest: str | None = None, size: int | None = None,
                  mount_from: Iterable[Repository | str] = (),
                  progress: Progress | None = None) -> Descriptor:
        """Upload a blob (bytes, a path, a binary file or an iterable of bytes).

        With the digest known up front (bytes; *digest* given; a path or seekable file,
        hashed first) an existing blob costs one HEAD and `mount_from` repositories of
        the same registry are tried before any upload. Small blobs go in one POST + PUT,
        larger ones in PATCH chunks, hashed while sent, memory flat. A broken upload
        resumes where the session stands, or starts again when the source can be re-read.

        Raises:
            DigestMismatch: the bytes disagree with *digest* or *size* (nothing is
                committed; the session is cancelled).
            UploadError: the upload could not be finished (the session is cancelled).
            RegistryResponseError, TransportError: as for every request.
        """
        repo = Repository.parse(repo) if isinstance(repo, str) else repo
        return _push.push_blob(self, repo, source, digest=digest, size=size,
                               mount_from=mount_from, progress=progress)

    def mount_blob(self, src: Digest | str, dst: Repository | str) -> bool:
        """Mount blob *src* into *dst* (same registry): True when mounted.

        When the registry opens an upload session instead, it is cancelled and the
        answer is False.
        """
        return _push.mount_blob(self, Digest.parse(src) if isinstance(src, str) else src,
                                Repository.parse(dst) if isinstance(dst, str) else dst)

    def put_manifest(self, target: Tag | Digest | Repository,
                     manifest: Manifest | ImageManifest | ImageIndex | bytes, *,
                     media_type: str | None = None) -> Descriptor:
        """Put a manifest by tag, by digest, or by digest alone (a `Repository` target).

        A fetched `Manifest` is sent as its exact bytes, a model serialised once, raw
        bytes as they are. Everything it references must already be in the target
        repository (security rule 8). A manifest with a `subject` on a registry without
        the referrers API also updates the referrers fallback index.

        Raises:
            MissingReferences: blobs or child manifests are missing; nothing is put.
            DigestMismatch: the bytes do not hash to a `Digest` target, or the registry
                stored a different digest.
            InvalidResponse: raw bytes of no known media type.
        """
        return _write.put_manifest(self, target, manifest, media_type=media_type)

    def tag(self, src: Tag | Digest | str, new_tag: str) -> Descriptor:
        """Tag the manifest *src* points at as *new_tag* in the same repository.

        The manifest's bytes are kept exactly, so its digest does not change.
        """
        return _write.tag(self, parse_reference(src) if isinstance(src, str) else src, new_tag)

    def delete(self, ref: Tag | Digest | str) -> None:
        """Delete a manifest by digest (or by tag where the registry supports it).

        Raises:
            UnsupportedOperation: the registry cannot delete by tag; `use_instead`
                names the digest reference to delete.
        """
        _write.delete(self, parse_reference(ref) if isinstance(ref, str) else ref)

    def delete_blob(self, ref: Digest | str) -> None:
        """Delete a blob from a repository."""
        _push.delete_blob(self, Digest.parse(ref) if isinstance(ref, str) else ref)


_default: Client | None = None
_default_lock = threading.Lock()


def default_client() -> Client:
    """The process-wide Client the `Repository` sugar uses (created on first use)."""
    global _default  # noqa: PLW0603 (one lazily created process-wide instance)
    with _default_lock:
        if _default is None:
            _default = Client()
        return _default
